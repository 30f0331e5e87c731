"""Demo data that each early-warning rule fires on, in the seeded demo county (``seed_watch_demo``).

Every case goes through the same services as real work and is keyed on codes, titles and counterparties,
so a second run finds what the first one made. Beat's warning sweep (or the check queued when a payment
or contract is saved) then raises one warning of every kind.
"""

import datetime
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from demo.scans import scanned_quotation
from demo.seed import (
    _drive,
    announce_meeting,
    asset_code,
    bands_reaching,
    cast_for,
    collective_code,
    purchase_data,
    resource_code,
)
from flows.models import Decision, Matter, NoticeKind, PaymentFrequency, Step
from flows.services import (
    VoteInput,
    active_task,
    client_key_for,
    matter_apply,
    meeting_record,
    meeting_roster,
    objection_submit,
    step_perform,
    task_take,
)
from organizations.models import MeetingBody, Organization, TransactionType
from organizations.people import display_name
from organizations.rules import rule_version_in_force
from registers.contracts import add_months, contract_create, contract_total, overlapping_contracts, payment_schedule
from registers.funds import fund_balance, income_record, payment_record
from registers.models import (
    AccountKind,
    Asset,
    AssetStatus,
    Contract,
    ContractKind,
    Direction,
    FundAccount,
    FundMovement,
    Resource,
    ResourceStatus,
    WarningRule,
)

# The demo's own words, in the county's language like the rest of the demo registers.
UNAPPROVED_PAYMENT = ("DH01", "东湖建筑队", "村道维修预付款（未经审批）", Decimal("6800.00"))
SPLIT_PAYEE, SPLIT_PURPOSE = "柳树沟建筑队", "村委会院墙修缮"
SPLIT_PARTS = [("村委会院墙修缮（一期）", Decimal("12800.00")), ("村委会院墙修缮（二期）", Decimal("9600.00"))]
SPLIT_VILLAGE = "DH02"
CASH_VILLAGE = "DH01"
EXPIRING = ("XS01", 5, "石门村养殖户贾二虎", Decimal("3000.00"))  # village, resource number, contractor, annual fee
OFF_PLATFORM = ("DH02", 3, "柳树沟林果专业合作社", Decimal("20000.00"), 3)  # …, annual fee, years
IDLE_VILLAGE, IDLE_ASSET = "DH02", 5  # the old granary, idle in every demo village
OBJECTION_VILLAGE, OBJECTION_TITLE = "XS01", "购置村委会会议桌椅（异议未处理示例）"
# One quotation sheet, attached first to a purchase of one village and then to a purchase of another.
REUSED_QUOTATION = [("DH01", "购置村部办公桌椅（报价单原件）"), ("DH02", "购置村部办公桌椅（报价单重复使用示例）")]
LONG_CONTRACT = ("XS01", 6, "石门村旅游开发有限公司", Decimal("12000.00"), 30)  # …, annual fee, years
NO_FILE_VILLAGE, NO_FILE_TITLE = "DH02", "购置村委会电脑（申请无材料审批示例）"
# How far past the county's limits the cases are set, so they fire on the first sweep.
PAST_THE_LIMIT_DAYS = 45


def _collective(village_code: str) -> Organization:
    return Organization.objects.get(code=collective_code(village_code))


def _account(collective: Organization, kind: str) -> FundAccount:
    return FundAccount.objects.filter(organization=collective, kind=kind).order_by("pk").first()


