import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils import translation

from flows import services
from flows.models import Decision, Disposal, DisposalMethod, Leasing, Matter, MatterStatus, PaymentFrequency, Step
from flows.selectors import matter_history
from forms.leasing import LeasingApplicationForm
from organizations.models import MeetingBody
from registers.models import Asset, AssetStatus, Contract, ContractKind
from tests.drive import act, refresh, run_to_end
from tests.flows.test_spine import to_step

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def asset(world) -> Asset:
    return make_asset(world.collective_a1, "A1-JJ-ZC00001")


def make_asset(organization, code: str, status=AssetStatus.IN_USE) -> Asset:
    return Asset.objects.create(
        organization=organization,
        code=code,
        name="村集体仓库",
        category="房屋",
        unit_price=Decimal("80000.00"),
        original_value=Decimal("80000.00"),
        acquired_on=D(2020, 5, 1),
        status=status,
    )


def leasing_data(asset, **overrides) -> dict:
    """Three whole years at 10,000 a year, paid quarterly: 30,000, under the trading threshold."""
    data = {
        "title": "仓库出租",
        "asset": asset,
        "lessee": "某物流公司",
        "start_date": D(2026, 1, 1),
        "end_date": D(2028, 12, 31),
        "annual_rent": Decimal("10000.00"),
        "frequency": PaymentFrequency.QUARTERLY,
        "trading_reference": "",
    }
    data.update(overrides)
    return data


def large_lease(asset, **overrides) -> dict:
    """Two years at 30,000 a year, paid monthly: 60,000, over the trading threshold, through the platform."""
    large = {
        "end_date": D(2027, 12, 31),
        "annual_rent": Decimal("30000.00"),
        "frequency": PaymentFrequency.MONTHLY,
        "trading_reference": "JY-2026-0901",
    }
    return leasing_data(asset, **{**large, **overrides})


def apply(world, data, organization=None) -> Matter:
    return services.matter_apply(
        user=world.secretary_a1,
        organization=organization or world.collective_a1,
        transaction_type="leasing",
        data=data,
    )


def assert_refused(world, data, field: str, words: str):
    """The application is refused on ``field`` with a message saying ``words``, and nothing changes."""
    asset = data["asset"]
    before = (Matter.objects.count(), Leasing.objects.count(), Contract.objects.count())
    status, history = asset.status, asset.history.count()
    with pytest.raises(ValidationError) as error:
        apply(world, data)
    assert words in " ".join(error.value.message_dict[field])
    assert (Matter.objects.count(), Leasing.objects.count(), Contract.objects.count()) == before
    asset.refresh_from_db()
    assert (asset.status, asset.history.count()) == (status, history)
    return error.value


def running_disposal(world, asset) -> Matter:
    """A disposal matter waiting for its proposal, made directly: only its asset matters here."""
    version = world.rule_version
    matter = Matter.objects.create(
        organization=world.collective_a1,
        transaction_type="disposal",
        title="仓库报废",
        amount=Decimal("5000.00"),
        applicant=world.secretary_a1,
        rule_version=version,
        band=version.bands.filter(transaction_type="disposal").order_by("min_amount").first(),
        required_steps=[Step.APPLY, Step.PROPOSE],
        next_step=Step.PROPOSE,
    )
    Disposal.objects.create(
        matter=matter,
        asset=asset,
        method=DisposalMethod.SCRAPPING,
        appraisal_value=Decimal("5000.00"),
        appraiser="某评估公司",
        reason="年久失修",
    )
    return matter


# --- bands through the spine --------------------------------------------------------


