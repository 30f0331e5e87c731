"""The Celery application: broker from settings (Redis, or a SQLite file when there is none)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings.dev")

app = Celery("project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def schedule_periodic_work(sender, **kwargs):
    from django.conf import settings

    sender.add_periodic_task(
        settings.PUBLICATION_SWEEP_SECONDS,
        sender.signature("flows.tasks.close_due_publications"),
        name="close due publications",
    )
    sender.add_periodic_task(
        settings.LEDGER_CHECKPOINT_SECONDS,
        sender.signature("documents.ledger_tasks.ledger_checkpoint_task"),
        name="ledger checkpoint",
    )
    sender.add_periodic_task(
        600,
        sender.signature("documents.tasks.render_stale_documents"),
        name="render documents whose message was lost",
    )
    sender.add_periodic_task(
        settings.REMINDER_SWEEP_SECONDS,
        sender.signature("flows.tasks.send_due_reminders"),
        name="remind and escalate waiting tasks",
    )
    sender.add_periodic_task(
        settings.WARNING_SWEEP_SECONDS,
        sender.signature("registers.tasks.scan_early_warnings"),
        name="early-warning rules",
    )
    sender.add_periodic_task(
        settings.OVERSIGHT_REBUILD_SECONDS,
        sender.signature("oversight.tasks.rebuild_figures"),
        name="rebuild the statistics",
    )
