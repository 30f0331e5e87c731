from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = _("Documents and archive")

    def ready(self):
        # signals: connects the tamper-evident log to the rows it records (the module says why signals).
        # ledger_tasks: Celery's autodiscovery finds only tasks.py, so the checkpoint task registers here.
        from . import ledger_tasks, signals  # noqa: F401
