"""The rules issue 10 added: the same file as evidence of unrelated matters, a term beyond the 20 years of
民法典 art. 705, and a township approval with no application file from the county's amount. Each fires on
the case it is for, and not on the lookalike cases next to it; each warning names its causes with links."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from documents.models import Evidence
from documents.services import evidence_store
from flows import services
from flows.batch import batch_items
from flows.models import Decision, Step, StepRecord
from registers.contracts import add_months
from registers.models import Contract, ContractKind, ContractStatus, EarlyWarning, WarningLevel, WarningRule
from registers.warnings import (
    approvals_without_evidence,
    contract_check,
    evidence_reused,
    term_beyond_legal_limit,
    terms_over_limit,
)
from tests.conftest import purchase_data
from tests.drive import act, apply_purchase, refresh, run_to_end
from tests.flows import test_leasing, test_resource_contracting
from tests.flows.test_spine import to_step
from tests.registers.test_warnings import make_contract, today

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def sheet(colour: str = "white", name: str = "报价单.png") -> SimpleUploadedFile:
    """A small real PNG; two sheets of one colour are the same file (same SHA-256)."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def applied_with(world, upload, *, organization=None, user=None, total="8000.00"):
    return services.matter_apply(
        user=user or world.secretary_a1,
        organization=organization or world.collective_a1,
        transaction_type="asset_purchase",
        data=apply_purchase_data(total),
        uploads=[upload],
    )


def apply_purchase_data(total: str) -> dict:
    return purchase_data(Decimal(total), quotations=0)


# --- the same file as evidence of unrelated matters ---------------------------------------------


def test_the_same_quotation_on_two_matters_is_red_on_the_later_one_with_both_as_causes(world):
    first = applied_with(world, sheet("white", "报价单A.png"))
    second = applied_with(world, sheet("white", "报价单B.png"))
    [warning] = evidence_reused(today())
    assert warning.rule == WarningRule.EVIDENCE_REUSED and warning.level == WarningLevel.RED
    assert warning.matter == second
    links = [item["url"] for item in warning.causes]
    assert first.get_absolute_url() in links and second.get_absolute_url() in links
    for file in Evidence.objects.all():
        assert reverse("documents:evidence_download", args=[file.pk]) in links
    assert evidence_reused(today()) == []


def test_the_same_file_across_villages_is_raised_in_the_village_that_reused_it(world):
    applied_with(world, sheet("white"))
    reused = applied_with(world, sheet("white"), organization=world.collective_b1, user=world.secretary_b1)
    [warning] = evidence_reused(today())
    assert warning.organization == world.collective_b1 and warning.matter == reused


def test_different_files_raise_nothing(world):
    applied_with(world, sheet("white"))
    applied_with(world, sheet("black"))
    assert evidence_reused(today()) == []


def test_the_same_file_twice_in_one_matter_raises_nothing(world):
    matter = applied_with(world, sheet("white"))
    evidence_store(matter=matter, step=Step.IMPLEMENT, upload=sheet("white", "发票.png"), user=world.cashier_a1)
    assert evidence_reused(today()) == []


def test_the_minutes_scan_of_one_meeting_on_the_matters_it_decided_raises_nothing(world):
    first, second = (to_step(world, apply_purchase(world), Step.DELIBERATE) for _n in range(2))
    roster = services.meeting_roster(organization=world.collective_a1, body="two_committees", on_date=today())
    services.meeting_record(
        user=world.supervisor_a1,
        organization=world.collective_a1,
        body="two_committees",
        held_on=today(),
        place="村委会议室",
        chair="赵监委",
        minutes="两项议题",
        attendee_ids=[member.pk for member in roster],
        votes=[
            services.VoteInput(matter=matter, votes_for=len(roster), votes_against=0, votes_abstain=0)
            for matter in (first, second)
        ],
        uploads=[sheet("white", "会议记录.png")],
    )
    assert Evidence.objects.filter(meeting__isnull=False).count() == 2
    assert evidence_reused(today()) == []


def test_a_file_of_a_withdrawn_matter_reused_in_its_new_application_raises_nothing(world):
    withdrawn = applied_with(world, sheet("white"))
    services.matter_withdraw(user=world.secretary_a1, matter_id=withdrawn.pk, reason="金额有误，重新申请")
    applied_with(world, sheet("white"))
    assert evidence_reused(today()) == []


# --- a term beyond twenty years (民法典 art. 705) ---------------------------------------------------


@pytest.mark.parametrize(
    ("end", "beyond"),
    [
        (datetime.date(2045, 12, 31), False),  # twenty whole years from 1 Jan 2026
        (datetime.date(2046, 1, 1), True),
        (datetime.date(2055, 12, 31), True),
    ],
)
def test_twenty_years_is_the_limit(end, beyond):
    assert term_beyond_legal_limit(datetime.date(2026, 1, 1), end) is beyond


def lease(world, end):
    asset = test_leasing.make_asset(world.collective_a1, "A1-JJ-ZC09001")
    data = test_leasing.leasing_data(asset, end_date=end, trading_reference="JY-2026-0001")
    return test_leasing.apply(world, data)


