"""Early warnings (监督预警): each rule raised by the data that should raise it and not by data that should not,
once per subject, to the right people; handling closes a warning; the sweep and the at-once checks."""

import datetime
import io
import itertools
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from demo.warnings import demo_warning_cases
from flows import services
from flows.models import Matter, Notification, NotificationKind, Step
from organizations.models import Organization
from registers import tasks
from registers.funds import income_record
from registers.models import (
    AccountKind,
    AssetStatus,
    Contract,
    ContractKind,
    ContractPayment,
    ContractStatus,
    EarlyWarning,
    FundAccount,
    WarningLevel,
    WarningRule,
)
from registers.warnings import (
    EVENT_RULES,
    WarningAlreadyHandled,
    assets_idle,
    cash_over_limit,
    contracts_expiring,
    objection_surge_check,
    objections_unhandled,
    off_platform_trading,
    payments_without_approval,
    rent_overdue,
    split_spending,
    warning_handle,
    warning_raise,
    warnings_scan,
)
from tests.conftest import build_world
from tests.drive import act, apply_purchase, end_publication, refresh
from tests.flows.test_fund_disbursement import apply_disbursement, implement
from tests.flows.test_spine import to_step
from tests.registers.test_contracts import make_asset, make_resource
from tests.registers.test_funds import fund_account, pay
from tests.workdesk import with_evidence

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
_contract_numbers = itertools.count(1)


def today() -> datetime.date:
    return timezone.localdate()


def warnings_of(rule: str) -> list[EarlyWarning]:
    return list(EarlyWarning.objects.filter(rule=rule).order_by("pk"))


@pytest.fixture
def bank(world):
    return fund_account(world.collective_a1, opening="300000.00")


def cash_box(organization, opening="0.00") -> FundAccount:
    return FundAccount.objects.create(
        organization=organization, name="库存现金", kind=AccountKind.CASH, opening_balance=Decimal(opening)
    )


def make_contract(
    organization,
    *,
    kind=ContractKind.CONTRACTING,
    amount="30000.00",
    start=None,
    end=None,
    reference="SXNCJY-2026-001",
    status=ContractStatus.ACTIVE,
) -> Contract:
    start = start or today() - 365 * DAY
    end = end or today() + 365 * DAY
    subject = (
        {"resource": make_resource(organization)}
        if kind == ContractKind.CONTRACTING
        else {"asset": make_asset(organization, status=AssetStatus.LEASED)}
    )
    return Contract.objects.create(
        organization=organization,
        code=f"{organization.code}-HT{next(_contract_numbers):05d}",
        kind=kind,
        counterparty="丰收种植专业合作社",
        start_date=start,
        end_date=end,
        amount=Decimal(amount),
        trading_reference=reference,
        status=status,
        **subject,
    )


def instalment(contract, *, due_on, paid_on=None, amount="6000.00") -> ContractPayment:
    return ContractPayment.objects.create(contract=contract, due_on=due_on, amount=Decimal(amount), paid_on=paid_on)


# --- 1. payment without approval, or before it -------------------------------------------------


def test_a_payment_with_no_matter_raises_a_red_warning(world, bank):
    payment = pay(world, bank, "3000.00")
    [warning] = payments_without_approval(today())
    assert warning.rule == WarningRule.PAYMENT_WITHOUT_APPROVAL
    assert warning.level == WarningLevel.RED
    assert warning.organization == world.collective_a1
    assert warning.subject_key == f"movement:{payment.pk}"
    assert warning.url == bank.get_absolute_url()
    assert warning.is_open


def test_income_with_no_matter_raises_nothing(world, bank):
    income_record(account=bank, amount=Decimal("500.00"), occurred_on=today(), counterparty="村民", purpose="场地费")
    assert payments_without_approval(today()) == []


def test_a_payment_for_a_matter_still_in_the_village_raises_a_warning(world, bank):
    matter = apply_disbursement(world, bank, "8000.00")
    pay(world, bank, "8000.00", matter=matter)
    [warning] = payments_without_approval(today())
    assert warning.matter == matter


