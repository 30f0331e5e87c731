from django.urls import path

from . import board

app_name = "board"

urlpatterns = [
    path("", board.board_index, name="index"),
    path("villages/<int:pk>/", board.board_village, name="village"),
    path("notices/<int:pk>/", board.notice_detail, name="notice"),
    path("meeting-notices/<int:pk>/", board.meeting_notice_detail, name="meeting_notice"),
    path("objections/", board.objection_lookup, name="objection_lookup"),
    path("objections/received/", board.objection_received, name="objection_received"),
]
