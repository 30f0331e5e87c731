"""Who hears of what: new tasks, returns, taken steps, decisions, objections and PDF jobs become notification rows."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfWriter

from documents import rendering
from documents.models import RenderedDocument, RenderStatus
from flows import services
from flows.models import Decision, Meeting, Notice, Notification, NotificationKind, Step
from organizations.people import display_name
from tests.drive import act, apply_purchase, refresh, run_to_end
from tests.flows.test_spine import to_step

pytestmark = pytest.mark.django_db


@pytest.fixture
def announced(django_capture_on_commit_callbacks):
    """Run the block and the after-commit callbacks it queues, as a real commit would (tasks are announced then)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def received(user, kind=None) -> list[Notification]:
    rows = Notification.objects.filter(recipient=user).order_by("pk")
    return list(rows.filter(kind=kind) if kind else rows)


def recipients(kind, **filters) -> set:
    return set(Notification.objects.filter(kind=kind, **filters).values_list("recipient__username", flat=True))


def one_page_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


# --- task_new ----------------------------------------------------------------------------------------


def test_a_task_at_the_township_check_reaches_the_township_officer_only(world, announced):
    matter = apply_purchase(world)
    with announced():
        matter = to_step(world, matter, Step.CHECK_BY_TOWNSHIP)
    task = services.active_task(matter, Step.CHECK_BY_TOWNSHIP)
    [row] = received(world.officer_a, NotificationKind.TASK_NEW)
    assert (row.matter, row.task_id, row.url) == (matter, task.pk, matter.get_absolute_url())
    assert row.data["step"] == Step.CHECK_BY_TOWNSHIP
    assert matter.title in row.title
    for outsider in (world.officer_b, world.leader_a, world.inspector, world.secretary_a2):
        assert received(outsider, NotificationKind.TASK_NEW) == []


def test_a_meeting_step_is_a_task_for_the_village_supervisor(world, announced):
    with announced():
        matter = apply_purchase(world)
        act(world.secretary_a1, matter)
    matter = refresh(matter)
    assert matter.next_step == Step.DELIBERATE
    [row] = received(world.supervisor_a1, NotificationKind.TASK_NEW)
    assert row.data["step"] == Step.DELIBERATE
    assert received(world.supervisor_a2, NotificationKind.TASK_NEW) == []


def test_a_publication_step_is_nobodys_task(world, announced):
    with announced():
        matter = to_step(world, apply_purchase(world), Step.PUBLISH_RESOLUTION)
    assert services.active_task(matter, Step.PUBLISH_RESOLUTION) is not None
    assert not Notification.objects.filter(kind=NotificationKind.TASK_NEW, data__step=Step.PUBLISH_RESOLUTION).exists()


def test_a_task_handled_in_the_transaction_that_made_it_is_not_announced(world, announced):
    with announced():
        matter = apply_purchase(world)
        act(world.secretary_a1, matter)  # the proposal task is done before anything commits
    assert Notification.objects.filter(kind=NotificationKind.TASK_NEW, data__step=Step.PROPOSE).count() == 0


