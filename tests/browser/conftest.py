"""Playwright drives Debian's Chromium (never a downloaded browser) against pytest-django's live server."""

import datetime
import os
import shutil

import pytest
from django.core.management import call_command
from django.utils import timezone

from demo.seed import DEFAULT_PASSWORD
from flows.models import Notice
from flows.tasks import close_due_publications

from .session import leave_signed_out

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "permissions": ["camera"], "locale": "zh-CN"}


@pytest.fixture
def demo(transactional_db):
    """The demo data exactly as `make demo` seeds it."""
    call_command("seed_demo", verbosity=0)


@pytest.fixture
def let_publications_end():
    """Beat's sweep after the publication period: moves the deadline, not the clock."""

    def run():
        Notice.objects.filter(closed_at__isnull=True).update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
        return close_due_publications()

    return run


class Actor:
    """A demo user in the browser: logs in fresh for each turn, as colleagues at their own desks would."""

    def __init__(self, page, base_url):
        self.page = page
        self.base_url = base_url

    def login(self, username, password=DEFAULT_PASSWORD):
        page = self.page
        leave_signed_out(page)
        page.goto(f"{self.base_url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        # Home is the inbox, or the statistics overview for the county administrator and the inspector.
        page.wait_for_url(lambda url: not url.endswith("/accounts/login/"))
        page.wait_for_load_state()
        return page

    def login_to(self, username, path, password=DEFAULT_PASSWORD):
        """Log in, then open ``path``."""
        page = self.login(username, password)
        page.goto(f"{self.base_url}{path}")
        return page


@pytest.fixture
def actor(page, live_server):
    page.set_default_timeout(15000)
    return Actor(page, live_server.url)
