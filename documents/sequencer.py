"""The sequencer: gives new leaves their positions in batches, grows the Merkle tree, signs a tree head.

Like a Certificate Transparency log's sequencer (Trillian, Tessera): steps only write leaves; this
runs in a Celery worker, after each commit and on beat, one at a time by a lock of its own (a
PostgreSQL advisory lock taken only here, inside the sequencer's own short transaction; SQLite
serialises writers anyway). Each batch takes the committed leaves still without a position in the
order they were written, appends them to the tree, stores the nodes that became complete and
publishes a signed tree head over the new size. Proofs then read O(log² n) stored nodes.
"""

import logging
from collections import defaultdict

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from . import merkle
from .models import LedgerEntry, TreeHead, TreeNode
from .signing import checkpoint_body, join_note, signers

logger = logging.getLogger(__name__)

# Any fixed number, the same in every process, and used by nothing else: the sequencer's own lock.
SEQUENCER_LOCK_KEY = 0x5A4E_5E9C


class TreeIncomplete(Exception):
    """A node a proof needs is not stored: the tree was damaged, or the leaf is not sequenced yet."""


def _try_lock() -> bool:
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SEQUENCER_LOCK_KEY])
        return bool(cursor.fetchone()[0])


def tree_size() -> int:
    """How many leaves have a position: seq runs 1..size with no gap."""
    return LedgerEntry.objects.aggregate(size=Max("seq"))["size"] or 0


def fetch_nodes(keys) -> dict[merkle.NodeKey, bytes]:
    """The stored nodes at these (level, index) places, in one query."""
    keys = set(keys)
    if not keys:
        return {}
    by_level = defaultdict(list)
    for level, index in keys:
        by_level[level].append(index)
    where = Q()
    for level, indexes in by_level.items():
        where |= Q(level=level, index__in=indexes)
    found = {
        (level, index): bytes.fromhex(value)
        for level, index, value in TreeNode.objects.filter(where).values_list("level", "index", "hash")
    }
    missing = keys - found.keys()
    if missing:
        raise TreeIncomplete(f"tree nodes missing: {sorted(missing)[:5]}")
    return found


def latest_head() -> TreeHead | None:
    return TreeHead.objects.order_by("-size").first()


def root_at(size: int) -> bytes:
    return merkle.root_from(size, fetch_nodes)


def publish_head(*, size: int, root: bytes) -> TreeHead:
    """Sign and store the tree head of ``size`` leaves (the caller holds the sequencer's lock)."""
    now = timezone.now()
    body = checkpoint_body(origin=settings.LEDGER_ORIGIN, size=size, root=root, timestamp=int(now.timestamp()))
    note = join_note(body, [signer.sign_note(body) for signer in signers()])
    return TreeHead.objects.create(size=size, root_hash=root.hex(), timestamp=now, note=note)


def _place(pending: list[tuple[int, str]], size: int, now) -> None:
    """Give the pending leaves (in id order) the positions after ``size``, in one statement per chunk.

    The ids of a batch are mostly consecutive: each run of consecutive ids gets its positions by one
    arithmetic UPDATE (seq = id + offset), instead of a CASE branch per row."""
    runs = []  # (first id, last id, seq of the first)
    for offset, (pk, _hash) in enumerate(pending):
        seq = size + offset + 1
        if runs and pk == runs[-1][1] + 1 and seq == runs[-1][2] + (pk - runs[-1][0]):
            runs[-1] = (runs[-1][0], pk, runs[-1][2])
        else:
            runs.append((pk, pk, seq))
    for first, last, seq in runs:
        LedgerEntry.objects.filter(id__gte=first, id__lte=last, seq__isnull=True).update(
            seq=F("id") + (seq - first), sequenced_at=now
        )


def sequence_batch(batch_size: int | None = None) -> tuple[int, TreeHead | None] | None:
    """Sequence one batch; (leaves sequenced, new head), or None when another sequencer holds the lock."""
    batch_size = batch_size or settings.LEDGER_BATCH_SIZE
    with transaction.atomic():
        if not _try_lock():
            return None
        size = tree_size()
        pending = list(
            LedgerEntry.objects.filter(seq__isnull=True).order_by("id").values_list("id", "leaf_hash")[:batch_size]
        )
        if not pending:
            head = latest_head()
            if size and (head is None or head.size < size):
                # Leaves sequenced without a head (entries migrated from the hash chain): sign them now.
                return 0, publish_head(size=size, root=root_at(size))
            return 0, None
        frontier = fetch_nodes(merkle.frontier_nodes(size))
        new_nodes = merkle.extend(size, [bytes.fromhex(value) for _pk, value in pending], frontier)
        now = timezone.now()
        _place(pending, size, now)
        TreeNode.objects.bulk_create(
            [
                TreeNode(level=level, index=index, last_leaf=merkle.last_leaf_of(level, index), hash=value.hex())
                for (level, index), value in new_nodes.items()
            ],
            batch_size=1000,
        )
        new_size = size + len(pending)
        head = publish_head(size=new_size, root=merkle.root_after(new_size, new_nodes, frontier))
    return len(pending), head


def sequence_pending(*, batch_size: int | None = None, max_batches: int = 10_000) -> int:
    """Sequence batches until no committed leaf is left without a position; returns how many were placed.

    Returns early when another sequencer holds the lock: it goes on until the log is drained.
    """
    placed = 0
    for _batch in range(max_batches):
        outcome = sequence_batch(batch_size)
        if outcome is None:
            break
        count, head = outcome
        placed += count
        if head is not None:
            logger.info("ledger head %s %s", head.size, head.root_hash)
        if count == 0:
            break
    return placed


# --- proofs ------------------------------------------------------------------------------------


def inclusion_proof(entry: LedgerEntry, size: int) -> list[bytes]:
    if entry.seq is None or entry.seq > size:
        raise TreeIncomplete("the entry has no position in a tree of that size yet")
    return merkle.inclusion_proof(entry.seq - 1, size, fetch_nodes)


def consistency_proof(old_size: int, new_size: int) -> list[bytes]:
    return merkle.consistency_proof(old_size, new_size, fetch_nodes)
