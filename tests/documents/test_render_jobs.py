"""Rendering jobs that are safe to lose: the lease, the heartbeat, the sweep, and a broker that is down."""

import datetime
import time
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerDown

from documents import rendering
from documents.models import RenderedDocument, RenderStatus
from documents.render_lease import JOB_MAX_ATTEMPTS, render_claim, render_heartbeat, stale_documents
from documents.tasks import render_document, render_stale_documents
from flows.models import Matter, Meeting, Notice
from tests.drive import apply_purchase, run_to_end

from .test_rendering import ledger_calls, media_root  # noqa: F401 — autouse fixtures shared with the PDF tests

pytestmark = pytest.mark.django_db


@pytest.fixture
def archived(world) -> Matter:
    return run_to_end(world, apply_purchase(world))


@pytest.fixture
def pending(archived) -> RenderedDocument:
    """A dossier asked for whose job never ran (the on-commit queueing is not executed in these tests)."""
    return rendering.dossier_request(matter=archived)


def ago(seconds: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(seconds=seconds)


def broker_down():
    return mock.patch.object(render_document, "apply_async", side_effect=BrokerDown("Error 111 connecting"))


# --- the lease -----------------------------------------------------------------------------------------


def test_a_worker_claims_a_waiting_document_and_counts_the_attempt(pending):
    assert render_claim(pending)
    pending.refresh_from_db()
    assert (pending.status, pending.attempts) == (RenderStatus.RENDERING, 1)
    assert pending.heartbeat_at is not None


def test_a_document_held_by_a_live_worker_is_not_claimed_twice(pending):
    assert render_claim(pending)
    second = RenderedDocument.objects.get(pk=pending.pk)
    assert not render_claim(second)
    assert second.attempts == 1


def test_a_rendering_without_heartbeat_for_a_lease_is_claimed_again(pending, settings):
    assert render_claim(pending)
    RenderedDocument.objects.filter(pk=pending.pk).update(heartbeat_at=ago(settings.JOB_LEASE_SECONDS + 1))
    assert render_claim(pending)
    assert pending.attempts == 2


def test_a_document_that_keeps_losing_its_worker_is_given_up_and_says_why(pending, settings):
    RenderedDocument.objects.filter(pk=pending.pk).update(
        status=RenderStatus.RENDERING, attempts=JOB_MAX_ATTEMPTS, heartbeat_at=ago(settings.JOB_LEASE_SECONDS + 1)
    )
    assert not render_claim(pending)
    assert pending.status == RenderStatus.FAILED
    assert str(JOB_MAX_ATTEMPTS) in pending.error


def test_a_duplicate_job_for_a_document_being_rendered_leaves_it_alone(pending):
    assert render_claim(pending)
    result = rendering.render_document(RenderedDocument.objects.get(pk=pending.pk))
    assert (result.status, result.attempts, result.pdf.name) == (RenderStatus.RENDERING, 1, "")


def test_a_rendered_document_is_not_rendered_again(pending):
    done = rendering.render_document(pending)
    assert done.status == RenderStatus.DONE
    again = rendering.render_document(RenderedDocument.objects.get(pk=pending.pk))
    assert (again.pdf.name, again.attempts) == (done.pdf.name, 1)


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_keeps_the_lease_while_the_block_runs(world, settings):
    settings.JOB_HEARTBEAT_SECONDS = 1
    settings.JOB_LEASE_SECONDS = 3
    # Archiving asks for the dossier, and the eager job renders it at commit: make it a rendering one.
    document = rendering.current_document(kind="dossier", matter=run_to_end(world, apply_purchase(world)))
    RenderedDocument.objects.filter(pk=document.pk).update(status=RenderStatus.RENDERING, heartbeat_at=ago(60))
    with render_heartbeat(document.pk):
        time.sleep(1.6)
    document.refresh_from_db()
    assert document.heartbeat_at > ago(2)


# --- the sweep -----------------------------------------------------------------------------------------


def test_the_sweep_finds_lost_jobs_and_only_those(archived, settings):
    notice = Notice.objects.filter(matter=archived).first()
    never_queued = rendering.notice_request(notice=notice)
    RenderedDocument.objects.filter(pk=never_queued.pk).update(requested_at=ago(120))
    just_asked = rendering.dossier_request(matter=archived)
    lost_worker = rendering.minutes_request(meeting=Meeting.objects.filter(decisions__matter=archived).first())
    RenderedDocument.objects.filter(pk=lost_worker.pk).update(
        status=RenderStatus.RENDERING, heartbeat_at=ago(settings.JOB_LEASE_SECONDS + 5), queued_at=ago(3600)
    )
    assert set(stale_documents().values_list("pk", flat=True)) == {never_queued.pk, lost_worker.pk}
    # A live worker's heartbeat, a recent queueing, a finished or a superseded document: nothing to do.
    RenderedDocument.objects.filter(pk=lost_worker.pk).update(heartbeat_at=ago(1))
    RenderedDocument.objects.filter(pk=never_queued.pk).update(queued_at=ago(settings.JOB_REQUEUE_SECONDS - 30))
    assert not stale_documents().filter(pk__in=[never_queued.pk, lost_worker.pk, just_asked.pk]).exists()


def test_a_pending_document_queued_long_ago_is_queued_again(pending, settings):
    RenderedDocument.objects.filter(pk=pending.pk).update(queued_at=ago(settings.JOB_REQUEUE_SECONDS + 1))
    assert list(stale_documents()) == [pending]


def test_the_sweep_queues_each_lost_job_and_notes_when(pending):
    RenderedDocument.objects.filter(pk=pending.pk).update(requested_at=ago(3600))
    with mock.patch("documents.tasks.enqueue", return_value=True) as enqueue:
        assert render_stale_documents() == 1
        assert render_stale_documents() == 0  # queued a moment ago: the worker gets time to take it
    enqueue.assert_called_once_with(render_document, pending.pk)
    pending.refresh_from_db()
    assert pending.queued_at > ago(5)


def test_the_worker_renders_what_the_sweep_queued(pending, settings):
    RenderedDocument.objects.filter(pk=pending.pk).update(
        status=RenderStatus.RENDERING, attempts=1, heartbeat_at=ago(settings.JOB_LEASE_SECONDS + 1)
    )
    assert render_stale_documents() == 1  # eager in tests: the job runs at once
    pending.refresh_from_db()
    assert (pending.status, pending.attempts) == (RenderStatus.DONE, 2)


# --- the broker is down --------------------------------------------------------------------------------


def test_asking_for_a_dossier_with_the_broker_down_keeps_it_pending_for_the_sweep(
    archived, django_capture_on_commit_callbacks
):
    with broker_down(), django_capture_on_commit_callbacks(execute=True):
        document = rendering.dossier_request(matter=archived)
    document.refresh_from_db()
    assert (document.status, document.queued_at) == (RenderStatus.PENDING, None)
    RenderedDocument.objects.filter(pk=document.pk).update(requested_at=ago(120))
    assert list(stale_documents()) == [document]


def test_a_queued_job_notes_when_it_was_sent(archived, django_capture_on_commit_callbacks):
    with mock.patch.object(render_document, "apply_async") as sent, django_capture_on_commit_callbacks(execute=True):
        document = rendering.dossier_request(matter=archived)
    sent.assert_called_once_with((document.pk,))
    document.refresh_from_db()
    assert document.queued_at is not None


def test_asking_for_minutes_with_the_broker_down_says_they_will_follow(
    client, world, archived, django_capture_on_commit_callbacks
):
    meeting = Meeting.objects.filter(decisions__matter=archived).first()
    client.force_login(world.supervisor_a1)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with broker_down(), django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("documents:document_request", args=["minutes", meeting.pk]), follow=True)
    assert response.status_code == 200
    assert "The PDF is being rendered" in response.content.decode()
    document = rendering.current_document(kind="minutes", meeting=meeting)
    assert document.status == RenderStatus.PENDING
