"""Two transfers of one holding implemented at the same moment: the holder's row lock lets only one oversell-free."""

from itertools import accumulate

import pytest
from django.db import connection

from flows import services
from flows.models import Decision, Matter, Step
from registers.models import ShareKind, ShareLedgerEntry, ShareReason
from registers.shares import holdings, shares_allocate
from tests.concurrency.test_two_approvers import run_at_once
from tests.conftest import build_world
from tests.drive import refresh
from tests.flows.test_spine import to_step

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are only real on PostgreSQL (SQLite serialises whole transactions)")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def apply_transfer(world, holder, receiver, shares: int) -> Matter:
    return services.matter_apply(
        user=world.secretary_a1,
        organization=world.collective_a1,
        transaction_type="equity_transfer",
        data={
            "title": "股权内部转让",
            "kind": "internal_transfer",
            "from_member": holder,
            "to_member": receiver,
            "share_kind": ShareKind.POPULATION,
            "shares": shares,
            "price": 0,
            "reason": "自愿转让",
        },
    )


def implement(world, matter):
    task = services.active_task(refresh(matter), Step.IMPLEMENT)
    return lambda: services.step_perform(
        user=world.cashier_a1, task_id=task.pk, decision=Decision.DONE, opinion="已办理"
    )


def test_two_transfers_of_one_holding_at_once_never_oversell():
    world = build_world()
    holder, first_receiver, second_receiver = world.members_a1[9:12]
    shares_allocate(member=holder, kind=ShareKind.POPULATION, shares=12)
    first = to_step(world, apply_transfer(world, holder, first_receiver, 6), Step.IMPLEMENT)
    second = to_step(world, apply_transfer(world, holder, second_receiver, 6), Step.IMPLEMENT)
    # The allocation is corrected downwards while both wait: each still fits alone, together they oversell.
    ShareLedgerEntry.objects.create(
        organization=world.collective_a1,
        member=holder,
        kind=ShareKind.POPULATION,
        change=-2,
        reason=ShareReason.ALLOCATION,
    )

    outcomes = run_at_once(implement(world, first), implement(world, second))

    assert sorted(outcomes) == ["ok", "refused"]
    assert holdings(holder)[ShareKind.POPULATION] == 4
    changes = holder.share_entries.filter(kind=ShareKind.POPULATION).order_by("pk").values_list("change", flat=True)
    assert min(accumulate(changes)) >= 0
    done, waiting = (first, second) if outcomes[0] == "ok" else (second, first)
    assert refresh(done).next_step == Step.PUBLISH_RESULT
    assert refresh(waiting).next_step == Step.IMPLEMENT
    assert not ShareLedgerEntry.objects.filter(matter=waiting).exists()
    assert ShareLedgerEntry.objects.filter(matter=done).count() == 2
    assert holder.certificates.filter(superseded_at__isnull=True).count() == 1


def test_transfers_in_opposite_directions_at_once_both_complete():
    world = build_world()
    left, right = world.members_a1[10:12]
    for member in (left, right):
        shares_allocate(member=member, kind=ShareKind.POPULATION, shares=5)
    there = to_step(world, apply_transfer(world, left, right, 3), Step.IMPLEMENT)
    back = to_step(world, apply_transfer(world, right, left, 2), Step.IMPLEMENT)

    # Both lock the two rows in the same (primary-key) order, so neither waits on the other forever.
    outcomes = run_at_once(implement(world, there), implement(world, back))

    assert outcomes == ["ok", "ok"]
    assert holdings(left)[ShareKind.POPULATION] == 4
    assert holdings(right)[ShareKind.POPULATION] == 6
