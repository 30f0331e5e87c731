import datetime
import itertools
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from flows.models import PaymentFrequency
from registers.contracts import (
    add_months,
    contract_create,
    contract_total,
    overlapping_contracts,
    payment_schedule,
)
from registers.models import (
    Asset,
    AssetStatus,
    Contract,
    ContractKind,
    ContractPayment,
    ContractStatus,
    Resource,
    ResourceKind,
    ResourceStatus,
)

D = datetime.date
_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def make_resource(organization, **fields) -> Resource:
    number = next(_numbers)
    defaults = dict(
        code=f"{organization.code}-ZY{number:05d}",
        name=f"东坡耕地{number}",
        kind=ResourceKind.CULTIVATED,
        location="村东",
        area_mu=Decimal("35.50"),
    )
    return Resource.objects.create(organization=organization, **{**defaults, **fields})


def make_asset(organization, **fields) -> Asset:
    number = next(_numbers)
    defaults = dict(
        code=f"{organization.code}-ZC{number:05d}",
        name=f"仓库{number}",
        category="房屋",
        unit_price=Decimal("80000.00"),
        original_value=Decimal("80000.00"),
        acquired_on=D(2020, 5, 1),
    )
    return Asset.objects.create(organization=organization, **{**defaults, **fields})


FIRST_DAY, LAST_DAY, ANNUAL = D(2026, 1, 1), D(2028, 12, 31), Decimal("6000.00")


def contract_resource(organization, resource, start=FIRST_DAY, end=LAST_DAY, annual=ANNUAL):
    amount = contract_total(start_date=start, end_date=end, annual_amount=annual)
    return contract_create(
        organization=organization,
        kind=ContractKind.CONTRACTING,
        counterparty="张三",
        start_date=start,
        end_date=end,
        amount=amount,
        schedule=payment_schedule(start, end, annual, PaymentFrequency.YEARLY),
        resource=resource,
    )


# --- terms and schedules ------------------------------------------------------------


def test_add_months_keeps_the_day_or_takes_the_month_end():
    assert add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert add_months(D(2026, 1, 31), 2) == D(2026, 3, 31)
    assert add_months(D(2028, 2, 29), 12) == D(2029, 2, 28)
    assert add_months(D(2026, 11, 15), 3) == D(2027, 2, 15)


def test_whole_years_cost_the_annual_amount_each_even_across_a_leap_year():
    total = contract_total(start_date=D(2026, 1, 1), end_date=D(2030, 12, 31), annual_amount=Decimal("8000"))
    assert total == Decimal("40000.00")
    total = contract_total(start_date=D(2027, 3, 1), end_date=D(2028, 2, 29), annual_amount=Decimal("8000"))
    assert total == Decimal("8000.00")


def test_part_year_is_prorated_by_days_over_365():
    # One whole year, then 2027-01-01 .. 2027-06-30: 181 days.
    total = contract_total(start_date=D(2026, 1, 1), end_date=D(2027, 6, 30), annual_amount=Decimal("10000"))
    assert total == Decimal("10000") + Decimal("4958.90")
    assert contract_total(start_date=D(2026, 1, 1), end_date=D(2026, 1, 10), annual_amount=Decimal("365")) == Decimal(
        "10.00"
    )


def test_yearly_schedule_is_due_at_each_anniversary():
    schedule = payment_schedule(D(2026, 1, 1), D(2030, 12, 31), Decimal("8000.00"), PaymentFrequency.YEARLY)
    assert schedule == [(D(year, 1, 1), Decimal("8000.00")) for year in range(2026, 2031)]


def test_quarterly_schedule_splits_each_year_into_four():
    schedule = payment_schedule(D(2026, 4, 1), D(2027, 3, 31), Decimal("10000.00"), PaymentFrequency.QUARTERLY)
    assert schedule == [
        (D(2026, 4, 1), Decimal("2500.00")),
        (D(2026, 7, 1), Decimal("2500.00")),
        (D(2026, 10, 1), Decimal("2500.00")),
        (D(2027, 1, 1), Decimal("2500.00")),
    ]


def test_monthly_schedule_puts_the_rounding_remainder_on_each_years_last_instalment():
    schedule = payment_schedule(D(2026, 1, 1), D(2027, 12, 31), Decimal("1000.00"), PaymentFrequency.MONTHLY)
    assert len(schedule) == 24
    assert [amount for _due, amount in schedule[:11]] == [Decimal("83.33")] * 11
    assert schedule[11] == (D(2026, 12, 1), Decimal("83.37"))
    assert schedule[-1] == (D(2027, 12, 1), Decimal("83.37"))
    assert sum(amount for _due, amount in schedule) == Decimal("2000.00")