@pytest.mark.parametrize(
    ("amount", "final_step"), [("8000.00", Step.CHECK_BY_TOWNSHIP), ("30000.00", Step.APPROVE_BY_TOWNSHIP)]
)
def test_a_payment_on_the_day_of_the_final_township_approval_raises_nothing(world, bank, amount, final_step):
    matter = apply_disbursement(world, bank, amount)
    assert final_step in matter.required_steps
    implement(world, to_step(world, matter, Step.IMPLEMENT), paid_on=today())
    assert payments_without_approval(today()) == []


def test_a_payment_dated_before_the_approval_is_paying_first_approving_later(world, bank):
    matter = to_step(world, apply_disbursement(world, bank, "30000.00"), Step.IMPLEMENT)
    implement(world, matter, paid_on=today() - DAY)
    [warning] = payments_without_approval(today())
    assert warning.level == WarningLevel.RED
    assert warning.matter == refresh(matter)


def test_a_payment_for_a_rejected_matter_raises_a_warning(world, bank):
    matter = to_step(world, apply_disbursement(world, bank, "30000.00"), Step.APPROVE_BY_TOWNSHIP)
    act(world.leader_a, matter, decision="reject", opinion="预算外支出")
    pay(world, bank, "30000.00", matter=refresh(matter))
    assert len(payments_without_approval(today())) == 1


# --- 2. spending split to stay under a threshold -------------------------------------------------


def test_two_payments_to_one_payee_that_together_reach_a_band_raise_one_yellow_warning(world, bank):
    apply_disbursement(world, bank, "12000.00", title="村道修缮一期")
    second = apply_disbursement(world, bank, "9000.00", title="村道修缮二期")
    [warning] = split_spending(today())
    assert warning.level == WarningLevel.YELLOW
    assert warning.organization == world.collective_a1
    assert warning.matter == second
    assert "20000" in warning.title


def test_three_parts_make_the_split_red(world, bank):
    for amount in ("9000.00", "8000.00", "7000.00"):
        apply_disbursement(world, bank, amount)
    [warning] = split_spending(today())
    assert warning.level == WarningLevel.RED


def test_a_third_part_turns_an_open_split_warning_red(world, bank):
    apply_disbursement(world, bank, "12000.00")
    apply_disbursement(world, bank, "9000.00")
    [yellow] = split_spending(today())
    apply_disbursement(world, bank, "5000.00")
    [red] = split_spending(today())
    assert red.pk == yellow.pk
    assert red.level == WarningLevel.RED
    assert EarlyWarning.objects.count() == 1


def test_parts_that_stay_under_the_threshold_together_raise_nothing(world, bank):
    apply_disbursement(world, bank, "9000.00")
    apply_disbursement(world, bank, "10999.99")
    assert split_spending(today()) == []


def test_different_payees_and_purposes_raise_nothing(world, bank):
    apply_disbursement(world, bank, "12000.00", payee="甲公司", purpose="村道修缮")
    apply_disbursement(world, bank, "9000.00", payee="乙公司", purpose="办公用品")
    assert split_spending(today()) == []


def test_the_same_purpose_with_different_payees_is_a_split(world, bank):
    apply_disbursement(world, bank, "12000.00", payee="甲公司")
    apply_disbursement(world, bank, "9000.00", payee="乙公司")
    [warning] = split_spending(today())
    assert ":purpose:" in warning.subject_key


def test_a_withdrawn_part_does_not_count(world, bank):
    apply_disbursement(world, bank, "12000.00")
    withdrawn = apply_disbursement(world, bank, "9000.00")
    services.matter_withdraw(user=world.cashier_a1, matter_id=withdrawn.pk, reason="不再需要")
    assert split_spending(today()) == []


def test_a_part_at_the_threshold_is_not_a_part(world, bank):
    apply_disbursement(world, bank, "20000.00")
    apply_disbursement(world, bank, "5000.00")
    assert split_spending(today()) == []


def test_parts_in_another_collective_do_not_add_up(world, bank):
    apply_disbursement(world, bank, "12000.00")
    other_bank = fund_account(world.collective_a2, opening="300000.00")
    apply_disbursement(world, other_bank, "9000.00", user=world.secretary_a2, organization=world.collective_a2)
    assert split_spending(today()) == []


