from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationsConfig(AppConfig):
    name = "organizations"
    verbose_name = _("Organisations and rules")

    def ready(self):
        from . import history_saves

        # History rows only where a value changed (every app's recorded models are loaded by now).
        history_saves.connect()