@transaction.atomic
def demo_warning_cases() -> dict[str, str]:
    """Create whatever case is missing; returns each rule with "created" or "already there"."""
    today = timezone.localdate()
    cases = {
        WarningRule.PAYMENT_WITHOUT_APPROVAL: _unapproved_payment(today),
        WarningRule.SPLIT_SPENDING: _split_spending(),
        WarningRule.CASH_OVER_LIMIT: _cash_over_limit(today),
        WarningRule.CONTRACT_EXPIRING: _expiring_contract_with_rent_overdue(today),
        WarningRule.ASSET_IDLE: _idle_asset(today),
        WarningRule.OFF_PLATFORM_TRADING: _off_platform_contract(today),
        WarningRule.OBJECTION_UNHANDLED: _objection_left_open(),
        WarningRule.EVIDENCE_REUSED: _reused_quotation(today),
        WarningRule.TERM_OVER_LIMIT: _contract_over_twenty_years(today),
        WarningRule.APPROVED_WITHOUT_EVIDENCE: _approved_without_a_file(today),
    }
    # The contract about to expire has its first year's rent unpaid: the same case fires both rules.
    cases[WarningRule.RENT_OVERDUE] = cases[WarningRule.CONTRACT_EXPIRING]
    return {rule.value: "created" if created else "already there" for rule, created in cases.items()}


def _unapproved_payment(today: datetime.date) -> bool:
    village, payee, purpose, amount = UNAPPROVED_PAYMENT
    bank = _account(_collective(village), AccountKind.BANK)
    if FundMovement.objects.filter(account=bank, direction=Direction.OUT, purpose=purpose).exists():
        return False
    # Recorded by nobody in particular: a payment keyed in from a bank statement, with no matter behind it.
    payment_record(
        account=bank,
        amount=amount,
        occurred_on=today - datetime.timedelta(days=3),
        counterparty=payee,
        purpose=purpose,
        matter=None,
        user=None,
    )
    return True


def _split_spending() -> bool:
    collective = _collective(SPLIT_VILLAGE)
    cast = cast_for(collective)
    bank = _account(collective, AccountKind.BANK)
    created = False
    for title, amount in SPLIT_PARTS:
        if Matter.objects.filter(organization=collective, title=title).exists():
            continue
        matter_apply(
            user=cast.cashier,
            organization=collective,
            transaction_type=TransactionType.FUND_DISBURSEMENT,
            data={
                "title": title,
                "account": bank,
                "payee": SPLIT_PAYEE,
                "purpose": SPLIT_PURPOSE,
                "budget_line": "公益事业支出",
                "amount": amount,
                "reason": "院墙年久失修，存在安全隐患。",
            },
        )
        created = True
    return created


def _cash_over_limit(today: datetime.date) -> bool:
    collective = _collective(CASH_VILLAGE)
    cash = _account(collective, AccountKind.CASH)
    limit = rule_version_in_force(county=collective.county, on_date=today).cash_limit
    balance = fund_balance(cash)
    if balance > limit:
        return False
    income_record(
        account=cash,
        amount=limit - balance + Decimal("1200.00"),
        occurred_on=today,
        counterparty="村民",
        purpose="集体场地临时占用费（现金收取，未及时存入银行）",
    )
    return True


def _free_resource(collective: Organization, number: int, start: datetime.date, end: datetime.date) -> Resource:
    """The demo's resource of that number, or the first other one free for the term."""
    preferred = Resource.objects.filter(code=resource_code(collective, number))
    others = Resource.objects.filter(organization=collective, status=ResourceStatus.UNCONTRACTED).order_by("code")
    for resource in [*preferred, *others]:
        if not overlapping_contracts(resource, start, end).exists():
            return resource
    raise LookupError(f"{collective.code} has no resource free from {start} to {end}.")


def _contract(
    collective: Organization,
    *,
    resource_number: int,
    counterparty: str,
    start: datetime.date,
    end: datetime.date,
    annual: Decimal,
    reference: str,
) -> bool:
    if Contract.objects.filter(organization=collective, counterparty=counterparty).exists():
        return False
    contract_create(
        organization=collective,
        kind=ContractKind.CONTRACTING,
        counterparty=counterparty,
        start_date=start,
        end_date=end,
        amount=contract_total(start_date=start, end_date=end, annual_amount=annual),
        schedule=payment_schedule(start, end, annual, PaymentFrequency.YEARLY),
        resource=_free_resource(collective, resource_number, start, end),
        trading_reference=reference,
    )
    return True


