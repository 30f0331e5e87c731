"""Signing a browser out between turns without leaving the old page's scripts running."""


def leave_signed_out(page):
    """Leave the page, then drop the cookies.

    Cleared while a signed-in page is still open, the cookies would be gone under its scripts: the bell's
    poll, answered as a stranger's, could set a CSRF cookie of its own after the next login form was
    served, and that form's token would no longer match.
    """
    page.goto("about:blank")
    page.context.clear_cookies()
