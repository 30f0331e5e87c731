from django.urls import path

from . import batch_views, delegation_views, notification_views, views

app_name = "flows"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("matters/", views.matter_list, name="matter_list"),
    path("matters/new/", views.matter_new, name="matter_new"),
    path("matters/new/<str:transaction_type>/", views.matter_create, name="matter_create"),
    path("matters/<int:pk>/", views.matter_detail, name="matter_detail"),
    path("matters/<int:pk>/withdraw/", views.matter_withdraw, name="matter_withdraw"),
    path("tasks/<int:task_id>/perform/", views.perform_step, name="perform_step"),
    path("tasks/<int:task_id>/take/", views.task_take, name="task_take"),
    path("meetings/", views.meeting_list, name="meeting_list"),
    path("meetings/new/", views.meeting_create, name="meeting_create"),
    path("meetings/sign-in-sheet.xlsx", views.sign_in_sheet_template, name="sign_in_sheet_template"),
    path("meetings/notices/new/", views.meeting_notice_create, name="meeting_notice_create"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting_detail"),
    path("objections/<int:pk>/handle/", views.objection_handle, name="objection_handle"),
    path("batch/", batch_views.batch_confirm, name="batch_confirm"),
    path("delegations/", delegation_views.delegation_list, name="delegations"),
    path("delegations/<int:pk>/end/", delegation_views.delegation_end, name="delegation_end"),
    path("notifications/", notification_views.notification_centre, name="notifications"),
    path("notifications/read/", notification_views.notifications_mark_read, name="notifications_mark_read"),
    path("notifications/poll/", notification_views.notifications_poll, name="notifications_poll"),
    path("notifications/<int:pk>/open/", notification_views.notification_open, name="notification_open"),
]
