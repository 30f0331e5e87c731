from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = _("Documents and archive")

    def ready(self):
        # Signals rather than calls in each service: a covered row saved from any present or future write
        # path is logged (documents/coverage.py). ledger_tasks: Celery's autodiscovery finds only tasks.py.
        from . import coverage, ledger_tasks  # noqa: F401

        coverage.cover_the_product()