def test_once_is_one_instalment_of_the_whole_term_in_advance():
    schedule = payment_schedule(D(2026, 1, 1), D(2027, 6, 30), Decimal("10000.00"), PaymentFrequency.ONCE)
    assert schedule == [(D(2026, 1, 1), Decimal("14958.90"))]


def test_short_last_year_is_split_by_the_days_of_its_periods():
    # 2027-01-01 .. 2027-02-14 is 45 days: a whole January and 14 days of February.
    schedule = payment_schedule(D(2026, 1, 1), D(2027, 2, 14), Decimal("3650.00"), PaymentFrequency.MONTHLY)
    assert schedule[-2:] == [(D(2027, 1, 1), Decimal("310.00")), (D(2027, 2, 1), Decimal("140.00"))]


@pytest.mark.parametrize("frequency", PaymentFrequency.values)
@pytest.mark.parametrize(
    ("start", "end", "annual"),
    [
        (D(2026, 1, 1), D(2030, 12, 31), "8000.00"),
        (D(2026, 1, 31), D(2029, 3, 1), "12345.67"),
        (D(2028, 2, 29), D(2031, 2, 27), "9999.99"),
        (D(2026, 2, 1), D(2026, 3, 1), "1000.00"),
        (D(2026, 5, 20), D(2026, 5, 21), "0.07"),
        (D(2026, 7, 1), D(2056, 6, 30), "1234.56"),
    ],
)
def test_schedule_sums_exactly_to_the_total_with_no_negative_instalment(frequency, start, end, annual):
    annual = Decimal(annual)
    schedule = payment_schedule(start, end, annual, frequency)
    total = contract_total(start_date=start, end_date=end, annual_amount=annual)
    assert sum(amount for _due, amount in schedule) == total
    assert all(amount >= 0 for _due, amount in schedule)
    due_dates = [due_on for due_on, _amount in schedule]
    assert due_dates == sorted(set(due_dates))
    assert due_dates[0] == start
    assert all(start <= due_on <= end for due_on in due_dates)


# --- the register ---------------------------------------------------------------------


def test_contract_create_enters_contract_schedule_and_marks_the_resource(world):
    resource = make_resource(world.collective_a1)
    contract = contract_resource(world.collective_a1, resource)
    assert contract.code == "A1-JJ-HT00001"
    assert (contract.kind, contract.status, contract.amount) == (
        ContractKind.CONTRACTING,
        ContractStatus.ACTIVE,
        Decimal("18000.00"),
    )
    assert list(contract.payments.values_list("due_on", "amount")) == [
        (D(2026, 1, 1), Decimal("6000.00")),
        (D(2027, 1, 1), Decimal("6000.00")),
        (D(2028, 1, 1), Decimal("6000.00")),
    ]
    resource.refresh_from_db()
    assert resource.status == ResourceStatus.CONTRACTED
    assert resource.history.count() == 2
    assert resource.history.first().status == ResourceStatus.CONTRACTED
    assert contract.history.count() == 1
    assert ContractPayment.history.filter(contract_id=contract.pk).count() == 3


def test_contract_numbers_count_up_within_the_collective(world):
    first = contract_resource(world.collective_a1, make_resource(world.collective_a1))
    second = contract_resource(world.collective_a1, make_resource(world.collective_a1))
    other = contract_resource(world.collective_a2, make_resource(world.collective_a2))
    assert (first.code, second.code, other.code) == ("A1-JJ-HT00001", "A1-JJ-HT00002", "A2-JJ-HT00001")


def test_lease_marks_the_asset_leased(world):
    asset = make_asset(world.collective_a1)
    contract = contract_create(
        organization=world.collective_a1,
        kind=ContractKind.LEASE,
        counterparty="某物流公司",
        start_date=D(2026, 1, 1),
        end_date=D(2026, 12, 31),
        amount=Decimal("12000.00"),
        schedule=payment_schedule(D(2026, 1, 1), D(2026, 12, 31), Decimal("12000.00"), PaymentFrequency.QUARTERLY),
        asset=asset,
    )
    asset.refresh_from_db()
    assert asset.status == AssetStatus.LEASED
    assert asset.history.count() == 2
    assert list(asset.contracts.all()) == [contract]