@pytest.mark.parametrize(("days_apart", "raised"), [(30, 1), (31, 0)])
def test_parts_count_within_the_countys_window(world, bank, days_apart, raised):
    first = apply_disbursement(world, bank, "12000.00")
    apply_disbursement(world, bank, "9000.00")
    Matter.objects.filter(pk=first.pk).update(created_at=timezone.now() - days_apart * DAY)
    assert len(split_spending(today())) == raised


def test_a_repeat_split_sweep_keeps_its_query_count_whatever_the_number_of_groups(world, bank):
    def split_pair(number):
        apply_disbursement(world, bank, "12000.00", payee=f"施工队{number}", purpose=f"工程{number}")
        apply_disbursement(world, bank, "9000.00", payee=f"施工队{number}", purpose=f"工程{number}")

    def queries_of_a_repeat_sweep():
        split_spending(today())
        with CaptureQueriesContext(connection) as captured:
            assert split_spending(today()) == []
        return len(captured)

    split_pair(1)
    with_one_group = queries_of_a_repeat_sweep()
    for number in (2, 3, 4):
        split_pair(number)
    assert queries_of_a_repeat_sweep() == with_one_group
    assert EarlyWarning.objects.filter(rule=WarningRule.SPLIT_SPENDING).count() == 4


def test_purchases_split_under_the_quotation_threshold_are_flagged(world):
    apply_purchase(world, total="6000.00")
    apply_purchase(world, total="5000.00")
    [warning] = split_spending(today())
    assert "10000" in warning.title


# --- 3. cash on hand over the limit ------------------------------------------------------------


@pytest.mark.parametrize(
    ("balance", "level"),
    [("5000.00", None), ("5000.01", WarningLevel.YELLOW), ("10000.00", WarningLevel.YELLOW), ("10000.01", "red")],
)
def test_cash_over_the_limit_is_yellow_and_over_twice_red(world, balance, level):
    account = cash_box(world.collective_a1, opening=balance)
    raised = cash_over_limit(today())
    assert [warning.level for warning in raised] == ([level] if level else [])
    if level:
        assert raised[0].subject_key == f"cash:{account.pk}:{today().isoformat()}"


def test_a_bank_account_is_not_cash(world):
    fund_account(world.collective_a1, opening="900000.00")
    assert cash_over_limit(today()) == []


def test_cash_over_the_limit_is_one_warning_a_day(world):
    cash_box(world.collective_a1, opening="6000.00")
    assert len(cash_over_limit(today())) == 1
    assert cash_over_limit(today()) == []
    assert len(cash_over_limit(today() + DAY)) == 1


def test_cash_payments_count_against_the_balance(world):
    account = cash_box(world.collective_a1, opening="6000.00")
    pay(world, account, "1000.00")
    assert cash_over_limit(today()) == []


def test_the_limit_comes_from_the_countys_rule_table(world):
    world.rule_version.cash_limit = Decimal("8000.00")
    world.rule_version.save()
    cash_box(world.collective_a1, opening="6000.00")
    assert cash_over_limit(today()) == []


# --- 4. contracts about to expire, rent overdue -----------------------------------------------


@pytest.mark.parametrize(("days_left", "raised"), [(0, 1), (60, 1), (61, 0)])
def test_a_contract_ending_within_the_notice_days_is_green(world, days_left, raised):
    make_contract(world.collective_a1, end=today() + days_left * DAY)
    warnings = contracts_expiring(today())
    assert len(warnings) == raised
    assert all(warning.level == WarningLevel.GREEN for warning in warnings)


def test_an_ended_contract_still_in_force_is_yellow(world):
    contract = make_contract(world.collective_a1, end=today() - DAY)
    [warning] = contracts_expiring(today())
    assert warning.level == WarningLevel.YELLOW
    assert warning.url == contract.get_absolute_url()


def test_a_contract_marked_ended_raises_nothing(world):
    make_contract(world.collective_a1, end=today() - DAY, status=ContractStatus.ENDED)
    assert contracts_expiring(today()) == []