def test_lease_under_the_threshold_goes_to_villager_representatives_and_enters_the_lease(world, asset):
    matter = apply(world, leasing_data(asset))
    assert matter.amount == Decimal("30000.00")
    assert matter.member_body == MeetingBody.VILLAGER_REPRESENTATIVES
    matter = run_to_end(world, matter)
    assert matter.status == MatterStatus.ARCHIVED
    assert matter.step_records.filter(step=Step.RESOLVE_BY_MEMBERS, decision=Decision.PASSED).exists()

    contract = Contract.objects.get(matter=matter)
    assert contract.code == "A1-JJ-HT00001"
    assert (contract.kind, contract.counterparty, contract.asset, contract.resource) == (
        ContractKind.LEASE,
        "某物流公司",
        asset,
        None,
    )
    assert (contract.start_date, contract.end_date, contract.amount) == (D(2026, 1, 1), D(2028, 12, 31), matter.amount)
    payments = list(contract.payments.values_list("due_on", "amount"))
    assert len(payments) == 12
    assert payments[:2] == [(D(2026, 1, 1), Decimal("2500.00")), (D(2026, 4, 1), Decimal("2500.00"))]
    assert sum(amount for _due, amount in payments) == contract.amount
    asset.refresh_from_db()
    assert asset.status == AssetStatus.LEASED
    assert asset.history.count() == 2
    assert contract.history.count() == 1
    assert list(asset.contracts.all()) == [contract]


def test_lease_over_the_threshold_takes_the_member_assembly_with_a_monthly_schedule(world, asset):
    matter = apply(world, large_lease(asset))
    assert matter.amount == Decimal("60000.00")
    assert matter.member_body == MeetingBody.MEMBER_ASSEMBLY
    matter = run_to_end(world, matter)
    assert matter.status == MatterStatus.ARCHIVED
    contract = matter.contracts.get()
    assert contract.trading_reference == "JY-2026-0901"
    assert contract.payments.count() == 24
    assert sum(contract.payments.values_list("amount", flat=True)) == Decimal("60000.00")


def test_rent_paid_once_is_one_instalment_of_the_whole_term(world, asset):
    matter = run_to_end(world, apply(world, leasing_data(asset, frequency=PaymentFrequency.ONCE)))
    assert list(matter.contracts.get().payments.values_list("due_on", "amount")) == [
        (D(2026, 1, 1), Decimal("30000.00"))
    ]


# --- refusals -------------------------------------------------------------------------


@pytest.mark.parametrize("status", [AssetStatus.LEASED, AssetStatus.DISPOSED])
def test_a_leased_or_disposed_asset_is_refused(world, status):
    asset = make_asset(world.collective_a1, "A1-JJ-ZC00009", status=status)
    assert_refused(world, leasing_data(asset), "asset", "cannot be leased")


def test_an_asset_in_a_running_lease_matter_is_refused(world, asset):
    running = apply(world, leasing_data(asset))
    error = assert_refused(
        world, leasing_data(asset, lessee="另一家公司", title="仓库再出租"), "asset", "running matter"
    )
    assert running.title in error.message_dict["asset"][0]


def test_an_asset_in_a_running_disposal_is_refused(world, asset):
    running_disposal(world, asset)
    assert_refused(world, leasing_data(asset), "asset", "仓库报废")


def test_an_asset_whose_lease_matter_was_withdrawn_can_be_leased(world, asset):
    first = apply(world, leasing_data(asset))
    services.matter_withdraw(user=world.secretary_a1, matter_id=first.pk, reason="承租方退出")
    assert apply(world, leasing_data(asset, lessee="另一家公司")).is_open


def test_an_asset_of_another_collective_is_refused(world):
    other = make_asset(world.collective_a2, "A2-JJ-ZC00001")
    assert_refused(world, leasing_data(other), "asset", "does not belong to this collective")


def test_over_the_threshold_without_a_trading_reference_is_refused(world, asset):
    assert_refused(world, large_lease(asset, trading_reference=""), "trading_reference", "trading platform")


def test_exactly_the_threshold_already_needs_the_trading_platform(world, asset):
    data = leasing_data(asset, end_date=D(2030, 12, 31))
    assert_refused(world, data, "trading_reference", "50000.00")


