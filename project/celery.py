"""The Celery application: broker from settings (Redis, or a SQLite file when there is none)."""

import datetime
import os

from celery import Celery
from celery.schedules import crontab

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
        settings.LEDGER_SEQUENCER_SECONDS,
        sender.signature("documents.ledger_tasks.sequence_ledger"),
        name="ledger sequencer",
    )
    sender.add_periodic_task(
        settings.LEDGER_CHECK_SECONDS,
        sender.signature("documents.tasks.check_ledger", kwargs={"check_files": False}),
        name="ledger check without the files",
    )
    sender.add_periodic_task(
        crontab(hour=settings.LEDGER_FILE_CHECK_HOUR, minute=15),
        sender.signature("documents.tasks.check_ledger", kwargs={"check_files": True}),
        name="ledger check with the files",
    )
    sender.add_periodic_task(
        settings.JOB_SWEEP_SECONDS,
        sender.signature("documents.tasks.render_stale_documents"),
        name="render documents whose job was lost",
    )
    sender.add_periodic_task(
        settings.JOB_REQUEUE_SECONDS,
        sender.signature("registers.tasks.render_missing_certificates"),
        name="render certificates whose job was lost",
    )
    sender.add_periodic_task(
        settings.JOB_REQUEUE_SECONDS,
        sender.signature("imports.resume_imports"),
        name="resume imports whose job was lost",
    )
    sender.add_periodic_task(
        3600,
        sender.signature("project.celery.purge_handled_messages"),
        name="purge handled messages from the SQLite broker",
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


# Handled messages of the SQLite broker: kombu marks a delivered message invisible and never deletes it.
HANDLED_MESSAGE_RETENTION = datetime.timedelta(days=1)


@app.task(name="project.celery.purge_handled_messages")
def purge_handled_messages() -> int:
    """Delete the SQLite broker's messages delivered more than a day ago; nothing to do on Redis."""
    from django.conf import settings
    from sqlalchemy import create_engine, text

    url = settings.CELERY_BROKER_URL
    if not url.startswith("sqla+"):
        return 0
    engine = create_engine(url.removeprefix("sqla+"))
    try:
        with engine.begin() as connection:
            # kombu stamps the column with the local, naive time of the delivery.
            before = datetime.datetime.now() - HANDLED_MESSAGE_RETENTION
            deleted = connection.execute(
                text("DELETE FROM kombu_message WHERE visible = :handled AND timestamp < :before"),
                {"handled": False, "before": before},
            )
            return deleted.rowcount
    finally:
        engine.dispose()
