from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

# The admin site is the county administrator's: its titles in the product's words, not "Django site admin".
admin.site.site_header = _("Collective assets approvals: administration")
admin.site.site_title = _("Administration")
admin.site.index_title = _("Organisations, people and rules")

urlpatterns = [
    path("", include("flows.urls")),
    path("board/", include("flows.board_urls")),
    path("registers/", include("registers.urls")),
    path("documents/", include("documents.urls")),
    path("administration/", include("administration.urls")),
    path("statistics/", include("oversight.urls")),
    path("rules/", include("rulebook.urls")),
    path("imports/", include("imports.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