def test_a_renewed_contract_is_a_new_subject(world):
    contract = make_contract(world.collective_a1, end=today() + 10 * DAY)
    [first] = contracts_expiring(today())
    warning_handle(user=world.officer_a, warning_id=first.pk, handling="已续签")
    Contract.objects.filter(pk=contract.pk).update(end_date=today() + 40 * DAY)
    assert len(contracts_expiring(today())) == 1


@pytest.mark.parametrize(
    ("days_late", "level"), [(15, None), (16, WarningLevel.YELLOW), (90, WarningLevel.YELLOW), (91, "red")]
)
def test_rent_unpaid_after_the_grace_days_is_overdue(world, days_late, level):
    payment = instalment(make_contract(world.collective_a1), due_on=today() - days_late * DAY)
    raised = rent_overdue(today())
    assert [warning.level for warning in raised] == ([level] if level else [])
    if level:
        assert raised[0].subject_key == f"rent:{payment.pk}"


def test_paid_rent_is_not_overdue(world):
    contract = make_contract(world.collective_a1)
    instalment(contract, due_on=today() - 100 * DAY, paid_on=today() - 99 * DAY)
    assert rent_overdue(today()) == []


def test_overdue_rent_turns_red_after_90_days_on_the_same_warning(world):
    instalment(make_contract(world.collective_a1), due_on=today() - 20 * DAY)
    [yellow] = rent_overdue(today())
    [red] = rent_overdue(today() + 71 * DAY)
    assert red.pk == yellow.pk and red.level == WarningLevel.RED


def test_handled_overdue_rent_is_not_raised_again(world):
    instalment(make_contract(world.collective_a1), due_on=today() - 20 * DAY)
    [yellow] = rent_overdue(today())
    warning_handle(user=world.leader_a, warning_id=yellow.pk, handling="已催收，承包方承诺月底前缴清")
    assert rent_overdue(today() + 71 * DAY) == []


# --- 5. assets idle too long --------------------------------------------------------------------


@pytest.mark.parametrize(("days_idle", "raised"), [(180, 0), (181, 1)])
def test_an_asset_idle_longer_than_the_limit_is_yellow(world, days_idle, raised):
    asset = make_asset(world.collective_a1, status=AssetStatus.IDLE)
    type(asset).objects.filter(pk=asset.pk).update(idle_since=today() - days_idle * DAY)
    warnings = assets_idle(today())
    assert len(warnings) == raised
    if raised:
        assert warnings[0].level == WarningLevel.YELLOW and warnings[0].url == asset.get_absolute_url()


def test_an_asset_in_use_is_not_idle(world):
    make_asset(world.collective_a1, status=AssetStatus.IN_USE, idle_since=None)
    assert assets_idle(today() + 1000 * DAY) == []


# --- 6. off-platform trading -------------------------------------------------------------------


@pytest.mark.parametrize("kind", [ContractKind.CONTRACTING, ContractKind.LEASE])
def test_a_contract_at_the_trading_threshold_without_a_reference_is_red(world, kind):
    make_contract(world.collective_a1, kind=kind, amount="50000.00", reference="")
    [warning] = off_platform_trading(today())
    assert warning.level == WarningLevel.RED


def test_a_contract_below_the_threshold_or_with_a_reference_raises_nothing(world):
    make_contract(world.collective_a1, amount="49999.99", reference="")
    make_contract(world.collective_a1, amount="90000.00", reference="SXNCJY-2026-017")
    assert off_platform_trading(today()) == []


# --- 7. a publication ended with an objection not handled --------------------------------------


def objected_matter(world) -> tuple[Matter, object]:
    matter = to_step(world, apply_purchase(world), Step.PUBLISH_RESOLUTION)
    notice = matter.notices.get(closed_at__isnull=True)
    objection = services.objection_submit(
        notice=notice, name="村民甲", phone="13800000000", text="报价偏高", client_key="k"
    )
    return matter, objection


def test_an_ended_publication_with_an_open_objection_is_red(world):
    matter, _objection = objected_matter(world)
    end_publication(matter)
    [warning] = objections_unhandled(today())
    assert warning.level == WarningLevel.RED
    assert warning.matter == matter
    assert warning.subject_key == f"notice:{matter.notices.get().pk}"


