"""The log takes no lock in a step's transaction: simultaneous steps never wait for each other (PostgreSQL)."""

import threading
import time

import pytest
from django.db import connection, transaction

from documents.ledger import LedgerKind, ledger_append
from documents.ledger_verify import ledger_verify
from documents.models import LedgerEntry, TreeHead
from documents.sequencer import sequence_pending
from tests.conftest import build_world
from tests.drive import act, apply_purchase

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("locks are only real on PostgreSQL (SQLite serialises whole transactions)")


def in_thread(target, errors):
    def run():
        try:
            target()
        except Exception as error:  # reported by the assertion on errors
            errors.append(repr(error))
        finally:
            connection.close()

    return threading.Thread(target=run)


def test_a_step_commits_while_another_steps_transaction_with_leaves_stays_open():
    world = build_world()
    first, second = apply_purchase(world), apply_purchase(world)
    first_has_written = threading.Event()
    release_first = threading.Event()
    timings, errors = {}, []

    def slow_step():
        with transaction.atomic():
            act(world.secretary_a1, first)
            first_has_written.set()
            release_first.wait(timeout=30)

    def quick_step():
        first_has_written.wait(timeout=30)
        began = time.monotonic()
        act(world.secretary_a1, second)
        timings["quick"] = time.monotonic() - began
        release_first.set()

    threads = [in_thread(slow_step, errors), in_thread(quick_step, errors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert timings["quick"] < 10, "the second step did not wait for the first one's transaction"
    sequence_pending()
    assert not LedgerEntry.objects.filter(seq__isnull=True).exists()
    seqs = list(LedgerEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    result = ledger_verify()
    assert result.ok, result.reason


def test_sequencers_racing_place_every_leaf_once():
    errors = []

    def writer(name: str):
        barrier.wait()
        for number in range(30):
            with transaction.atomic():
                ledger_append(kind=LedgerKind.DECISION, object_type="Test", object_id=f"{name}{number}", payload={})

    def sequencer():
        barrier.wait()
        for _ in range(40):
            sequence_pending(batch_size=7)
            time.sleep(0.005)

    threads = [in_thread(lambda: writer("a"), errors), in_thread(lambda: writer("b"), errors)]
    threads += [in_thread(sequencer, errors)]
    threads += [in_thread(sequencer, errors)]
    barrier = threading.Barrier(len(threads))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    sequence_pending()
    assert list(LedgerEntry.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, 61))
    sizes = list(TreeHead.objects.order_by("size").values_list("size", flat=True))
    assert sizes == sorted(set(sizes)) and sizes[-1] == 60
    assert ledger_verify().ok
