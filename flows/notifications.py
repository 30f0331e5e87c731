"""Notifications: one row per event and recipient, pushed to the recipient's live stream after commit.

The row is the source of truth. With Redis the channel layer carries a nudge from any process
(web or Celery worker) to the user's sockets at once; in the embedded default the in-memory
layer only reaches sockets in the same process, so the socket consumer also polls for rows
newer than the last one it sent, and the page falls back to HTTP polling when the socket is
down (``flows/live.py``). Either way the browser receives the same rows.
"""

import logging
import threading
from collections.abc import Iterable
from contextlib import contextmanager

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .models import TRANSIENT_KINDS, Notification

logger = logging.getLogger(__name__)

# How many rows one push or poll sends at most; older ones stay in the notification centre.
BATCH = 50


def user_group(user_id: int) -> str:
    return f"live.user.{user_id}"


def notify(
    recipients: Iterable,
    *,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    matter=None,
    task_id: int | None = None,
    data: dict | None = None,
    exclude: Iterable = (),
) -> list[Notification]:
    """Write one notification per recipient (each user once) and push them once the transaction commits."""
    excluded = {getattr(user, "pk", user) for user in exclude}
    user_ids = []
    for user in recipients:
        user_id = getattr(user, "pk", user)
        if user_id not in excluded and user_id not in user_ids:
            user_ids.append(user_id)
    if not user_ids:
        return []
    # Progress rows are born read: they move a bar, they are not news to catch up on.
    read_at = timezone.now() if kind in TRANSIENT_KINDS else None
    rows = [
        Notification(
            recipient_id=user_id,
            kind=kind,
            title=title[:200],
            body=body,
            url=url,
            matter=matter,
            task_id=task_id,
            data=data or {},
            read_at=read_at,
        )
        for user_id in user_ids
    ]
    if _batch.depth:
        _batch.rows.extend(rows)
        return rows
    rows = Notification.objects.bulk_create(rows)
    transaction.on_commit(lambda: live_push(user_ids), robust=True)
    return rows


class _Batch(threading.local):
    depth = 0

    def __init__(self):
        self.rows: list[Notification] = []


_batch = _Batch()


@contextmanager
def batched():
    """Every notification of the block, whatever event wrote it, in one INSERT when the block ends.

    For a block that is all of one transaction (a step): the rows are written inside it and pushed once
    it commits; an error that ends a block drops those written in it. Nested blocks write at the end of
    the outermost."""
    _batch.depth += 1
    mark = len(_batch.rows)
    try:
        yield
    except BaseException:
        _batch.depth -= 1
        del _batch.rows[mark:]  # the failed block's writes are rolled back: so are its notifications
        raise
    _batch.depth -= 1
    if not _batch.depth:
        rows, _batch.rows = _batch.rows, []
        if rows:
            Notification.objects.bulk_create(rows)
            user_ids = list(dict.fromkeys(row.recipient_id for row in rows))
            transaction.on_commit(lambda: live_push(user_ids), robust=True)


def live_push(user_ids: Iterable[int]) -> None:
    """Nudge each user's open sockets to send the rows they have not sent yet."""
    layer = get_channel_layer()
    if layer is None:
        return
    send = async_to_sync(layer.group_send)
    for user_id in user_ids:
        try:
            send(user_group(user_id), {"type": "live.nudge"})
        except Exception:  # the row is saved: the socket's own poll or the page's fallback finds it
            logger.warning("live push to user %s failed", user_id, exc_info=True)


def notifications_after(user, after_id: int, limit: int = BATCH) -> list[Notification]:
    """The user's rows newer than ``after_id``, oldest first, as the stream sends them."""
    return list(
        Notification.objects.filter(recipient=user, pk__gt=after_id).select_related("matter").order_by("pk")[:limit]
    )


def unread(user) -> QuerySet:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).exclude(kind__in=TRANSIENT_KINDS)


def latest_id(user) -> int:
    return Notification.objects.filter(recipient=user).order_by("-pk").values_list("pk", flat=True).first() or 0


def payload(notification: Notification) -> dict:
    """What the browser receives for one row (socket and HTTP fallback alike)."""
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "kind_label": notification.get_kind_display(),
        "title": notification.title,
        "body": notification.body,
        "url": notification.url,
        "matter": notification.matter_id,
        "task": notification.task_id,
        "data": notification.data,
        "created_at": notification.created_at.isoformat(),
        "read": notification.is_read,
    }


def mark_read(user, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all of them when ``ids`` is None); returns how many changed."""
    rows = unread(user)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())
