"""Two applications for the whole of one holding sent at the same moment: the first reserves it, the second
is refused at once (not at implementation), for shares, an asset's lease or disposal, and a resource's term."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection
from django.utils import translation

from flows import services
from flows.models import Matter
from registers.models import Reservation, ReservationState, ShareKind
from registers.shares import shares_allocate
from tests.conftest import build_world
from tests.flows.test_disposal import asset_card, disposal_data
from tests.flows.test_leasing import leasing_data
from tests.flows.test_resource_contracting import contracting_data, make_resource

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

D = datetime.date
ROUNDS = 3


@pytest.fixture(autouse=True)
def _needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are only real on PostgreSQL (SQLite serialises whole transactions)")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def apply_at_once(world, *applications: tuple[str, dict]) -> list:
    """Each (transaction type, data) applied on its own thread and connection, released by one barrier.

    Returns, per application, the matter or the ValidationError's messages (English), or the repr of
    anything else."""
    barrier = threading.Barrier(len(applications))
    outcomes: list = [None] * len(applications)

    def worker(index, transaction_type, data):
        try:
            with translation.override("en"):
                barrier.wait()
                outcomes[index] = services.matter_apply(
                    user=world.secretary_a1,
                    organization=world.collective_a1,
                    transaction_type=transaction_type,
                    data=data,
                )
        except ValidationError as error:
            outcomes[index] = error.message_dict
        except Exception as error:  # any other failure is reported in the assertion
            outcomes[index] = repr(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, *application)) for i, application in enumerate(applications)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def one_accepted(outcomes: list) -> tuple[Matter, dict]:
    """Exactly one application went through and the other was refused with a form error."""
    accepted = [outcome for outcome in outcomes if isinstance(outcome, Matter)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, dict)]
    assert (len(accepted), len(refused)) == (1, 1), outcomes
    return accepted[0], refused[0]


def held_for(**holding) -> list[Reservation]:
    return list(Reservation.objects.filter(state=ReservationState.HELD, **holding))


def transfer(holder, receiver, shares: int, title: str) -> dict:
    return {
        "title": title,
        "kind": "internal_transfer",
        "from_member": holder,
        "to_member": receiver,
        "share_kind": ShareKind.POPULATION,
        "shares": shares,
        "price": Decimal("0.00"),
        "reason": "自愿转让",
    }


def test_two_transfers_of_a_whole_holding_at_once_the_second_is_refused():
    world = build_world()
    for round_ in range(ROUNDS):
        holder, first, second = world.members_a1[3 * round_ : 3 * round_ + 3]
        shares_allocate(member=holder, kind=ShareKind.POPULATION, shares=12)

        outcomes = apply_at_once(
            world,
            ("equity_transfer", transfer(holder, first, 12, f"转让甲{round_}")),
            ("equity_transfer", transfer(holder, second, 12, f"转让乙{round_}")),
        )

        matter, refused = one_accepted(outcomes)
        assert "12 of them already in running transfers, so at most 0 can be transferred" in refused["shares"][0]
        [reservation] = held_for(member=holder)
        assert (reservation.matter, reservation.shares) == (matter, 12)
        assert Matter.objects.filter(equity_transfer__from_member=holder).count() == 1


def test_two_transfers_that_fit_together_at_once_are_both_accepted():
    world = build_world()
    holder, first, second = world.members_a1[:3]
    shares_allocate(member=holder, kind=ShareKind.POPULATION, shares=12)
    outcomes = apply_at_once(
        world,
        ("equity_transfer", transfer(holder, first, 5, "转让甲")),
        ("equity_transfer", transfer(holder, second, 7, "转让乙")),
    )
    assert all(isinstance(outcome, Matter) for outcome in outcomes), outcomes
    assert sorted(reservation.shares for reservation in held_for(member=holder)) == [5, 7]


def test_a_lease_and_a_disposal_of_one_asset_at_once_the_second_is_refused():
    world = build_world()
    for round_ in range(ROUNDS):
        asset = asset_card(world.collective_a1, name=f"仓库{round_}")
        applications = [
            ("leasing", leasing_data(asset, title=f"出租{round_}")),
            ("leasing", leasing_data(asset, title=f"另一出租{round_}", lessee="另一公司")),
            ("disposal", disposal_data(asset, method="scrapping", title=f"报废{round_}")),
        ]
        # Two leases of one asset, then a lease against a disposal.
        for pair in (applications[:2], applications[1:]):
            outcomes = apply_at_once(world, *pair)
            matter, refused = one_accepted(outcomes)
            assert "is reserved by the running matter" in refused["asset"][0] or (
                "is already in the running matter" in refused["asset"][0]
            )
            [reservation] = held_for(asset=asset)
            assert reservation.matter == matter
            services.matter_withdraw(user=world.secretary_a1, matter_id=matter.pk, reason="重新申请")
            assert not held_for(asset=asset)


def test_two_contractings_of_one_resource_for_overlapping_terms_at_once_the_second_is_refused():
    world = build_world()
    for round_ in range(ROUNDS):
        resource = make_resource(world.collective_a1, f"A1-JJ-ZY1000{round_}")
        outcomes = apply_at_once(
            world,
            ("resource_contracting", contracting_data(resource, title=f"发包甲{round_}")),
            (
                "resource_contracting",
                contracting_data(resource, title=f"发包乙{round_}", start_date=D(2028, 1, 1), end_date=D(2032, 12, 31)),
            ),
        )
        matter, refused = one_accepted(outcomes)
        assert "is reserved from" in refused["resource"][0] or "running contracting matter" in refused["resource"][0]
        [reservation] = held_for(resource=resource)
        assert reservation.matter == matter


def test_two_contractings_of_one_resource_for_separate_terms_at_once_are_both_accepted():
    world = build_world()
    resource = make_resource(world.collective_a1, "A1-JJ-ZY20001")
    outcomes = apply_at_once(
        world,
        ("resource_contracting", contracting_data(resource, title="前五年")),
        (
            "resource_contracting",
            contracting_data(resource, title="后五年", start_date=D(2031, 1, 1), end_date=D(2035, 12, 31)),
        ),
    )
    assert all(isinstance(outcome, Matter) for outcome in outcomes), outcomes
    assert len(held_for(resource=resource)) == 2