@pytest.mark.parametrize("rent", [Decimal("0"), Decimal("-100.00")])
def test_a_rent_of_zero_or_less_is_refused(world, asset, rent):
    assert_refused(world, leasing_data(asset, annual_rent=rent), "annual_rent", "more than zero")


def test_a_term_that_ends_before_it_starts_is_refused(world, asset):
    assert_refused(world, leasing_data(asset, end_date=D(2025, 6, 30)), "end_date", "end after it starts")


def test_an_asset_leased_while_the_matter_ran_stops_the_implementation(world, asset):
    matter = to_step(world, apply(world, leasing_data(asset)), Step.IMPLEMENT)
    Asset.objects.filter(pk=asset.pk).update(status=AssetStatus.DISPOSED)
    with pytest.raises(ValidationError) as error:
        act(world.cashier_a1, matter, decision=Decision.DONE, opinion="已签租赁合同")
    assert "cannot be leased" in error.value.message_dict["asset"][0]
    matter = refresh(matter)
    assert matter.next_step == Step.IMPLEMENT
    assert not Contract.objects.exists()
    asset.refresh_from_db()
    assert asset.status == AssetStatus.DISPOSED


# --- revision, form, page -------------------------------------------------------------


def test_a_returned_lease_is_revised_without_blocking_itself(world, asset):
    matter = to_step(world, apply(world, leasing_data(asset)), Step.CHECK_BY_TOWNSHIP)
    act(world.officer_a, matter, decision=Decision.RETURN, opinion="租金偏低", return_to=Step.APPLY)
    act(world.secretary_a1, matter, decision=Decision.SUBMIT, opinion="已调整", data=large_lease(asset))
    matter = refresh(matter)
    assert matter.amount == Decimal("60000.00")
    assert matter.member_body == MeetingBody.MEMBER_ASSEMBLY
    assert matter.leasing.frequency == PaymentFrequency.MONTHLY
    matter = run_to_end(world, matter)
    assert matter.contracts.get().payments.count() == 24
    assert matter.leasing.history.count() == 2


def test_application_data_fills_the_revision_form(world, asset):
    matter = apply(world, large_lease(asset))
    flow = matter.process.flow_class.instance
    initial = flow.application_data(matter)
    assert initial == large_lease(asset)
    form = LeasingApplicationForm(initial=initial, **flow.form_kwargs(world.collective_a1))
    assert form.main["asset"].value() == asset.pk


def test_the_form_offers_only_the_collectives_free_assets(world, asset):
    make_asset(world.collective_a1, "A1-JJ-ZC00002", status=AssetStatus.LEASED)
    make_asset(world.collective_a1, "A1-JJ-ZC00003", status=AssetStatus.DISPOSED)
    idle = make_asset(world.collective_a1, "A1-JJ-ZC00004", status=AssetStatus.IDLE)
    make_asset(world.collective_a2, "A2-JJ-ZC00001")
    form = LeasingApplicationForm(organization=world.collective_a1)
    assert list(form.main.fields["asset"].queryset) == [asset, idle]


def test_the_form_refuses_a_term_that_ends_before_it_starts(world, asset):
    form = LeasingApplicationForm(
        data={
            "title": "出租",
            "asset": asset.pk,
            "lessee": "某公司",
            "start_date": "2026-01-01",
            "end_date": "2025-12-31",
            "annual_rent": "1000",
            "frequency": PaymentFrequency.YEARLY,
        },
        organization=world.collective_a1,
    )
    assert not form.is_valid()
    assert "end_date" in form.main.errors


def test_the_matter_shows_the_lease_and_its_history(world, asset):
    matter = run_to_end(world, apply(world, leasing_data(asset)))
    contract = matter.contracts.get()
    labels = {str(entry.record_label) for entry in matter_history(matter)}
    assert {"leasing application", "contract"} <= labels
    html = render_to_string("flows/details/leasing.html", {"matter": matter})
    assert contract.get_absolute_url() in html
    assert asset.get_absolute_url() in html
    assert html.count("<tr>") == 1 + 12
