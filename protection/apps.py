from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProtectionConfig(AppConfig):
    """Ground floor beside organizations/: personal-data encryption and masking, client addresses behind
    trusted proxies, rate-limit counters and request guards. It imports no app above it."""

    name = "protection"
    verbose_name = _("Data and abuse protection")