def _expiring_contract_with_rent_overdue(today: datetime.date) -> bool:
    village, number, contractor, annual = EXPIRING
    # A one-year term ending within the county's notice days; its one instalment fell due on the first day.
    end = today + datetime.timedelta(days=30)
    start = add_months(end, -12) + datetime.timedelta(days=1)
    return _contract(
        _collective(village),
        resource_number=number,
        counterparty=contractor,
        start=start,
        end=end,
        annual=annual,
        reference="SXNCJY-2025-03009",
    )


def _off_platform_contract(today: datetime.date) -> bool:
    village, number, contractor, annual, years = OFF_PLATFORM
    end = add_months(today, 12 * years) - datetime.timedelta(days=1)
    return _contract(
        _collective(village),
        resource_number=number,
        counterparty=contractor,
        start=today,
        end=end,
        annual=annual,
        reference="",
    )


def _idle_asset(today: datetime.date) -> bool:
    collective = _collective(IDLE_VILLAGE)
    asset = Asset.objects.get(code=asset_code(collective, IDLE_ASSET))
    limit = rule_version_in_force(county=collective.county, on_date=today).asset_idle_days
    idle_since = today - datetime.timedelta(days=limit + PAST_THE_LIMIT_DAYS)
    if asset.status != AssetStatus.IDLE or (asset.idle_since and asset.idle_since <= idle_since):
        return False
    # The seed marked it idle on the day it ran; the demo lets the idle months pass, as beat would see them.
    # Saved, not updated behind the log's back: the tamper-evident log covers the registers.
    asset.idle_since = idle_since
    asset.save(update_fields=["idle_since"])
    return True


def _objection_left_open() -> bool:
    """A small purchase whose resolution notice drew an objection the supervisor never answered."""
    collective = _collective(OBJECTION_VILLAGE)
    if Matter.objects.filter(organization=collective, title=OBJECTION_TITLE).exists():
        return False
    cast = cast_for(collective)
    version = rule_version_in_force(county=collective.county, on_date=timezone.localdate())
    band = bands_reaching(version, Step.PUBLISH_RESOLUTION)[0]
    data = purchase_data(random.Random("warning-objection"), band, quotation_threshold=version.quotation_threshold)
    matter = matter_apply(
        user=cast.secretary,
        organization=collective,
        transaction_type=TransactionType.ASSET_PURCHASE,
        data={**data, "title": OBJECTION_TITLE},
    )
    for _step in range(len(matter.required_steps)):
        matter.refresh_from_db()
        if matter.next_step == Step.PUBLISH_RESOLUTION:
            break
        if matter.next_step == Step.PROPOSE:
            task = active_task(matter, Step.PROPOSE)
            task_take(user=cast.secretary, task_id=task.pk)
            opinion = "同意提交村“两委”商议。"
            step_perform(user=cast.secretary, task_id=task.pk, decision=Decision.AGREE, opinion=opinion)
        else:
            _unanimous_meeting(matter, cast)
    notice = matter.notices.get(kind=NoticeKind.RESOLUTION, closed_at__isnull=True)
    objection_submit(
        notice=notice,
        name="贾二虎",
        phone="13903510000",
        text="会议桌椅报价偏高，请公开询价单。",
        client_key=client_key_for(f"demo-warning-objection-{notice.pk}"),
    )
    # The period runs out with the objection open: the matter is held, and the warning rule sees it.
    notice.ends_at = timezone.now() - datetime.timedelta(minutes=1)
    notice.save(update_fields=["ends_at"])
    return True


