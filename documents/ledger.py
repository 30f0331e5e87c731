"""The tamper-evident log, written as a transparency log (RFC 9162): leaves now, positions and signed heads later.

``ledger_append`` is what every app calls. It writes one leaf inside the caller's transaction: the
canonical payload, its SHA-256 and SM3, and the leaf hash over the leaf data below. It takes no lock
and reads nothing of the log, so steps of different matters never wait for each other; a step that
rolls back takes its leaf with it. After commit the sequencer (documents/sequencer.py) gives the new
leaves their positions in batches, extends the Merkle tree and signs a tree head.

Leaf data, the bytes under the leaf hash (SHA-256 of 0x00 || data):
- format 1: canonical JSON of {"format": 1, "uid", "kind", "object_type", "object_id", "matter",
  "recorded_at", "payload_sha256", "payload_sm3"}; the payload itself travels beside it;
- format 0 (entries from before the tree, still in their hash chain): canonical JSON of {"format": 0,
  "seq", "kind", "object_type", "object_id", "payload_sha256", "prev_hash", "entry_hash"}.
Canonical JSON: keys sorted, no spaces, UTF-8, decimals and dates as text.
"""

import datetime
import hashlib
import json
import threading
import uuid
from collections.abc import Iterable
from contextlib import contextmanager
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.functional import Promise

from .digests import sm3_hex
from .ledger_tasks import sequence_ledger
from .merkle import leaf_hash
from .models import LeafFormat, LedgerEntry, LedgerKind

__all__ = ["LedgerKind", "canonical_json", "leaf_data", "ledger_append", "normalised", "payload_hash_of"]

GENESIS_HASH = "0" * 64


# --- canonical form ----------------------------------------------------------------


def _plain(value):
    """JSON for what json cannot write itself: the same value always gives the same text."""
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = value.astimezone(datetime.UTC)
        return value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID | Promise):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    raise TypeError(f"{type(value).__name__} cannot go into a ledger payload")


def canonical_json(payload) -> str:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_plain)


def normalised(value):
    """The value as the log stores it (what a JSON round trip of the canonical form gives back)."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=_plain))


def payload_hash_of(payload) -> str:
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def entry_hash_of(*, seq: int, kind: str, object_type: str, object_id: str, payload_hash: str, prev_hash: str) -> str:
    """The hash chain link of a format-0 entry."""
    return hashlib.sha256(f"{seq}|{kind}|{object_type}|{object_id}|{payload_hash}|{prev_hash}".encode()).hexdigest()


def sha256_of_chunks(chunks: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


# --- leaves ------------------------------------------------------------------------


def _moment(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def leaf_data(entry: LedgerEntry) -> bytes:
    """The bytes under the entry's leaf hash (module docstring): all a verifier needs beside the payload."""
    if entry.format == LeafFormat.CHAIN:
        fields = {
            "format": 0,
            "seq": entry.seq,
            "kind": entry.kind,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "payload_sha256": entry.payload_hash,
            "prev_hash": entry.prev_hash,
            "entry_hash": entry.entry_hash,
        }
    else:
        fields = {
            "format": 1,
            "uid": str(entry.uid),
            "kind": entry.kind,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "matter": entry.matter_id,
            "recorded_at": _moment(entry.recorded_at),
            "payload_sha256": entry.payload_hash,
            "payload_sm3": entry.payload_sm3,
        }
    return canonical_json(fields).encode()


def leaf_hashes_of(entry: LedgerEntry) -> tuple[str, str]:
    """(SHA-256 leaf hash with the RFC 9162 prefix, SM3 of the same prefixed bytes), in hex."""
    data = leaf_data(entry)
    return leaf_hash(data).hex(), sm3_hex(b"\x00" + data)


def object_pk_of(object_id: str) -> int | None:
    return int(object_id) if object_id.isdigit() and len(object_id) < 19 else None


def ledger_append(
    *, kind: str, obj=None, object_type: str = "", object_id: str = "", matter=None, payload: dict
) -> LedgerEntry:
    """Write one leaf inside the caller's transaction: no lock, no read of the log.

    Its position (``seq``) is given by the sequencer after commit, within seconds.
    """
    entry = ledger_leaf(
        kind=kind, obj=obj, object_type=object_type, object_id=object_id, matter=matter, payload=payload
    )
    if _batch.depth:
        _batch.entries.append(entry)  # a step's leaves go in with one INSERT at its end (``batched``)
    else:
        entry.save(force_insert=True)
    _sequence_after_commit()
    return entry


def ledger_append_many(entries: list[LedgerEntry]) -> None:
    """Write many leaves built by ``ledger_leaf`` in one insert (a bulk import), like ``ledger_append`` each.

    Inside a batch (a step) they join its leaves, in the order they were written, in its one INSERT."""
    if not entries:
        return
    if _batch.depth:
        _batch.entries.extend(entries)
    else:
        LedgerEntry.objects.bulk_create(entries, batch_size=1000)
    _sequence_after_commit()


def ledger_leaf(
    *, kind: str, obj=None, object_type: str = "", object_id: str = "", matter=None, payload: dict
) -> LedgerEntry:
    """One leaf, hashed and ready to insert, not yet saved."""
    if kind not in LedgerKind.values:
        raise ValueError(f"unknown ledger kind {kind!r}")
    if obj is not None:
        object_type = object_type or obj._meta.object_name
        object_id = object_id or str(obj.pk)
    object_id = str(object_id)
    canonical = canonical_json(payload).encode()
    entry = LedgerEntry(
        uid=uuid.uuid4(),
        format=LeafFormat.LEAF,
        kind=kind,
        object_type=object_type,
        object_id=object_id,
        object_pk=object_pk_of(object_id),
        matter_id=getattr(matter, "pk", matter),
        payload=json.loads(canonical),
        payload_hash=hashlib.sha256(canonical).hexdigest(),
        payload_sm3=sm3_hex(canonical),
        recorded_at=timezone.now(),
    )
    entry.leaf_hash, entry.leaf_sm3 = leaf_hashes_of(entry)
    return entry


class _Batch(threading.local):
    depth = 0

    def __init__(self):
        self.entries: list[LedgerEntry] = []


_batch = _Batch()


@contextmanager
def batched():
    """Leaves appended inside the block are inserted together (one INSERT) when it ends.

    For a block that is all of one transaction, as a step is: the leaves are still written inside it,
    before its commit, and an error that ends a block drops the leaves written in it (its rows are rolled
    back too). Nested blocks write once, at the end of the outermost."""
    _batch.depth += 1
    mark = len(_batch.entries)
    try:
        yield
    except BaseException:
        # What the failed block wrote is rolled back (by its savepoint or the whole transaction): so are its leaves.
        _batch.depth -= 1
        del _batch.entries[mark:]
        raise
    _batch.depth -= 1
    if not _batch.depth:
        batch_flush()


def batch_flush() -> None:
    """Insert the leaves a batch holds so far (a batch that must be read from before it ends)."""
    entries, _batch.entries = _batch.entries, []
    if entries:
        LedgerEntry.objects.bulk_create(entries, batch_size=1000)


def _queue_sequencer() -> None:
    sequence_ledger.delay()


def _sequence_after_commit() -> None:
    if not settings.LEDGER_SEQUENCE_ON_COMMIT:
        return
    # Once per transaction, however many leaves it writes. robust: a broker that is down must not
    # undo the step; beat runs the sequencer every few seconds anyway.
    queued = (callback for _sids, callback, _robust in connection.run_on_commit)
    if connection.in_atomic_block and any(callback is _queue_sequencer for callback in queued):
        return
    transaction.on_commit(_queue_sequencer, robust=True)
