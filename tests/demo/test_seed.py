"""`seed_demo` fills every register of every demo village, and a second run changes nothing."""

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from demo.seed import (
    BANK_OPENING_RANGE,
    CASH_OPENING,
    SCENARIOS,
    SHARES_ADULT_ON,
    VILLAGES,
    collective_code,
    demo_collectives,
    labour_age_shares,
    matters_seed,
)
from flows.models import MeetingDecision
from organizations.law import TWO_THIRDS
from organizations.models import MeetingBody, Organization
from registers.funds import fund_balance
from registers.models import (
    AccountKind,
    AssetStatus,
    Contract,
    ContractKind,
    ContractStatus,
    Direction,
    MemberStatus,
    ResourceKind,
    ResourceStatus,
    ShareKind,
)
from registers.shares import holdings

pytestmark = pytest.mark.django_db

FAILED_VOTE = next(scenario for scenario in SCENARIOS if scenario.ending == "fail_vote")
ADULT_BORN_BY = SHARES_ADULT_ON.replace(year=SHARES_ADULT_ON.year - 18)


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    """How many rows every table holds, history and many-to-many tables included."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }


@pytest.fixture
def collectives() -> list[Organization]:
    seed()
    return [Organization.objects.get(code=collective_code(code)) for code, _name, _township in VILLAGES]


def test_a_second_run_changes_no_table():
    seed()
    first = row_counts()
    output = seed()
    assert row_counts() == first
    assert all(" 0 created" in line for line in output.splitlines())


def test_each_collective_has_a_bank_account_and_a_cash_box_with_income(collectives):
    for collective in collectives:
        bank = collective.fund_accounts.get(kind=AccountKind.BANK)
        cash = collective.fund_accounts.get(kind=AccountKind.CASH)
        assert BANK_OPENING_RANGE[0] <= bank.opening_balance <= BANK_OPENING_RANGE[1]
        assert cash.opening_balance == CASH_OPENING
        assert bank.movements.filter(direction=Direction.IN).count() >= 3
        assert not bank.movements.filter(direction=Direction.OUT).exists()
        assert fund_balance(bank) > bank.opening_balance


def test_each_collective_has_resources_of_every_kind_one_already_contracted(collectives):
    for collective in collectives:
        resources = collective.resources.all()
        assert 4 <= len(resources) <= 6
        assert {ResourceKind.CULTIVATED, ResourceKind.FOREST, ResourceKind.WATER, ResourceKind.WASTELAND} <= {
            resource.kind for resource in resources
        }
        (contracted,) = [resource for resource in resources if resource.status == ResourceStatus.CONTRACTED]
        contract = contracted.contracts.get()
        assert (contract.kind, contract.status, contract.organization) == (
            ContractKind.CONTRACTING,
            ContractStatus.ACTIVE,
            collective,
        )
        assert contract.trading_reference
        assert sum(payment.amount for payment in contract.payments.all()) == contract.amount


def test_each_collective_has_one_asset_leased_through_a_lease_contract(collectives):
    for collective in collectives:
        (leased,) = collective.assets.filter(status=AssetStatus.LEASED)
        lease = leased.contracts.get()
        assert (lease.kind, lease.status) == (ContractKind.LEASE, ContractStatus.ACTIVE)
        # Instalments already due were paid, each an income on the bank account.
        paid = lease.payments.filter(paid_on__isnull=False)
        assert paid.exists()
        bank = collective.fund_accounts.get(kind=AccountKind.BANK)
        for payment in paid:
            assert bank.movements.filter(occurred_on=payment.due_on, amount=payment.amount).exists()
    assert Contract.objects.filter(kind=ContractKind.LEASE).count() == len(collectives)


def test_every_active_adult_member_holds_shares_with_a_certificate(collectives):
    for collective in collectives:
        members = collective.members.all()
        adults = [m for m in members if m.status == MemberStatus.ACTIVE and m.birth_date <= ADULT_BORN_BY]
        assert adults
        for member in members:
            held = holdings(member)
            if member in adults:
                assert held[ShareKind.POPULATION] == 1
                assert 1 <= held[ShareKind.LABOUR_AGE] <= 3
                assert held[ShareKind.LABOUR_AGE] == labour_age_shares(member)
                certificate = member.certificates.get(superseded_at__isnull=True)
                assert certificate.holdings == {kind: shares for kind, shares in held.items() if shares}
                assert certificate.matter is None
            else:
                assert sum(held.values()) == 0
                assert not member.certificates.exists()


@pytest.mark.django_db
def test_seed_matters_if_empty_adds_matters_once():
    from flows.models import Matter

    call_command("seed_demo", verbosity=0)
    call_command("seed_matters", "3", "--if-empty", stdout=StringIO())
    assert Matter.objects.count() == 3
    call_command("seed_matters", "3", "--if-empty", stdout=StringIO())
    assert Matter.objects.count() == 3


def test_the_demos_failed_member_vote_is_a_majority_under_two_thirds_of_all_members():
    call_command("seed_demo", verbosity=0)
    results = matters_seed(count=SCENARIOS.index(FAILED_VOTE) + 1, collectives=demo_collectives())
    matter, scenario = results[-1]
    assert scenario == FAILED_VOTE
    decision = MeetingDecision.objects.get(matter=matter, passed=False)
    meeting = decision.meeting
    assert meeting.body == MeetingBody.MEMBER_ASSEMBLY
    assert decision.votes_for > meeting.attended_count / 2, "a majority of those present"
    assert decision.votes_for == TWO_THIRDS.needed(meeting.expected_count) - 1, "one vote under 2/3 of all"
    assert str(decision.votes_for + 1) in decision.reason and "2/3" in decision.reason
