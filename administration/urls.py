from django.urls import path

from . import views

app_name = "administration"

urlpatterns = [
    path("", views.home, name="home"),
    path("organizations/", views.organizations, name="organizations"),
    path("accounts/", views.accounts, name="accounts"),
    path("accounts/<int:pk>/", views.account_detail, name="account_detail"),
    path("accounts/<int:pk>/active/", views.account_active, name="account_active"),
    path("posts/<int:pk>/revoke/", views.post_revoke, name="post_revoke"),
    path("security/policy/", views.policy, name="policy"),
    path("security/lockouts/", views.lockouts, name="lockouts"),
    path("security/sessions/", views.sessions, name="sessions"),
    path("security/sessions/<int:pk>/end/", views.session_end, name="session_end"),
    path("security/accounts/", views.security_accounts, name="security_accounts"),
    path("security/accounts/<int:pk>/mfa-reset/", views.mfa_reset, name="mfa_reset"),
    path("security/accounts/<int:pk>/password-reset/", views.password_reset, name="password_reset"),
    path("audit/log/", views.security_log, name="security_log"),
    path("audit/log/export/", views.security_log_export, name="security_log_export"),
    path("audit/log/verify/", views.security_log_verify, name="security_log_verify"),
    path("audit/log/purge/", views.security_log_purge, name="security_log_purge"),
    path("account/password/", views.password_change, name="password_change"),
    path("account/two-factor/", views.mfa_setup, name="mfa_setup"),
    path("account/two-factor/verify/", views.mfa_verify, name="mfa_verify"),
]