def test_a_lease_application_over_twenty_years_is_red(world):
    matter = lease(world, datetime.date(2050, 12, 31))
    [warning] = terms_over_limit(today())
    assert warning.rule == WarningRule.TERM_OVER_LIMIT and warning.level == WarningLevel.RED
    assert warning.matter == matter
    assert [item["url"] for item in warning.causes] == [matter.get_absolute_url()]
    assert terms_over_limit(today()) == []


def test_the_contract_made_from_a_flagged_lease_is_the_same_case_not_a_second_one(world):
    matter = lease(world, datetime.date(2050, 12, 31))
    [warning] = terms_over_limit(today())
    run_to_end(world, matter)
    assert Contract.objects.filter(matter=matter).exists()
    assert terms_over_limit(today()) == []
    assert EarlyWarning.objects.filter(rule=WarningRule.TERM_OVER_LIMIT).get() == warning


def test_a_lease_application_of_twenty_years_raises_nothing(world):
    lease(world, datetime.date(2045, 12, 31))
    assert terms_over_limit(today()) == []


def test_a_withdrawn_long_lease_raises_nothing(world):
    matter = lease(world, datetime.date(2050, 12, 31))
    services.matter_withdraw(user=world.secretary_a1, matter_id=matter.pk, reason="撤回")
    assert terms_over_limit(today()) == []


def test_a_resource_contracting_application_over_twenty_years_is_red(world):
    resource = test_resource_contracting.make_resource(world.collective_a1, "A1-ZY-00901")
    data = test_resource_contracting.public_bidding(resource, end_date=datetime.date(2056, 12, 31))
    matter = test_resource_contracting.apply(world, data)
    [warning] = terms_over_limit(today())
    assert warning.matter == matter


def test_a_contract_over_twenty_years_is_red_and_one_of_twenty_is_not(world):
    start = today()
    long = make_contract(world.collective_a1, start=start, end=add_months(start, 12 * 30) - DAY)
    make_contract(world.collective_a1, start=start, end=add_months(start, 12 * 20) - DAY)
    [warning] = terms_over_limit(today())
    assert warning.url == long.get_absolute_url()
    assert warning.subject_key == f"contract:{long.pk}:{long.end_date}"


def test_a_lease_contract_over_twenty_years_is_flagged_when_it_is_saved(world):
    start = today()
    contract = make_contract(world.collective_a1, kind=ContractKind.LEASE, start=start, end=add_months(start, 12 * 25))
    rules = {warning.rule for warning in contract_check(contract.pk)}
    assert WarningRule.TERM_OVER_LIMIT in rules


def test_an_ended_long_contract_raises_nothing(world):
    start = today() - 9000 * DAY
    make_contract(world.collective_a1, start=start, end=add_months(start, 12 * 30), status=ContractStatus.ENDED)
    assert terms_over_limit(today()) == []


# --- a township approval with no application file from the county's amount ---------------------------


@pytest.fixture
def evidence_amount(world):
    world.rule_version.evidence_threshold = Decimal("30000.00")
    world.rule_version.save()
    return world.rule_version.evidence_threshold


def at_approval(world, *, total="50000.00", upload=None):
    matter = apply_purchase(world, total=total, quotations=3)
    if upload is not None:
        evidence_store(matter=matter, step=Step.APPLY, upload=upload, user=world.secretary_a1)
    return to_step(world, matter, Step.APPROVE_BY_TOWNSHIP)


def approve(world, matter, **extra):
    task = services.active_task(refresh(matter), Step.APPROVE_BY_TOWNSHIP)
    return services.step_perform(user=world.leader_a, task_id=task.pk, decision=Decision.AGREE, opinion="同意", **extra)


def test_approving_with_no_application_file_needs_the_confirmation(world, evidence_amount):
    matter = at_approval(world)
    with pytest.raises(ValidationError) as refused:
        approve(world, matter)
    assert "confirm_without_evidence" in refused.value.message_dict
    assert refresh(matter).next_step == Step.APPROVE_BY_TOWNSHIP
    assert not StepRecord.objects.filter(matter=matter, step=Step.APPROVE_BY_TOWNSHIP).exists()
    record = approve(world, matter, confirm_without_evidence=True)
    assert record.no_evidence_confirmed
    [warning] = approvals_without_evidence(today())
    assert warning.rule == WarningRule.APPROVED_WITHOUT_EVIDENCE and warning.level == WarningLevel.YELLOW
    assert warning.matter == matter and warning.causes[0]["url"] == matter.get_absolute_url()
    assert approvals_without_evidence(today()) == []


def test_an_approval_on_record_without_the_confirmation_is_red(world, evidence_amount):
    matter = at_approval(world)
    approve(world, matter, confirm_without_evidence=True)
    record = StepRecord.objects.get(matter=matter, step=Step.APPROVE_BY_TOWNSHIP)
    record.no_evidence_confirmed = False  # as an approval recorded before the page asked
    record.save()
    [warning] = approvals_without_evidence(today())
    assert warning.level == WarningLevel.RED


