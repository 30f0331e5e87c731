from django.urls import path

from . import certificate_views, views, warning_views

app_name = "registers"

urlpatterns = [
    path("assets/", views.asset_list, name="asset_list"),
    path("assets/export/", views.asset_export, name="asset_export"),
    path("assets/<int:pk>/", views.asset_detail, name="asset_detail"),
    path("funds/", views.fund_account_list, name="fund_account_list"),
    path("funds/export/", views.fund_account_export, name="fund_account_export"),
    path("funds/<int:pk>/", views.fund_account_detail, name="fund_account_detail"),
    path("funds/<int:pk>/export/", views.fund_movement_export, name="fund_movement_export"),
    path("resources/", views.resource_list, name="resource_list"),
    path("resources/export/", views.resource_export, name="resource_export"),
    path("resources/<int:pk>/", views.resource_detail, name="resource_detail"),
    path("contracts/", views.contract_list, name="contract_list"),
    path("contracts/export/", views.contract_export, name="contract_export"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract_detail"),
    path("members/", views.member_list, name="member_list"),
    path("members/export/", views.member_export, name="member_export"),
    path("members/<int:pk>/", views.member_detail, name="member_detail"),
    path("shares/", views.share_holdings, name="share_holdings"),
    path("shares/export/", views.share_holdings_export, name="share_holdings_export"),
    path("shares/ledger/", views.share_ledger, name="share_ledger"),
    path("shares/ledger/export/", views.share_ledger_export, name="share_ledger_export"),
    path("certificates/<int:pk>/pdf/", certificate_views.certificate_pdf, name="certificate_pdf"),
    path("warnings/", warning_views.warning_list, name="warning_list"),
    path("warnings/<int:pk>/", warning_views.warning_detail, name="warning_detail"),
    path("warnings/<int:pk>/handle/", warning_views.warning_handle_view, name="warning_handle"),
]
