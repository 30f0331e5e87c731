"""A township leader's open inbox gains a new task without a reload, and the bell counts it.

pytest-django's live server speaks WSGI only: the page's socket cannot connect there, so the first test
proves the HTTP fallback (polling /notifications/poll/). The second serves the ASGI application with
daphne in a subprocess, so the event comes over the real websocket; the subprocess must see the test's
data, which needs a database two processes share (PostgreSQL), so it is skipped on SQLite.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from playwright.sync_api import expect

from flows import services
from flows.models import Step
from tests.drive import act, apply_purchase
from tests.flows.test_spine import to_step

from .session import leave_signed_out

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
DAPHNE = Path(sys.executable).parent / "daphne"


def matter_waiting_for_the_officer(world):
    """A large purchase at the township check: once the officer agrees, it is the leaders' task."""
    return to_step(world, apply_purchase(world, total="50000.00", quotations=3), Step.CHECK_BY_TOWNSHIP)


def open_inbox(page, base_url, username):
    leave_signed_out(page)
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")
    # A mark on the window: it disappears if the page is reloaded.
    page.evaluate("window.stillTheSamePage = true")
    return page


def watch_the_task_arrive(page, world, matter, *, mode: str):
    inbox_row = page.locator(f'#inbox-live a[href="{matter.get_absolute_url()}"]')
    expect(inbox_row).to_have_count(0)
    expect(page.locator("#live-unread")).to_have_attribute("data-unread", "0")
    expect(page.locator("body")).to_have_attribute("data-live-mode", mode, timeout=15000)

    act(world.officer_a, matter)  # the officer, elsewhere, agrees: the leaders have a new task

    # The toast comes with the event and fades after 8 s; the row follows once the inbox is re-fetched,
    # which on a loaded machine can take longer than the toast lives: check them in that order.
    expect(page.locator("#live-toasts .live-toast[data-kind=task_new]")).to_have_count(1, timeout=20000)
    expect(page.locator("#live-unread")).to_have_attribute("data-unread", "1")
    expect(inbox_row).to_have_count(1, timeout=20000)
    assert page.evaluate("window.stillTheSamePage") is True
    assert services.active_task(matter, Step.APPROVE_BY_TOWNSHIP) is not None


def test_a_new_task_appears_in_the_open_inbox_through_the_polling_fallback(page, live_server, world):
    page.set_default_timeout(15000)
    matter = matter_waiting_for_the_officer(world)
    open_inbox(page, live_server.url, world.leader_a.username)
    watch_the_task_arrive(page, world, matter, mode="poll")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def daphne_server(world, tmp_path):
    """The ASGI application (http and websocket) served by daphne against the test's PostgreSQL database."""
    if connection.vendor != "postgresql":
        pytest.skip("daphne in a subprocess needs a database both processes reach: set DATABASE_URL (PostgreSQL)")
    database = connection.settings_dict
    port = free_port()
    log = tmp_path / "daphne.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings.test",
        "DATABASE_URL": (
            f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@{database['HOST']}:{database['PORT']}"
            f"/{database['NAME']}"
        ),
        "DEBUG": "true",  # daphne serves live.js itself, as in the demo
        "LIVE_POLL_SECONDS": "1",
    }
    # With Redis the test's nudge crosses to daphne; the layer prefix must be the one this process uses.
    if settings.REDIS_URL:
        env["PYTEST_XDIST_WORKER"] = os.environ.get("PYTEST_XDIST_WORKER", "main")
    server = subprocess.Popen(
        [str(DAPHNE), "-b", "127.0.0.1", "-p", str(port), "project.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if server.poll() is not None:
                pytest.fail(f"daphne stopped: {log.read_text()[-2000:]}")
            time.sleep(0.2)
    else:
        server.kill()
        pytest.fail("daphne did not start in 30 s")
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def test_a_new_task_appears_in_the_open_inbox_over_the_websocket(page, daphne_server, world):
    page.set_default_timeout(15000)
    matter = matter_waiting_for_the_officer(world)
    open_inbox(page, daphne_server, world.leader_a.username)
    watch_the_task_arrive(page, world, matter, mode="socket")


# --- the matter page ---------------------------------------------------------------------------------


def open_matter(page, base_url, username, matter):
    open_inbox(page, base_url, username)
    page.goto(f"{base_url}{matter.get_absolute_url()}")
    page.evaluate("window.stillTheSamePage = true")
    return page


def test_the_matter_page_redraws_when_the_matter_moves_on(page, live_server, world):
    page.set_default_timeout(15000)
    matter = matter_waiting_for_the_officer(world)
    open_matter(page, live_server.url, world.leader_a.username, matter)
    expect(page.locator("#step-action")).to_have_count(0)
    expect(page.locator("body")).to_have_attribute("data-live-mode", "poll")

    act(world.officer_a, matter)

    # Now the leader's step: the action form appears in place, and the path shows the new step.
    expect(page.locator("#matter-live-summary #step-action")).to_have_count(1, timeout=20000)
    expect(page.locator('#path li[data-step="approve_by_township"]')).to_have_class("current")
    assert page.evaluate("window.stillTheSamePage") is True


def test_a_form_being_filled_in_is_not_wiped_the_page_says_it_changed(page, live_server, world):
    page.set_default_timeout(15000)
    matter = to_step(world, matter_waiting_for_the_officer(world), Step.APPROVE_BY_TOWNSHIP)
    open_matter(page, live_server.url, world.leader_a.username, matter)
    expect(page.locator("body")).to_have_attribute("data-live-mode", "poll")
    page.fill("#id_opinion", "同意，请按程序实施")

    task = services.active_task(matter, Step.APPROVE_BY_TOWNSHIP)
    services.task_take(user=world.second_leader_a, task_id=task.pk)  # the other leader takes it meanwhile

    expect(page.locator("#matter-live-summary [data-live-stale]")).to_have_count(1, timeout=20000)
    expect(page.locator("#id_opinion")).to_have_value("同意，请按程序实施")
    assert page.evaluate("window.stillTheSamePage") is True