def test_an_application_with_a_file_needs_no_confirmation_and_raises_nothing(world, evidence_amount):
    record = approve(world, at_approval(world, upload=sheet()))
    assert not record.no_evidence_confirmed
    assert approvals_without_evidence(today()) == []


def test_below_the_countys_amount_needs_no_confirmation_and_raises_nothing(world, evidence_amount):
    matter = at_approval(world, total="29999.99")
    assert Step.APPROVE_BY_TOWNSHIP in matter.required_steps
    approve(world, matter)
    assert approvals_without_evidence(today()) == []


def test_a_county_without_the_amount_asks_nothing(world):
    assert world.rule_version.evidence_threshold is None
    approve(world, at_approval(world))
    assert approvals_without_evidence(today()) == []


def test_the_officers_check_before_the_leaders_approval_is_not_the_approval(world, evidence_amount):
    matter = to_step(world, apply_purchase(world, total="50000.00", quotations=3), Step.CHECK_BY_TOWNSHIP)
    act(world.officer_a, matter)  # no confirmation: the leader approves after
    assert refresh(matter).next_step == Step.APPROVE_BY_TOWNSHIP
    assert approvals_without_evidence(today()) == []


def test_a_returned_or_rejected_matter_is_no_approval(world, evidence_amount):
    matter = at_approval(world)
    task = services.active_task(refresh(matter), Step.APPROVE_BY_TOWNSHIP)
    services.step_perform(user=world.leader_a, task_id=task.pk, decision=Decision.REJECT, opinion="无报价单")
    assert approvals_without_evidence(today()) == []


def test_a_file_of_a_later_step_is_not_an_application_file(world, evidence_amount):
    matter = at_approval(world)
    evidence_store(matter=matter, step=Step.CHECK_BY_TOWNSHIP, upload=sheet(), user=world.officer_a)
    with pytest.raises(ValidationError):
        approve(world, matter)


def test_the_approval_page_asks_for_the_confirmation_and_refuses_without_it(client, world, evidence_amount):
    matter = at_approval(world)
    task = services.active_task(refresh(matter), Step.APPROVE_BY_TOWNSHIP)
    services.task_take(user=world.leader_a, task_id=task.pk)
    client.force_login(world.leader_a)
    page = client.get(matter.get_absolute_url())
    assert 'name="confirm_without_evidence"' in page.content.decode()
    url = reverse("flows:perform_step", args=[task.pk])
    refused = client.post(url, {"decision": Decision.AGREE, "opinion": "同意"})
    assert refused.status_code == 400
    assert "勾选确认" in refused.content.decode()
    assert refresh(matter).next_step == Step.APPROVE_BY_TOWNSHIP
    done = client.post(url, {"decision": Decision.AGREE, "opinion": "同意", "confirm_without_evidence": "on"})
    assert done.status_code == 302
    assert StepRecord.objects.get(matter=matter, step=Step.APPROVE_BY_TOWNSHIP).no_evidence_confirmed
    assert "审批人已确认后审批" in client.get(matter.get_absolute_url()).content.decode()


def test_the_approval_page_asks_nothing_when_the_application_has_a_file(client, world, evidence_amount):
    matter = at_approval(world, upload=sheet())
    client.force_login(world.leader_a)
    assert 'name="confirm_without_evidence"' not in client.get(matter.get_absolute_url()).content.decode()


def test_a_batch_keeps_a_matter_with_no_application_file_out(world, evidence_amount):
    matter = at_approval(world, total="40000.00")
    task = services.active_task(refresh(matter), Step.APPROVE_BY_TOWNSHIP)
    evidence_store(matter=matter, step=Step.CHECK_BY_TOWNSHIP, upload=sheet(), user=world.officer_a)
    _step, [item] = batch_items(user=world.leader_a, task_ids=[task.pk])
    assert item.problem and not item.can_agree


def test_the_warning_page_shows_the_rule_explained_and_the_causes(client, world, evidence_amount):
    matter = at_approval(world)
    approve(world, matter, confirm_without_evidence=True)
    [warning] = approvals_without_evidence(today())
    client.force_login(world.leader_a)
    page = client.get(reverse("registers:warning_detail", args=[warning.pk])).content.decode()
    assert 'id="warning-causes"' in page and matter.get_absolute_url() in page
    assert "审批人已在审批页面确认" in page  # the rule's explanation, in Chinese
    listing = client.get(reverse("registers:warning_list")).content.decode()
    for rule in WarningRule.values:
        assert f'data-rule="{rule}"' in listing
    assert EarlyWarning.objects.count() == 1


def test_the_inbox_offers_no_batch_for_a_matter_with_no_application_file(client, world, evidence_amount):
    unfiled = at_approval(world, total="40000.00")
    evidence_store(matter=unfiled, step=Step.CHECK_BY_TOWNSHIP, upload=sheet(), user=world.officer_a)
    filed = at_approval(world, total="40000.00", upload=sheet("black"))
    client.force_login(world.leader_a)
    rows = {row.matter.pk: row for row in client.get(reverse("flows:inbox")).context["rows"]}
    assert rows[filed.pk].batchable
    assert not rows[unfiled.pk].batchable and "申请未附任何证明材料" in rows[unfiled.pk].alone_because
