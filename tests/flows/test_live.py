"""The live stream over a real websocket consumer: each event kind arrives, to its recipient only.

pytest-asyncio is not used: each test builds its data synchronously, then runs an async scenario through
``async_to_sync``. Writes made during the scenario go through ``database_sync_to_async``, as a view would,
so that ``notify`` pushes after a real commit (hence ``transaction=True``). With REDIS_URL the channel
layer is Redis; otherwise the in-memory layer.
"""

import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from pypdf import PdfWriter

from documents import rendering
from documents.models import RenderedDocument
from flows import services
from flows.live import LiveConsumer, after_from_query
from flows.models import Decision, Meeting, Notice, Notification, NotificationKind, Step
from flows.notifications import latest_id, notify
from project.asgi import application
from tests.drive import act, apply_purchase, run_to_end
from tests.flows.test_spine import to_step

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 10  # seconds a test waits for a message that should come


def run_scenario(scenario):
    """Run an async scenario to its end in a thread of its own.

    A Playwright test that ran earlier in the same pytest worker leaves an event loop in the main
    thread, and async_to_sync refuses to start there.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(async_to_sync(scenario)).result()


@pytest.fixture(autouse=True)
def no_poll(settings):
    """Nudges only, unless a test says otherwise: the poll loop would hide a nudge that never came."""
    settings.LIVE_POLL_SECONDS = 600


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def socket_for(user, after: int | None = None) -> WebsocketCommunicator:
    path = "/ws/live/" if after is None else f"/ws/live/?after={after}"
    communicator = WebsocketCommunicator(LiveConsumer.as_asgi(), path)
    communicator.scope["user"] = user
    return communicator


def stream(recipient, action, *, until_kind: str, outsiders=()) -> list[dict]:
    """Open the recipient's socket (and the outsiders'), run ``action``, and return what the recipient
    received up to the first message of ``until_kind``; the outsiders must receive nothing."""
    starts = {user.pk: latest_id(user) for user in (recipient, *outsiders)}

    async def scenario():
        sockets = [socket_for(user, starts[user.pk]) for user in (recipient, *outsiders)]
        for socket in sockets:
            connected, _ = await socket.connect()
            assert connected
        await database_sync_to_async(action)()
        messages = []
        while not messages or messages[-1]["kind"] != until_kind:
            messages.append(await sockets[0].receive_json_from(timeout=WAIT))
        for socket in sockets[1:]:
            assert await socket.receive_nothing(timeout=0.5)
        for socket in sockets:
            await socket.disconnect()
        return messages

    return run_scenario(scenario)


def one_page_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


# --- connecting --------------------------------------------------------------------------------------


def test_an_anonymous_socket_is_refused():
    from django.contrib.auth.models import AnonymousUser

    async def scenario():
        socket = socket_for(AnonymousUser())
        connected, _ = await socket.connect()
        return connected

    assert run_scenario(scenario) is False


def test_the_socket_sends_the_backlog_after_the_id_the_page_knew(world):
    first, second, third = (
        notify([world.officer_a], kind=NotificationKind.WARNING, title=title)[0] for title in ("一", "二", "三")
    )

    async def scenario():
        socket = socket_for(world.officer_a, first.pk)
        await socket.connect()
        messages = [await socket.receive_json_from(timeout=WAIT) for _ in range(2)]
        assert await socket.receive_nothing(timeout=0.3)
        await socket.disconnect()
        return messages

    messages = run_scenario(scenario)
    assert [(m["type"], m["id"], m["title"]) for m in messages] == [
        ("notification", second.pk, "二"),
        ("notification", third.pk, "三"),
    ]
    assert messages[-1]["unread"] == 3


def test_without_after_the_socket_starts_from_now(world):
    notify([world.officer_a], kind=NotificationKind.WARNING, title="旧的")

    async def scenario():
        socket = socket_for(world.officer_a)
        await socket.connect()
        nothing = await socket.receive_nothing(timeout=0.3)
        await socket.disconnect()
        return nothing

    assert run_scenario(scenario)


def test_after_is_read_from_the_query_string():
    assert after_from_query(b"after=42") == 42
    assert after_from_query(b"after=x") is None
    assert after_from_query(b"") is None


# --- each event kind ---------------------------------------------------------------------------------


def test_a_new_task_arrives_on_the_officers_socket_and_nowhere_else(world):
    matter = to_step(world, apply_purchase(world), Step.PROPOSE)
    messages = stream(
        world.officer_a,
        lambda: to_step(world, matter, Step.CHECK_BY_TOWNSHIP),
        until_kind=NotificationKind.TASK_NEW,
        outsiders=[world.officer_b, world.secretary_b1],
    )
    event = messages[-1]
    assert (event["matter"], event["data"]["step"]) == (matter.pk, Step.CHECK_BY_TOWNSHIP)
    assert event["task"] == services.active_task(matter, Step.CHECK_BY_TOWNSHIP).pk
    assert event["unread"] >= 1


def test_a_returned_matter_arrives_with_who_and_why(world):
    matter = to_step(world, apply_purchase(world, user=world.cashier_a1), Step.CHECK_BY_TOWNSHIP)
    messages = stream(
        world.secretary_a1,
        lambda: act(world.officer_a, matter, decision=Decision.RETURN, opinion="缺少报价单", return_to=Step.PROPOSE),
        until_kind=NotificationKind.RETURNED,
        outsiders=[world.secretary_a2],
    )
    assert "缺少报价单" in messages[-1]["title"]


def test_a_taken_task_arrives_for_the_other_leader(world):
    matter = to_step(world, apply_purchase(world, total="50000.00", quotations=3), Step.APPROVE_BY_TOWNSHIP)
    task = services.active_task(matter, Step.APPROVE_BY_TOWNSHIP)
    messages = stream(
        world.second_leader_a,
        lambda: services.task_take(user=world.leader_a, task_id=task.pk),
        until_kind=NotificationKind.TASK_TAKEN,
        outsiders=[world.leader_a, world.leader_b],
    )
    assert messages[-1]["task"] == task.pk


def test_a_decision_arrives_for_the_applicant(world):
    matter = to_step(world, apply_purchase(world, user=world.cashier_a1), Step.CHECK_BY_TOWNSHIP)
    messages = stream(
        world.cashier_a1,
        lambda: act(world.officer_a, matter),
        until_kind=NotificationKind.MATTER_PROGRESS,
        outsiders=[world.secretary_b1],
    )
    assert messages[-1]["data"]["decision"] == Decision.AGREE


def test_an_objection_arrives_for_the_supervisor(world):
    matter = to_step(world, apply_purchase(world), Step.PUBLISH_RESOLUTION)
    notice = Notice.objects.get(matter=matter)
    messages = stream(
        world.supervisor_a1,
        lambda: services.objection_submit(
            notice=notice, name="张三", phone="13800000000", text="有异议", client_key="k"
        ),
        until_kind=NotificationKind.OBJECTION,
        outsiders=[world.supervisor_a2, world.officer_a],
    )
    assert messages[-1]["body"] == "有异议"


def test_a_pdf_jobs_progress_and_result_arrive_for_whoever_asked(world, monkeypatch):
    def build(document):
        rendering._progress(document, 50)
        return one_page_pdf()

    monkeypatch.setattr(rendering, "_build", build)  # WeasyPrint stood in for; the hooks around it are real
    matter = run_to_end(world, apply_purchase(world))
    meeting = Meeting.objects.filter(decisions__matter=matter).first()
    # The worker's task runs eagerly after the request commits, as the page's POST would make it.
    messages = stream(
        world.inspector,
        lambda: rendering.minutes_request(meeting=meeting, requested_by=world.inspector),
        until_kind=NotificationKind.JOB_DONE,
        outsiders=[world.inspector_b],
    )
    progress = [m["data"]["progress"] for m in messages if m["kind"] == NotificationKind.JOB_PROGRESS]
    assert progress == [5, 50]
    document = RenderedDocument.objects.get(kind=RenderedDocument.Kind.MINUTES)
    assert messages[-1]["url"] == reverse("documents:document_download", args=[document.pk])


@pytest.mark.parametrize("kind", [NotificationKind.WARNING, NotificationKind.REMINDER, NotificationKind.ESCALATION])
def test_warnings_reminders_and_escalations_written_by_notify_arrive(world, kind):
    messages = stream(
        world.leader_a,
        lambda: notify([world.leader_a], kind=kind, title="现金库存超限", url="/registers/warnings/"),
        until_kind=kind,
        outsiders=[world.leader_b],
    )
    assert (messages[-1]["title"], messages[-1]["url"]) == ("现金库存超限", "/registers/warnings/")


# --- rows no nudge announced -------------------------------------------------------------------------


def test_the_poll_loop_sends_a_row_a_worker_wrote_without_a_nudge(world, settings):
    """The in-memory layer cannot carry a Celery worker's nudge to the web server: the socket polls."""
    settings.LIVE_POLL_SECONDS = 0.2
    start = latest_id(world.officer_a)

    async def scenario():
        socket = socket_for(world.officer_a, start)
        await socket.connect()
        row = await database_sync_to_async(Notification.objects.create)(
            recipient=world.officer_a, kind=NotificationKind.REMINDER, title="催办"
        )
        message = await socket.receive_json_from(timeout=WAIT)
        assert await socket.receive_nothing(timeout=0.5)  # sent once, not at every round
        await socket.disconnect()
        return row, message

    row, message = run_scenario(scenario)
    assert (message["id"], message["kind"]) == (row.pk, NotificationKind.REMINDER)