def _unanimous_meeting(matter: Matter, cast) -> None:
    body = {Step.DELIBERATE: MeetingBody.TWO_COMMITTEES, Step.REVIEW_BY_PARTY_MEMBERS: MeetingBody.PARTY_MEMBERS}.get(
        matter.next_step, matter.member_body
    )
    held_on = timezone.localdate()
    announce_meeting(matter, cast, body)
    roster = meeting_roster(organization=matter.organization, body=body, on_date=held_on)
    meeting_record(
        user=cast.supervisor,
        organization=matter.organization,
        body=body,
        held_on=held_on,
        place="村委会会议室",
        chair=display_name(cast.secretary),
        minutes=f"议题：{matter.title}。应到{len(roster)}人，实到{len(roster)}人，全票同意。",
        attendee_ids=[member.pk for member in roster],
        votes=[VoteInput(matter=matter, votes_for=len(roster), votes_against=0, votes_abstain=0)],
    )


def _small_purchase(collective: Organization, title: str, *, uploads=()) -> Matter:
    version = rule_version_in_force(county=collective.county, on_date=timezone.localdate())
    band = version.bands.filter(transaction_type=TransactionType.ASSET_PURCHASE).order_by("min_amount").first()
    data = purchase_data(random.Random(title), band, quotation_threshold=version.quotation_threshold)
    return matter_apply(
        user=cast_for(collective).secretary,
        organization=collective,
        transaction_type=TransactionType.ASSET_PURCHASE,
        data={**data, "title": title},
        uploads=uploads,
    )


def _reused_quotation(today: datetime.date) -> bool:
    """The same scanned quotation sheet as the application file of two purchases in two villages."""
    created = False
    for village, title in REUSED_QUOTATION:
        collective = _collective(village)
        if Matter.objects.filter(organization=collective, title=title).exists():
            continue
        # The same sheet both times: its marks come from the first title, not from the matter it is attached to.
        _small_purchase(collective, title, uploads=[scanned_quotation(REUSED_QUOTATION[0][1], serial="reused")])
        created = True
    return created


def _contract_over_twenty_years(today: datetime.date) -> bool:
    """A contracting signed for thirty years, beyond the twenty the Civil Code allows (art. 705)."""
    village, number, contractor, annual, years = LONG_CONTRACT
    return _contract(
        _collective(village),
        resource_number=number,
        counterparty=contractor,
        start=today,
        end=add_months(today, 12 * years) - datetime.timedelta(days=1),
        annual=annual,
        reference="SXNCJY-2026-05021",
    )


def _approved_without_a_file(today: datetime.date) -> bool:
    """A purchase from the county's evidence amount, approved by the township leader with no application file,
    the leader ticking the confirmation the approval page asks for."""
    collective = _collective(NO_FILE_VILLAGE)
    version = rule_version_in_force(county=collective.county, on_date=today)
    if (
        version.evidence_threshold is None
        or Matter.objects.filter(organization=collective, title=NO_FILE_TITLE).exists()
    ):
        return False
    band = bands_reaching(version, Step.APPROVE_BY_TOWNSHIP)[0]
    rng = random.Random("warning-no-file")
    for _attempt in range(200):
        data = purchase_data(rng, band, quotation_threshold=version.quotation_threshold)
        if data["total"] >= version.evidence_threshold:
            break
    else:
        raise ValueError(f"No demo purchase of {band} reaches {version.evidence_threshold}.")
    cast = cast_for(collective)
    matter = matter_apply(
        user=cast.secretary,
        organization=collective,
        transaction_type=TransactionType.ASSET_PURCHASE,
        data={**data, "title": NO_FILE_TITLE},
    )
    _drive(matter, cast, Step.APPROVE_BY_TOWNSHIP, rng)
    task = active_task(matter, Step.APPROVE_BY_TOWNSHIP)
    task_take(user=cast.leader, task_id=task.pk)
    step_perform(
        user=cast.leader,
        task_id=task.pk,
        decision=Decision.AGREE,
        opinion="报价单后补，先行同意。",
        confirm_without_evidence=True,
    )
    return True