def test_a_publication_still_running_raises_nothing(world):
    objected_matter(world)
    assert objections_unhandled(today()) == []


def test_a_handled_objection_raises_nothing(world):
    matter, objection = objected_matter(world)
    services.objection_handle(user=world.supervisor_a1, objection_id=objection.pk, handling="已解释")
    end_publication(matter)
    assert objections_unhandled(today()) == []


def test_a_withdrawn_matters_objection_raises_nothing(world):
    matter, _objection = objected_matter(world)
    services.matter_withdraw(user=world.secretary_a1, matter_id=matter.pk, reason="撤回")
    assert objections_unhandled(today() + 30 * DAY) == []


def test_an_ended_publication_that_drew_no_objection_raises_nothing(world):
    # The demo's false reds: a notice with zero objections matched "an objection not handled" through the join.
    matter = to_step(world, apply_purchase(world), Step.PUBLISH_RESOLUTION)
    end_publication(matter)
    assert not matter.notices.get().objections.exists()
    assert objections_unhandled(today()) == []
    assert objections_unhandled(today() + 30 * DAY) == []


def test_a_notice_whose_objections_were_all_handled_raises_nothing(world):
    matter, first = objected_matter(world)
    notice = matter.notices.get()
    second = services.objection_submit(
        notice=notice, name="村民乙", phone="13800000001", text="请公开", client_key="k2"
    )
    for objection in (first, second):
        services.objection_handle(user=world.supervisor_a1, objection_id=objection.pk, handling="已答复")
    end_publication(matter)
    assert objections_unhandled(today()) == []


def test_one_open_objection_among_handled_ones_is_red_once(world):
    matter, first = objected_matter(world)
    notice = matter.notices.get()
    services.objection_submit(notice=notice, name="村民乙", phone="13800000001", text="请公开", client_key="k2")
    services.objection_submit(notice=notice, name="村民丙", phone="13800000002", text="有异议", client_key="k3")
    services.objection_handle(user=world.supervisor_a1, objection_id=first.pk, handling="已答复")
    end_publication(matter)
    [warning] = objections_unhandled(today())
    assert warning.subject_key == f"notice:{notice.pk}"


def test_an_open_objection_on_another_notice_does_not_flag_this_one(world):
    objected_matter(world)
    quiet = to_step(world, apply_purchase(world), Step.PUBLISH_RESOLUTION)
    end_publication(quiet)
    # The objected notice is still running: nothing has ended with an objection open.
    assert objections_unhandled(today()) == []


# --- 7b. many objections to one notice within the hour (raised as they arrive) ------------------


def test_objections_reaching_the_surge_count_within_the_hour_are_yellow(world, settings):
    settings.OBJECTION_SURGE_COUNT = 2
    matter, _objection = objected_matter(world)
    notice = matter.notices.get()
    services.objection_submit(notice=notice, name="村民乙", phone="13800000001", text="请公开", client_key="k2")
    [warning] = warnings_of(WarningRule.OBJECTION_SURGE)
    assert warning.level == WarningLevel.YELLOW and warning.matter == matter


def test_objections_below_the_surge_count_or_older_than_the_hour_raise_nothing(world, settings):
    settings.OBJECTION_SURGE_COUNT = 2
    matter, first = objected_matter(world)
    assert warnings_of(WarningRule.OBJECTION_SURGE) == []
    # An objection from yesterday and one now are two in a day, not a flood within the hour.
    type(first).objects.filter(pk=first.pk).update(submitted_at=timezone.now() - 2 * datetime.timedelta(hours=1))
    notice = matter.notices.get()
    services.objection_submit(notice=notice, name="村民乙", phone="13800000001", text="请公开", client_key="k2")
    assert warnings_of(WarningRule.OBJECTION_SURGE) == []
    assert objection_surge_check(notice=notice) is None


# --- raising once, to the right people ---------------------------------------------------------


