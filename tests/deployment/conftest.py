"""The deployment test's browser is Debian's Chromium, set up as for the browser tests."""

from tests.browser.conftest import browser_context_args, browser_type_launch_args  # noqa: F401
