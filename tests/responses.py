"""Reading streamed responses in tests without dropping the test's database connection."""

from django.core.signals import request_finished
from django.db import close_old_connections


def body_of(response) -> bytes:
    """The body of a streamed (file) response, then close it.

    response.close() sends request_finished, whose close_old_connections would drop the test's
    PostgreSQL connection mid-transaction: unhook it while closing, as Django's test client does.
    """
    content = b"".join(response.streaming_content)
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    return content