def every_rule_once(world, bank):
    pay(world, bank, "3000.00")
    apply_disbursement(world, bank, "12000.00")
    apply_disbursement(world, bank, "9000.00")
    cash_box(world.collective_a1, opening="6000.00")
    make_contract(world.collective_a1, end=today() + 10 * DAY)
    instalment(make_contract(world.collective_a1), due_on=today() - 20 * DAY)
    asset = make_asset(world.collective_a1, status=AssetStatus.IDLE)
    type(asset).objects.filter(pk=asset.pk).update(idle_since=today() - 200 * DAY)
    make_contract(world.collective_a1, amount="60000.00", reference="")
    matter, _objection = objected_matter(world)
    end_publication(matter)
    # The same quotation sheet on two matters; a contract of thirty years; an approval with no application file.
    for _matter in range(2):
        with_evidence(apply_purchase(world), world.secretary_a1)
    make_contract(world.collective_a1, start=today(), end=today() + 30 * 366 * DAY)
    world.rule_version.evidence_threshold = Decimal("30000.00")
    world.rule_version.save()
    unfiled = to_step(world, apply_purchase(world, total="50000.00", quotations=3), Step.APPROVE_BY_TOWNSHIP)
    task = services.active_task(unfiled, Step.APPROVE_BY_TOWNSHIP)
    services.step_perform(
        user=world.leader_a, task_id=task.pk, decision="agree", opinion="同意", confirm_without_evidence=True
    )


def test_the_sweep_raises_every_rule_once(world, bank):
    every_rule_once(world, bank)
    raised = warnings_scan()
    assert {warning.rule for warning in raised} == set(WarningRule.values) - EVENT_RULES
    assert warnings_scan() == []
    assert EarlyWarning.objects.count() == len(raised)


def test_the_beat_task_runs_the_sweep(world, bank):
    pay(world, bank, "3000.00")
    assert tasks.scan_early_warnings.delay().get() == 1
    assert tasks.scan_early_warnings.delay().get() == 0


def test_the_tasks_retry_with_backoff():
    for task in (tasks.scan_early_warnings, tasks.check_fund_movement, tasks.check_contract):
        assert task.autoretry_for == (Exception,)
        assert task.retry_backoff is True
        assert task.max_retries == 5


def test_a_handled_warning_is_not_raised_again(world, bank):
    pay(world, bank, "3000.00")
    [warning] = warnings_scan()
    warning_handle(user=world.officer_a, warning_id=warning.pk, handling="已补办审批手续")
    assert warnings_scan() == []


def test_raising_the_same_subject_twice_keeps_one_row_and_one_notice(world):
    fields = dict(
        rule=WarningRule.CASH_OVER_LIMIT,
        level=WarningLevel.YELLOW,
        organization=world.collective_a1,
        subject_key="cash:test",
        title="现金超限",
    )
    assert warning_raise(**fields) is not None
    assert warning_raise(**fields) is None
    assert EarlyWarning.objects.count() == 1
    assert Notification.objects.filter(recipient=world.officer_a).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_raising_one_subject_at_once_announce_it_once():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent inserts only race for real on PostgreSQL (SQLite serialises whole transactions)")
    world = build_world()
    barrier = threading.Barrier(2)
    outcomes = []

    def sweep():
        try:
            barrier.wait()
            warning = warning_raise(
                rule=WarningRule.CASH_OVER_LIMIT,
                level=WarningLevel.YELLOW,
                organization=world.collective_a1,
                subject_key="cash:race",
                title="现金超限",
            )
            outcomes.append("raised" if warning else "known")
        except Exception as error:  # any other failure is reported in the assertion
            outcomes.append(repr(error))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["known", "raised"]
    assert EarlyWarning.objects.count() == 1
    assert Notification.objects.filter(recipient=world.officer_a).count() == 1


def test_a_warning_goes_to_the_village_the_township_and_the_inspectors_over_it(world, bank):
    pay(world, bank, "3000.00")
    [warning] = warnings_scan()
    notices = Notification.objects.filter(kind=NotificationKind.WARNING)
    recipients = set(notices.values_list("recipient__username", flat=True))
    assert recipients == {"sec_a1", "sup_a1", "officer_a", "leader_a", "leader_a2", "inspector"}
    assert {notice.url for notice in notices} == {reverse("registers:warning_detail", args=[warning.pk])}
    assert {notice.data["level"] for notice in notices} == {WarningLevel.RED}


