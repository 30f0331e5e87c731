"""Entries of the old hash chain move into the Merkle tree in their order, and the chain's check keeps working."""

import hashlib
import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone, translation

from documents import merkle
from documents.ledger_verify import ledger_verify
from documents.models import LedgerEntry, TreeHead, TreeNode
from documents.sequencer import sequence_pending

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("documents", "0004_rendereddocument_requested_by")]


def chain_hash(seq, payload_hash, previous):
    return hashlib.sha256(f"{seq}|decision|Test|{seq}|{payload_hash}|{previous}".encode()).hexdigest()


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def test_old_entries_become_the_first_leaves_and_still_verify():
    migrate(BEFORE)
    old = MigrationExecutor(connection).loader.project_state(BEFORE).apps.get_model("documents", "LedgerEntry")
    previous = "0" * 64
    for seq in range(1, 6):
        payload = {"n": seq}
        payload_hash = hashlib.sha256(json.dumps(payload, separators=(",", ":")).encode()).hexdigest()
        entry_hash = chain_hash(seq, payload_hash, previous)
        old.objects.create(
            seq=seq,
            kind="decision",
            object_type="Test",
            object_id=str(seq),
            payload=payload,
            payload_hash=payload_hash,
            prev_hash=previous,
            entry_hash=entry_hash,
            recorded_at=timezone.now(),
        )
        previous = entry_hash
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    entries = list(LedgerEntry.objects.order_by("seq"))
    assert [entry.seq for entry in entries] == [1, 2, 3, 4, 5]
    assert {entry.format for entry in entries} == {0}
    leaves = [bytes.fromhex(entry.leaf_hash) for entry in entries]
    assert {(node.level, node.index): bytes.fromhex(node.hash) for node in TreeNode.objects.all()} == (
        merkle.tree_from_leaves(leaves)
    )
    sequence_pending()
    assert TreeHead.objects.get().root_hash == merkle.mth(leaves).hex(), "the sequencer signs the migrated tree"
    with translation.override("en"):
        assert ledger_verify().ok
        LedgerEntry.objects.filter(seq=3).update(prev_hash="1" * 64)
        result = ledger_verify()
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "does not follow entry #2" in result.reason
