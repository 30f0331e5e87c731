import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils import translation

from flows import services
from flows.models import ContractingMethod, Decision, Matter, MatterStatus, ResourceContracting, Step
from flows.selectors import matter_history
from forms.resource_contracting import ResourceContractingApplicationForm
from organizations.models import MeetingBody
from registers.contracts import contract_create, payment_schedule
from registers.models import Contract, ContractKind, ContractPayment, Resource, ResourceKind, ResourceStatus
from tests.drive import act, refresh, run_to_end
from tests.flows.test_spine import to_step

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def resource(world) -> Resource:
    return make_resource(world.collective_a1, "A1-JJ-ZY00001")


def make_resource(organization, code: str) -> Resource:
    return Resource.objects.create(
        organization=organization,
        code=code,
        name="东坡耕地",
        kind=ResourceKind.CULTIVATED,
        location="村东",
        area_mu=Decimal("35.50"),
    )


def contracting_data(resource, **overrides) -> dict:
    """Five whole years at 8,000 a year: 40,000, under the trading threshold."""
    data = {
        "title": "东坡耕地发包",
        "resource": resource,
        "contractor": "张三",
        "start_date": D(2026, 1, 1),
        "end_date": D(2030, 12, 31),
        "reserve_price": Decimal("7000.00"),
        "annual_fee": Decimal("8000.00"),
        "method": ContractingMethod.NEGOTIATION,
        "trading_reference": "",
    }
    data.update(overrides)
    return data


def public_bidding(resource, **overrides) -> dict:
    """Five years at 12,000 a year: 60,000, over the trading threshold, through the platform."""
    bidding = {
        "annual_fee": Decimal("12000.00"),
        "reserve_price": Decimal("10000.00"),
        "method": ContractingMethod.PUBLIC_BIDDING,
        "trading_reference": "JY-2026-0815",
    }
    return contracting_data(resource, **{**bidding, **overrides})


def apply(world, data, organization=None) -> Matter:
    return services.matter_apply(
        user=world.secretary_a1,
        organization=organization or world.collective_a1,
        transaction_type="resource_contracting",
        data=data,
    )


def assert_refused(world, data, field: str, words: str, organization=None):
    """The application is refused on ``field`` with a message saying ``words``, and nothing changes."""
    resource = data["resource"]
    before = (Matter.objects.count(), ResourceContracting.objects.count(), Contract.objects.count())
    history = resource.history.count()
    with pytest.raises(ValidationError) as error:
        apply(world, data, organization=organization)
    assert words in " ".join(error.value.message_dict[field])
    assert (Matter.objects.count(), ResourceContracting.objects.count(), Contract.objects.count()) == before
    assert resource.history.count() == history
    return error.value


# --- bands through the spine --------------------------------------------------------


def test_contracting_under_the_threshold_goes_to_villager_representatives_and_enters_the_contract(world, resource):
    matter = apply(world, contracting_data(resource))
    assert matter.amount == Decimal("40000.00")
    assert matter.member_body == MeetingBody.VILLAGER_REPRESENTATIVES
    assert Step.APPROVE_BY_TOWNSHIP in matter.required_steps
    matter = run_to_end(world, matter)
    assert matter.status == MatterStatus.ARCHIVED
    assert matter.step_records.filter(step=Step.RESOLVE_BY_MEMBERS, decision=Decision.PASSED).exists()

    contract = Contract.objects.get(matter=matter)
    assert contract.code == "A1-JJ-HT00001"
    assert (contract.kind, contract.counterparty, contract.resource) == (ContractKind.CONTRACTING, "张三", resource)
    assert (contract.start_date, contract.end_date, contract.amount) == (D(2026, 1, 1), D(2030, 12, 31), matter.amount)
    assert list(contract.payments.values_list("due_on", "amount")) == [
        (D(year, 1, 1), Decimal("8000.00")) for year in range(2026, 2031)
    ]
    resource.refresh_from_db()
    assert resource.status == ResourceStatus.CONTRACTED
    assert resource.history.count() == 2
    assert contract.history.count() == 1
    assert list(matter.contracts.all()) == [contract]