def test_a_warning_in_another_township_reaches_nobody_here(world):
    cash_box(world.collective_b1, opening="6000.00")
    warnings_scan()
    recipients = set(Notification.objects.values_list("recipient__username", flat=True))
    assert recipients == {"sec_b1", "officer_b", "leader_b", "inspector", "inspector_b"}


# --- handling ---------------------------------------------------------------------------------


@pytest.fixture
def open_warning(world):
    cash_box(world.collective_a1, opening="6000.00")
    [warning] = cash_over_limit(today())
    return warning


@pytest.mark.parametrize("persona", ["officer_a", "leader_a"])
def test_the_township_records_the_handling(world, open_warning, persona):
    user = getattr(world, persona)
    warning = warning_handle(user=user, warning_id=open_warning.pk, handling="  已存入银行  ")
    warning.refresh_from_db()
    assert not warning.is_open
    assert warning.handled_by == user and warning.handling == "已存入银行"


def test_an_empty_handling_saves_nothing(world, open_warning):
    with pytest.raises(ValidationError) as error:
        warning_handle(user=world.officer_a, warning_id=open_warning.pk, handling="   ")
    assert "handling" in error.value.message_dict
    open_warning.refresh_from_db()
    assert open_warning.is_open


@pytest.mark.parametrize("persona", ["inspector", "county_admin", "secretary_a1", "supervisor_a1", "officer_b"])
def test_only_the_township_over_the_village_handles_a_warning(world, open_warning, persona):
    with pytest.raises(PermissionDenied):
        warning_handle(user=getattr(world, persona), warning_id=open_warning.pk, handling="已处理")
    open_warning.refresh_from_db()
    assert open_warning.is_open


def test_a_warning_is_handled_once(world, open_warning):
    warning_handle(user=world.officer_a, warning_id=open_warning.pk, handling="已存入银行")
    with pytest.raises(WarningAlreadyHandled):
        warning_handle(user=world.leader_a, warning_id=open_warning.pk, handling="再次处理")
    open_warning.refresh_from_db()
    assert open_warning.handled_by == world.officer_a


# --- at once, after a payment or contract is saved ---------------------------------------------


def test_a_payment_without_approval_is_flagged_when_it_commits(world, bank, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        payment = pay(world, bank, "3000.00")
    assert EarlyWarning.objects.filter(subject_key=f"movement:{payment.pk}").exists()


def test_cash_received_over_the_limit_is_flagged_when_it_commits(world, django_capture_on_commit_callbacks):
    account = cash_box(world.collective_a1, opening="4000.00")
    with django_capture_on_commit_callbacks(execute=True):
        income_record(account=account, amount=Decimal("1500.00"), occurred_on=today(), counterparty="村民", purpose="x")
    assert EarlyWarning.objects.filter(rule=WarningRule.CASH_OVER_LIMIT).count() == 1


def test_an_off_platform_contract_is_flagged_when_it_commits(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        contract = make_contract(world.collective_a1, amount="80000.00", reference="")
    assert EarlyWarning.objects.filter(
        rule=WarningRule.OFF_PLATFORM_TRADING, subject_key=f"contract:{contract.pk}"
    ).exists()


def test_nothing_is_checked_for_a_write_that_rolls_back(world, bank, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(ValidationError):
        pay(world, bank, "999999999.00")
    assert callbacks == []
    assert not EarlyWarning.objects.exists()


# --- the demo -----------------------------------------------------------------------------------


def test_the_demo_cases_make_every_rule_fire_once(db):
    call_command("seed_demo", stdout=io.StringIO())
    first = demo_warning_cases()
    assert set(first) == set(WarningRule.values) - EVENT_RULES
    # The seeded cash boxes already hold more than the limit: that case needs nothing new.
    assert first[WarningRule.CASH_OVER_LIMIT] == "already there"
    raised = warnings_scan()
    assert {warning.rule for warning in raised} == set(WarningRule.values) - EVENT_RULES
    demo_county = Organization.objects.get(code="DEMO")
    assert all(warning.organization.path.startswith(demo_county.path) for warning in raised)
    assert set(demo_warning_cases().values()) == {"already there"}
    assert warnings_scan() == []