def test_no_task_is_announced_before_the_transaction_commits(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        apply_purchase(world)
    assert callbacks
    assert not Notification.objects.filter(kind=NotificationKind.TASK_NEW).exists()


# --- returned ----------------------------------------------------------------------------------------


def test_a_return_tells_the_steps_holders_and_the_applicant_who_returned_it_and_why(world, announced):
    matter = to_step(world, apply_purchase(world, user=world.cashier_a1), Step.CHECK_BY_TOWNSHIP)
    with announced():
        act(world.officer_a, matter, decision=Decision.RETURN, opinion="缺少报价单", return_to=Step.PROPOSE)
    assert recipients(NotificationKind.RETURNED) == {"sec_a1", "cashier_a1"}
    row = received(world.secretary_a1, NotificationKind.RETURNED)[0]
    assert display_name(world.officer_a) in row.title
    assert "缺少报价单" in row.title
    assert row.task_id == services.active_task(refresh(matter), Step.PROPOSE).pk
    # A return is not announced twice, as a new task as well.
    assert not Notification.objects.filter(kind=NotificationKind.TASK_NEW, task_id=row.task_id).exists()


def test_a_return_to_the_application_goes_to_secretary_and_cashier(world, announced):
    matter = to_step(world, apply_purchase(world, total="50000.00", quotations=3), Step.APPROVE_BY_TOWNSHIP)
    with announced():
        act(world.leader_a, matter, decision=Decision.RETURN, opinion="报价单不全", return_to=Step.APPLY)
    assert recipients(NotificationKind.RETURNED) == {"sec_a1", "cashier_a1"}


# --- task_taken --------------------------------------------------------------------------------------


def test_taking_a_step_tells_the_other_holders_only(world, announced):
    matter = to_step(world, apply_purchase(world, total="50000.00", quotations=3), Step.APPROVE_BY_TOWNSHIP)
    task = services.active_task(matter, Step.APPROVE_BY_TOWNSHIP)
    with announced():
        services.task_take(user=world.leader_a, task_id=task.pk)
    [row] = received(world.second_leader_a, NotificationKind.TASK_TAKEN)
    assert (row.task_id, row.matter, row.data["handled"]) == (task.pk, matter, False)
    assert display_name(world.leader_a) in row.title
    assert received(world.leader_a, NotificationKind.TASK_TAKEN) == []
    assert received(world.leader_b, NotificationKind.TASK_TAKEN) == []


def test_taking_a_step_twice_tells_nobody_twice(world):
    matter = to_step(world, apply_purchase(world, total="50000.00", quotations=3), Step.APPROVE_BY_TOWNSHIP)
    task = services.active_task(matter, Step.APPROVE_BY_TOWNSHIP)
    services.task_take(user=world.leader_a, task_id=task.pk)
    services.task_take(user=world.leader_a, task_id=task.pk)
    assert len(received(world.second_leader_a, NotificationKind.TASK_TAKEN)) == 1


def test_handling_a_step_nobody_had_taken_tells_the_other_holders(world):
    matter = to_step(world, apply_purchase(world, total="50000.00", quotations=3), Step.APPROVE_BY_TOWNSHIP)
    act(world.second_leader_a, matter)
    [row] = received(world.leader_a, NotificationKind.TASK_TAKEN)
    assert row.data["handled"] is True
    assert display_name(world.second_leader_a) in row.title


def test_handling_a_step_one_had_taken_tells_nobody_again(world):
    matter = to_step(world, apply_purchase(world, total="50000.00", quotations=3), Step.APPROVE_BY_TOWNSHIP)
    services.task_take(user=world.leader_a, task_id=services.active_task(matter, Step.APPROVE_BY_TOWNSHIP).pk)
    act(world.leader_a, matter)
    assert len(received(world.second_leader_a, NotificationKind.TASK_TAKEN)) == 1


# --- matter_progress ---------------------------------------------------------------------------------


def test_a_decision_by_someone_else_moves_the_applicants_matter_on(world):
    matter = to_step(world, apply_purchase(world, user=world.cashier_a1), Step.CHECK_BY_TOWNSHIP)
    before = len(received(world.cashier_a1, NotificationKind.MATTER_PROGRESS))
    act(world.officer_a, matter, opinion="材料齐全")
    rows = received(world.cashier_a1, NotificationKind.MATTER_PROGRESS)
    assert len(rows) == before + 1
    assert (rows[-1].data["step"], rows[-1].data["decision"], rows[-1].body) == (
        Step.CHECK_BY_TOWNSHIP,
        Decision.AGREE,
        "材料齐全",
    )
    assert received(world.officer_a, NotificationKind.MATTER_PROGRESS) == []


def test_the_applicants_own_steps_and_returns_are_not_progress_news(world):
    matter = apply_purchase(world)  # secretary applies and also proposes
    act(world.secretary_a1, matter)
    assert received(world.secretary_a1, NotificationKind.MATTER_PROGRESS) == []
    matter = to_step(world, matter, Step.CHECK_BY_TOWNSHIP)
    count = len(received(world.secretary_a1, NotificationKind.MATTER_PROGRESS))
    act(world.officer_a, matter, decision=Decision.RETURN, opinion="补充材料", return_to=Step.PROPOSE)
    assert len(received(world.secretary_a1, NotificationKind.MATTER_PROGRESS)) == count


def test_a_meeting_and_the_archive_are_progress_for_the_applicant(world):
    matter = run_to_end(world, apply_purchase(world, user=world.cashier_a1))
    steps = {row.data["step"] for row in received(world.cashier_a1, NotificationKind.MATTER_PROGRESS)}
    assert {Step.DELIBERATE, Step.CHECK_BY_TOWNSHIP, Step.ARCHIVE} <= steps
    assert matter.status == "archived"


# --- objection ---------------------------------------------------------------------------------------


def test_an_objection_reaches_the_village_secretary_and_supervisor(world):
    matter = to_step(world, apply_purchase(world, user=world.cashier_a1), Step.PUBLISH_RESOLUTION)
    notice = Notice.objects.get(matter=matter)
    objection = services.objection_submit(
        notice=notice, name="张三", phone="13800000000", text="报价偏高", client_key="k1"
    )
    assert recipients(NotificationKind.OBJECTION) == {"sec_a1", "sup_a1"}
    row = received(world.supervisor_a1, NotificationKind.OBJECTION)[0]
    assert (row.matter, row.body, row.data["objection"]) == (matter, "报价偏高", objection.pk)


# --- PDF jobs ----------------------------------------------------------------------------------------


@pytest.fixture
def quick_build(monkeypatch):
    """WeasyPrint stood in for: the real render_document, _progress and _store run around a one-page PDF."""

    def build(document):
        rendering._progress(document, 50)
        return one_page_pdf()

    monkeypatch.setattr(rendering, "_build", build)


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_a_requested_pdf_reports_progress_and_done_to_whoever_asked(world, quick_build, media_root):
    matter = run_to_end(world, apply_purchase(world))
    meeting = Meeting.objects.filter(decisions__matter=matter).first()
    document = rendering.minutes_request(meeting=meeting, requested_by=world.officer_a)
    rendering.render_document(document)
    progress = received(world.officer_a, NotificationKind.JOB_PROGRESS)
    assert [row.data["progress"] for row in progress] == [5, 50]
    assert all(row.is_read for row in progress)  # a bar moving is not news to catch up on
    [done] = received(world.officer_a, NotificationKind.JOB_DONE)
    download = reverse("documents:document_download", args=[document.pk])
    assert (done.url, done.data["download_url"], done.data["status"]) == (download, download, RenderStatus.DONE)
    assert not done.is_read


def test_a_dossier_the_system_asked_for_reports_to_the_applicant(world, quick_build, media_root):
    matter = run_to_end(world, apply_purchase(world, user=world.cashier_a1))
    document = RenderedDocument.objects.get(matter=matter, kind=RenderedDocument.Kind.DOSSIER)
    assert document.requested_by is None
    rendering.render_document(document)
    [done] = received(world.cashier_a1, NotificationKind.JOB_DONE)
    assert (done.matter, done.data["document"]) == (matter, document.pk)


def test_a_failed_render_reports_the_failure(world, monkeypatch, media_root):
    matter = run_to_end(world, apply_purchase(world))
    meeting = Meeting.objects.filter(decisions__matter=matter).first()
    document = rendering.minutes_request(meeting=meeting, requested_by=world.officer_a)

    def broken(document):
        raise RuntimeError("no fonts")

    monkeypatch.setattr(rendering, "_build", broken)
    with pytest.raises(RuntimeError):
        rendering.render_document(document)
    last = received(world.officer_a, NotificationKind.JOB_PROGRESS)[-1]
    assert last.data["status"] == RenderStatus.FAILED
    assert received(world.officer_a, NotificationKind.JOB_DONE) == []


def test_asking_for_a_pdf_in_the_page_records_who_asked(client, world):
    matter = run_to_end(world, apply_purchase(world))
    meeting = Meeting.objects.filter(decisions__matter=matter).first()
    client.force_login(world.supervisor_a1)
    client.post(reverse("documents:document_request", args=["minutes", meeting.pk]))
    assert RenderedDocument.objects.get(kind="minutes").requested_by == world.supervisor_a1
