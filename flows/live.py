"""The live stream: one websocket per open page, sending the signed-in user's notification rows as they appear.

Rows are the source of truth (flows/notifications.py). The socket sends every row newer than the last one
it sent: at once when a ``live.nudge`` arrives on the user's group, and from a short poll loop, because the
in-memory channel layer cannot carry a nudge from a Celery worker to the web server (with Redis the poll is
only a slow safety net). The page passes ``?after=<id>``, the newest row it knew when it was rendered.
"""

import asyncio
import logging
from importlib import import_module
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import SESSION_KEY

from .notifications import BATCH, latest_id, notifications_after, payload, unread, user_group

logger = logging.getLogger(__name__)


def after_from_query(query_string: bytes) -> int | None:
    """The ``after`` id from the socket's query string, or None when it is missing or not a number."""
    values = parse_qs(query_string.decode("latin-1")).get("after", [])
    if values and values[0].isdigit():
        return int(values[0])
    return None


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """Sends {"type": "notification", ...payload, "unread": n} for each of the user's new rows."""

    user = None
    poller = None

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close()
            return
        self.user = user
        self.sending = asyncio.Lock()
        after = after_from_query(self.scope.get("query_string", b""))
        self.last_sent = after if after is not None else await database_sync_to_async(latest_id)(user)
        if self.channel_layer is not None:
            await self.channel_layer.group_add(user_group(user.pk), self.channel_name)
        await self.accept()
        await self.send_new()
        self.poller = asyncio.create_task(self.poll())

    async def disconnect(self, code):
        if self.poller is not None:
            self.poller.cancel()
        if self.user is not None and self.channel_layer is not None:
            await self.channel_layer.group_discard(user_group(self.user.pk), self.channel_name)

    async def receive_json(self, content, **kwargs):
        """The page says nothing on the socket: marking read goes through the notification centre's POST."""

    async def live_nudge(self, message):
        await self.send_new()

    async def poll(self):
        while True:
            await asyncio.sleep(settings.LIVE_POLL_SECONDS)
            try:
                if not await database_sync_to_async(self.still_signed_in)():
                    # Logged out or the session timed out: the stream ends with the session.
                    await self.close()
                    return
                await self.send_new()
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup: the next round tries again
                logger.warning("live poll for user %s failed", self.user.pk, exc_info=True)

    async def send_new(self):
        # One sender at a time, or a nudge and the poll could both send the same rows.
        async with self.sending:
            while True:
                events, unread_count = await database_sync_to_async(self.rows_after)(self.last_sent)
                for event in events:
                    await self.send_json({"type": "notification", **event, "unread": unread_count})
                if events:
                    self.last_sent = events[-1]["id"]
                if len(events) < BATCH:
                    return

    def rows_after(self, after: int) -> tuple[list[dict], int]:
        rows = notifications_after(self.user, after)
        return [payload(row) for row in rows], (unread(self.user).count() if rows else 0)

    def still_signed_in(self) -> bool:
        """Read the session afresh: the socket's copy was loaded when it connected."""
        session = self.scope.get("session")
        if session is None or not session.session_key:
            return True  # no session middleware in front (e.g. a test scope with a user): nothing to check
        store = import_module(settings.SESSION_ENGINE).SessionStore(session.session_key)
        return str(store.get(SESSION_KEY)) == str(self.user.pk)
