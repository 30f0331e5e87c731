from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AdministrationConfig(AppConfig):
    """The three administrators (三员分立), the security log, authentication policy and backups.

    It sits above every business app: they announce events through organizations.signals, and the
    receivers here write the log."""

    name = "administration"
    verbose_name = _("Administration and security")

    def ready(self):
        from . import admin_site, receivers  # noqa: F401