def test_contracting_over_the_threshold_takes_the_member_assembly_and_keeps_the_trading_reference(world, resource):
    matter = apply(world, public_bidding(resource))
    assert matter.amount == Decimal("60000.00")
    assert matter.member_body == MeetingBody.MEMBER_ASSEMBLY
    matter = run_to_end(world, matter)
    assert matter.status == MatterStatus.ARCHIVED
    contract = matter.contracts.get()
    assert contract.trading_reference == "JY-2026-0815"
    assert contract.amount == Decimal("60000.00")
    assert sum(contract.payments.values_list("amount", flat=True)) == contract.amount


def test_amount_prorates_a_part_year_by_days(world, resource):
    matter = apply(world, contracting_data(resource, start_date=D(2026, 1, 1), end_date=D(2027, 6, 30)))
    # 8,000 for 2026 and 8,000 × 181/365 for the first half of 2027.
    assert matter.amount == Decimal("11967.12")
    matter = run_to_end(world, matter)
    assert list(matter.contracts.get().payments.values_list("due_on", "amount")) == [
        (D(2026, 1, 1), Decimal("8000.00")),
        (D(2027, 1, 1), Decimal("3967.12")),
    ]


# --- refusals -------------------------------------------------------------------------


def test_fee_below_the_reserve_price_is_refused(world, resource):
    data = contracting_data(resource, reserve_price=Decimal("8000.00"), annual_fee=Decimal("7999.99"))
    error = assert_refused(world, data, "annual_fee", "below the reserve price")
    assert "7999.99" in error.message_dict["annual_fee"][0]


def test_over_the_threshold_without_public_bidding_is_refused(world, resource):
    data = public_bidding(resource)
    data["method"] = ContractingMethod.NEGOTIATION
    assert_refused(world, data, "method", "public bidding on the trading platform")


def test_over_the_threshold_without_a_trading_reference_is_refused(world, resource):
    assert_refused(world, public_bidding(resource, trading_reference=" "), "trading_reference", "50000.00")


def test_exactly_the_threshold_already_needs_the_trading_platform(world, resource):
    data = contracting_data(resource, annual_fee=Decimal("10000.00"), method=ContractingMethod.AUCTION)
    assert_refused(world, data, "method", "public bidding")


def test_a_resource_contracted_for_an_overlapping_term_is_refused(world, resource):
    start, end = D(2024, 1, 1), D(2026, 12, 31)
    existing = contract_create(
        organization=world.collective_a1,
        kind=ContractKind.CONTRACTING,
        counterparty="李四",
        start_date=start,
        end_date=end,
        amount=Decimal("15000.00"),
        schedule=payment_schedule(start, end, Decimal("5000.00"), "yearly"),
        resource=resource,
    )
    error = assert_refused(world, contracting_data(resource), "resource", "already contracted")
    assert existing.code in error.message_dict["resource"][0]
    resource.refresh_from_db()
    assert resource.history.count() == 2


def test_a_resource_contracted_until_before_the_term_can_be_contracted_again(world, resource):
    start, end = D(2021, 1, 1), D(2025, 12, 31)
    contract_create(
        organization=world.collective_a1,
        kind=ContractKind.CONTRACTING,
        counterparty="李四",
        start_date=start,
        end_date=end,
        amount=Decimal("25000.00"),
        schedule=payment_schedule(start, end, Decimal("5000.00"), "yearly"),
        resource=resource,
    )
    matter = run_to_end(world, apply(world, contracting_data(resource)))
    assert matter.contracts.get().code == "A1-JJ-HT00002"


def test_a_resource_in_a_running_contracting_for_an_overlapping_term_is_refused(world, resource):
    running = apply(world, contracting_data(resource))
    data = contracting_data(
        resource, title="东坡耕地再发包", contractor="王五", start_date=D(2030, 1, 1), end_date=D(2032, 12, 31)
    )
    error = assert_refused(world, data, "resource", "running contracting matter")
    assert running.title in error.message_dict["resource"][0]
    assert ResourceContracting.objects.filter(resource=resource).count() == 1


def test_a_running_contracting_for_a_later_term_does_not_block(world, resource):
    apply(world, contracting_data(resource))
    later = apply(
        world, contracting_data(resource, title="东坡耕地续包", start_date=D(2031, 1, 1), end_date=D(2033, 12, 31))
    )
    assert later.amount == Decimal("24000.00")