# --- the real ASGI application: cookie, origin, session ----------------------------------------------


def signed_in_headers(user, origin=b"http://testserver") -> list:
    client = Client()
    client.force_login(user)
    return [(b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()), (b"origin", origin)]


def test_the_asgi_application_opens_the_stream_for_the_session_user(world):
    headers = signed_in_headers(world.officer_a)
    row = notify([world.officer_a], kind=NotificationKind.WARNING, title="预警")[0]

    async def scenario():
        socket = WebsocketCommunicator(application, f"/ws/live/?after={row.pk - 1}", headers=headers)
        connected, _ = await socket.connect()
        message = await socket.receive_json_from(timeout=WAIT)
        await socket.disconnect()
        return connected, message

    connected, message = run_scenario(scenario)
    assert connected
    assert message["id"] == row.pk


def test_the_asgi_application_refuses_another_sites_origin(world):
    headers = signed_in_headers(world.officer_a, origin=b"https://evil.example")

    async def scenario():
        socket = WebsocketCommunicator(application, "/ws/live/", headers=headers)
        connected, _ = await socket.connect()
        return connected

    assert run_scenario(scenario) is False


def test_the_asgi_application_refuses_a_socket_without_a_session(world):
    async def scenario():
        socket = WebsocketCommunicator(application, "/ws/live/", headers=[(b"origin", b"http://testserver")])
        connected, _ = await socket.connect()
        return connected

    assert run_scenario(scenario) is False


def test_the_stream_ends_when_the_session_ends(world, settings):
    settings.LIVE_POLL_SECONDS = 0.2
    headers = signed_in_headers(world.officer_a)

    async def scenario():
        socket = WebsocketCommunicator(application, "/ws/live/", headers=headers)
        connected, _ = await socket.connect()
        assert connected
        await database_sync_to_async(Session.objects.all().delete)()  # logged out elsewhere, or timed out
        return await socket.receive_output(timeout=WAIT)

    assert run_scenario(scenario)["type"] == "websocket.close"
