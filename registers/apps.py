from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistersConfig(AppConfig):
    name = "registers"
    verbose_name = _("Registers")

    def ready(self):
        # signals: a saved payment or contract queues its early-warning check (the module says why signals).
        from . import signals  # noqa: F401