def test_a_withdrawn_contracting_no_longer_blocks_the_resource(world, resource):
    first = apply(world, contracting_data(resource))
    services.matter_withdraw(user=world.secretary_a1, matter_id=first.pk, reason="重新测量面积")
    assert apply(world, contracting_data(resource, title="东坡耕地重新发包")).is_open


def test_a_resource_of_another_collective_is_refused(world):
    other = make_resource(world.collective_a2, "A2-JJ-ZY00001")
    assert_refused(world, contracting_data(other), "resource", "does not belong to this collective")


def test_a_term_that_ends_before_it_starts_is_refused(world, resource):
    data = contracting_data(resource, start_date=D(2026, 1, 1), end_date=D(2025, 12, 31))
    assert_refused(world, data, "end_date", "end after it starts")


def test_a_contract_entered_while_the_matter_ran_stops_the_implementation(world, resource):
    matter = to_step(world, apply(world, contracting_data(resource)), Step.IMPLEMENT)
    start, end = D(2029, 1, 1), D(2029, 12, 31)
    contract_create(
        organization=world.collective_a1,
        kind=ContractKind.CONTRACTING,
        counterparty="李四",
        start_date=start,
        end_date=end,
        amount=Decimal("5000.00"),
        schedule=[(start, Decimal("5000.00"))],
        resource=resource,
    )
    with pytest.raises(ValidationError) as error:
        act(world.cashier_a1, matter, decision=Decision.DONE, opinion="已签合同")
    assert "already contracted" in error.value.message_dict["resource"][0]
    matter = refresh(matter)
    assert matter.next_step == Step.IMPLEMENT
    assert not matter.contracts.exists()
    assert not matter.step_records.filter(step=Step.IMPLEMENT).exists()
    assert ContractPayment.objects.count() == 1


# --- revision, form, page -------------------------------------------------------------


def test_a_returned_application_is_revised_without_blocking_itself(world, resource):
    matter = to_step(world, apply(world, contracting_data(resource)), Step.APPROVE_BY_TOWNSHIP)
    act(world.leader_a, matter, decision=Decision.RETURN, opinion="应公开招标", return_to=Step.APPLY)
    revised = public_bidding(resource, title="东坡耕地公开发包")
    act(world.secretary_a1, matter, decision=Decision.SUBMIT, opinion="已进场交易", data=revised)
    matter = refresh(matter)
    assert matter.amount == Decimal("60000.00")
    assert matter.member_body == MeetingBody.MEMBER_ASSEMBLY
    assert matter.resource_contracting.trading_reference == "JY-2026-0815"
    matter = run_to_end(world, matter)
    assert matter.contracts.get().amount == Decimal("60000.00")
    assert matter.resource_contracting.history.count() == 2


def test_application_data_fills_the_revision_form(world, resource):
    matter = apply(world, public_bidding(resource))
    flow = matter.process.flow_class.instance
    initial = flow.application_data(matter)
    assert initial == public_bidding(resource)
    form = ResourceContractingApplicationForm(initial=initial, **flow.form_kwargs(world.collective_a1))
    assert form.main["resource"].value() == resource.pk


def test_the_form_offers_only_the_collectives_resources(world, resource):
    make_resource(world.collective_a2, "A2-JJ-ZY00001")
    form = ResourceContractingApplicationForm(organization=world.collective_a1)
    assert list(form.main.fields["resource"].queryset) == [resource]


def test_the_form_refuses_a_term_that_ends_before_it_starts(world, resource):
    form = ResourceContractingApplicationForm(
        data={
            "title": "发包",
            "resource": resource.pk,
            "contractor": "张三",
            "start_date": "2026-01-01",
            "end_date": "2026-01-01",
            "reserve_price": "100",
            "annual_fee": "100",
            "method": ContractingMethod.NEGOTIATION,
        },
        organization=world.collective_a1,
    )
    assert not form.is_valid()
    assert "end_date" in form.main.errors


def test_the_matter_shows_the_contract_and_its_history(world, resource):
    matter = run_to_end(world, apply(world, contracting_data(resource)))
    contract = matter.contracts.get()
    labels = {entry.record_label for entry in matter_history(matter)}
    assert {"resource contracting application", "contract"} <= {str(label) for label in labels}
    html = render_to_string("flows/details/resource_contracting.html", {"matter": matter})
    assert contract.get_absolute_url() in html
    assert resource.get_absolute_url() in html
    assert html.count("<tr>") == 1 + 5