def test_overlapping_contracts_share_at_least_one_day(world):
    resource = make_resource(world.collective_a1)
    contract = contract_resource(world.collective_a1, resource, start=D(2026, 1, 1), end=D(2028, 12, 31))
    assert list(overlapping_contracts(resource, D(2028, 12, 31), D(2030, 12, 31))) == [contract]
    assert list(overlapping_contracts(resource, D(2025, 1, 1), D(2026, 1, 1))) == [contract]
    assert not overlapping_contracts(resource, D(2029, 1, 1), D(2030, 12, 31)).exists()
    Contract.objects.filter(pk=contract.pk).update(status=ContractStatus.TERMINATED)
    assert not overlapping_contracts(resource, D(2027, 1, 1), D(2027, 12, 31)).exists()


def test_an_overlapping_contract_is_refused_and_nothing_changes(world):
    resource = make_resource(world.collective_a1)
    existing = contract_resource(world.collective_a1, resource)
    with pytest.raises(ValidationError) as error:
        contract_resource(world.collective_a1, resource, start=D(2028, 1, 1), end=D(2032, 12, 31))
    assert "already contracted" in error.value.message_dict["resource"][0]
    assert existing.code in error.value.message_dict["resource"][0]
    assert Contract.objects.count() == 1
    assert ContractPayment.objects.count() == 3


def test_a_later_term_on_the_same_resource_is_allowed(world):
    resource = make_resource(world.collective_a1)
    contract_resource(world.collective_a1, resource, start=D(2026, 1, 1), end=D(2028, 12, 31))
    later = contract_resource(world.collective_a1, resource, start=D(2029, 1, 1), end=D(2030, 12, 31))
    assert later.code == "A1-JJ-HT00002"


@pytest.mark.parametrize("status", [AssetStatus.LEASED, AssetStatus.DISPOSED])
def test_leasing_a_leased_or_disposed_asset_is_refused(world, status):
    asset = make_asset(world.collective_a1, status=status)
    with pytest.raises(ValidationError) as error:
        contract_create(
            organization=world.collective_a1,
            kind=ContractKind.LEASE,
            counterparty="某公司",
            start_date=D(2026, 1, 1),
            end_date=D(2026, 12, 31),
            amount=Decimal("1000.00"),
            schedule=[(D(2026, 1, 1), Decimal("1000.00"))],
            asset=asset,
        )
    assert "cannot be leased" in error.value.message_dict["asset"][0]
    assert not Contract.objects.exists()
    asset.refresh_from_db()
    assert asset.status == status


def test_a_schedule_that_does_not_add_up_is_refused(world):
    resource = make_resource(world.collective_a1)
    with pytest.raises(ValidationError) as error:
        contract_create(
            organization=world.collective_a1,
            kind=ContractKind.CONTRACTING,
            counterparty="张三",
            start_date=D(2026, 1, 1),
            end_date=D(2027, 12, 31),
            amount=Decimal("10000.00"),
            schedule=[(D(2026, 1, 1), Decimal("5000.00")), (D(2027, 1, 1), Decimal("4999.99"))],
            resource=resource,
        )
    assert "does not add up" in error.value.message_dict["schedule"][0]
    assert not Contract.objects.exists()
    resource.refresh_from_db()
    assert resource.status == ResourceStatus.UNCONTRACTED


def test_a_payment_due_outside_the_term_is_refused(world):
    resource = make_resource(world.collective_a1)
    with pytest.raises(ValidationError) as error:
        contract_create(
            organization=world.collective_a1,
            kind=ContractKind.CONTRACTING,
            counterparty="张三",
            start_date=D(2026, 1, 1),
            end_date=D(2026, 12, 31),
            amount=Decimal("1000.00"),
            schedule=[(D(2027, 1, 1), Decimal("1000.00"))],
            resource=resource,
        )
    assert "schedule" in error.value.message_dict
    assert not Contract.objects.exists()


def test_a_subject_of_another_collective_is_refused(world):
    resource = make_resource(world.collective_a2)
    with pytest.raises(ValidationError) as error:
        contract_resource(world.collective_a1, resource)
    assert "resource" in error.value.message_dict
    assert not Contract.objects.exists()


def test_a_term_that_ends_before_it_starts_is_refused(world):
    resource = make_resource(world.collective_a1)
    with pytest.raises(ValidationError) as error:
        contract_create(
            organization=world.collective_a1,
            kind=ContractKind.CONTRACTING,
            counterparty="张三",
            start_date=D(2026, 1, 1),
            end_date=D(2026, 1, 1),
            amount=Decimal("1000.00"),
            schedule=[(D(2026, 1, 1), Decimal("1000.00"))],
            resource=resource,
        )
    assert "end_date" in error.value.message_dict
    assert not Contract.objects.exists()
