"""pytest-django's live server, one request at a time.

With SQLite's in-memory test database every request thread of Django's threaded live server shares the
test's single connection. A page's own background requests (the bell's poll, a live region's redraw)
overlapping the next navigation then interleave two transactions on that one connection, and the page
answers 500 at random. Production servers give each request its own connection; the test server
serialises them instead, body included, so a streamed response's reads stay inside the lock.
"""

import threading

from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread


class OneRequestAtATimeServer(ThreadedWSGIServer):
    # Threads still accept connections (a browser keeps several open); only the handling is serial.
    def set_app(self, application):
        lock = threading.Lock()

        def serial(environ, start_response):
            with lock:
                response = application(environ, start_response)
                try:
                    return list(response)
                finally:
                    if hasattr(response, "close"):
                        response.close()

        super().set_app(serial)


def install():
    LiveServerThread.server_class = OneRequestAtATimeServer
