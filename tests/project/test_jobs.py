"""Jobs safe to lose: how they are sent, and the Celery settings and beat sweeps that make them so."""

import logging
from unittest import mock

from django.conf import settings
from kombu.exceptions import OperationalError as BrokerDown

from documents.tasks import render_document
from project.celery import app
from project.jobs import enqueue, enqueue_on_commit


def test_enqueue_sends_the_job_and_says_so():
    with mock.patch.object(render_document, "apply_async") as sent:
        assert enqueue(render_document, 7, countdown=3) is True
    sent.assert_called_once_with((7,), countdown=3)


def test_a_broker_outage_is_logged_not_raised(caplog):
    with mock.patch.object(render_document, "apply_async", side_effect=BrokerDown("Error 111 connecting")):
        with caplog.at_level(logging.ERROR, logger="project.jobs"):
            assert enqueue(render_document, 7) is False
    assert "the sweep will queue it again" in caplog.text


def test_enqueue_on_commit_waits_for_the_commit(db, django_capture_on_commit_callbacks):
    with mock.patch.object(render_document, "apply_async") as sent:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            enqueue_on_commit(render_document, 7)
        sent.assert_not_called()
        callbacks[0]()
    sent.assert_called_once_with((7,))


def test_jobs_are_acknowledged_when_done_and_given_back_when_their_worker_dies():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    if settings.REDIS_URL:
        options = app.conf.broker_transport_options
        assert options["visibility_timeout"] == settings.REDIS_VISIBILITY_TIMEOUT > 600  # the longest retry back-off


def test_beat_sweeps_for_every_kind_of_lost_job():
    app.loader.import_default_modules()
    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert schedule["documents.tasks.render_stale_documents"] == settings.JOB_SWEEP_SECONDS
    assert schedule["registers.tasks.render_missing_certificates"] == settings.JOB_REQUEUE_SECONDS
    assert schedule["flows.tasks.close_due_publications"] == settings.PUBLICATION_SWEEP_SECONDS
    assert schedule["flows.tasks.send_due_reminders"] == settings.REMINDER_SWEEP_SECONDS
    assert "project.celery.purge_handled_messages" in schedule
