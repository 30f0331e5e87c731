"""Fund disbursement (资金支出) on the spine: bands, refusals, and the payment recorded when implemented."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from flows import services
from flows.catalogue import flow_for
from flows.fund_disbursement import FundDisbursementFlow
from flows.models import Decision, FundDisbursement, Matter, MatterStatus, Step, StepRecord
from flows.selectors import matter_history
from forms.fund_disbursement import FundDisbursementApplicationForm, FundPaymentRecordForm
from organizations.models import MeetingBody
from registers.funds import fund_balance, income_record, insufficient_balance_message
from registers.models import Direction, FundMovement
from tests.drive import act, refresh, run_to_end
from tests.flows.test_spine import to_step
from tests.registers.test_funds import fund_account, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(world):
    return fund_account(world.collective_a1, opening="200000.00")


def disbursement_data(account, amount="8000.00", **overrides) -> dict:
    data = {
        "title": "村道修缮工程款",
        "account": account,
        "payee": "某建筑公司",
        "purpose": "村道修缮",
        "budget_line": "公益事业支出",
        "amount": Decimal(amount),
        "reason": "村道年久失修",
    }
    data.update(overrides)
    return data


def apply_disbursement(world, account, amount="8000.00", user=None, organization=None, **overrides) -> Matter:
    return services.matter_apply(
        user=user or world.cashier_a1,
        organization=organization or world.collective_a1,
        transaction_type="fund_disbursement",
        data=disbursement_data(account, amount, **overrides),
    )


def implement(world, matter, *, paid_on=None, reference="回单20260301-01", user=None) -> StepRecord:
    """The cashier records the payment through the implementation form, as the matter page would."""
    form = FundPaymentRecordForm(
        data={"paid_on": (paid_on or timezone.localdate()).isoformat(), "reference": reference},
        **FundDisbursementFlow.instance.form_kwargs(matter.organization),
    )
    assert form.is_valid(), form.main.errors
    return act(user or world.cashier_a1, matter, decision=Decision.DONE, opinion="已付款", data=form.to_data())


def nothing_applied():
    return not Matter.objects.exists() and not FundDisbursement.objects.exists()


def test_catalogue_finds_the_flow():
    assert flow_for("fund_disbursement") is FundDisbursementFlow


# --- the bands, each through the spine to the archive ------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "member_body", "township_approval"),
    [
        ("8000.00", "", False),
        ("19999.99", "", False),
        ("20000.00", MeetingBody.VILLAGER_REPRESENTATIVES, True),
        ("150000.00", MeetingBody.MEMBER_ASSEMBLY, True),
    ],
)
def test_each_band_runs_to_the_archive_and_records_the_payment(world, account, amount, member_body, township_approval):
    matter = apply_disbursement(world, account, amount)
    assert matter.member_body == member_body
    assert (Step.RESOLVE_BY_MEMBERS in matter.required_steps) == bool(member_body)
    assert (Step.REVIEW_BY_PARTY_MEMBERS in matter.required_steps) == township_approval
    assert (Step.APPROVE_BY_TOWNSHIP in matter.required_steps) == township_approval
    assert FundMovement.objects.count() == 0, "nothing is paid before approval"

    matter = to_step(world, matter, Step.IMPLEMENT)
    assert fund_balance(account) == Decimal("200000.00")
    implement(world, matter, reference="回单20260301-01")
    matter = run_to_end(world, matter)

    assert matter.status == MatterStatus.ARCHIVED
    done = set(matter.step_records.values_list("step", flat=True))
    assert set(matter.required_steps) <= done
    movement = FundMovement.objects.get(matter=matter)
    assert movement.account == account
    assert movement.direction == Direction.OUT
    assert movement.amount == Decimal(amount)
    assert movement.occurred_on == timezone.localdate()
    assert movement.counterparty == "某建筑公司"
    assert movement.purpose == "村道修缮（凭证 回单20260301-01）"
    assert movement.recorded_by == world.cashier_a1
    assert fund_balance(account) == Decimal("200000.00") - Decimal(amount)


def test_small_disbursement_needs_only_two_committees_and_officer(world, account):
    matter = apply_disbursement(world, account, "8000.00")
    assert matter.required_steps == [
        Step.APPLY,
        Step.PROPOSE,
        Step.DELIBERATE,
        Step.PUBLISH_RESOLUTION,
        Step.CHECK_BY_TOWNSHIP,
        Step.IMPLEMENT,
        Step.PUBLISH_RESULT,
        Step.ARCHIVE,
    ]
    assert refresh(matter).next_step == Step.PROPOSE


def test_payment_date_given_at_implementation_is_recorded(world, account):
    matter = to_step(world, apply_disbursement(world, account), Step.IMPLEMENT)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    implement(world, matter, paid_on=yesterday)
    assert FundMovement.objects.get(matter=matter).occurred_on == yesterday


# --- refusals when applying --------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["0", "-100.00"])
def test_zero_or_negative_amount_is_refused(world, account, amount):
    with pytest.raises(ValidationError) as error:
        apply_disbursement(world, account, amount)
    assert error.value.message_dict == {"amount": [_("The amount must be more than zero.")]}
    assert nothing_applied()


def test_amount_above_the_balance_is_refused_and_says_the_balance(world):
    account = fund_account(world.collective_a1, opening="30000.00")
    pay(world, account, "5000.00")
    with pytest.raises(ValidationError) as error:
        apply_disbursement(world, account, "25000.01")
    message = insufficient_balance_message(account, Decimal("25000.01"), Decimal("25000.00"))
    assert error.value.message_dict == {"amount": [message]}
    assert "25000.00" in message
    assert nothing_applied()
    assert fund_balance(account) == Decimal("25000.00")


def test_the_whole_balance_may_be_applied_for(world):
    account = fund_account(world.collective_a1, opening="25000.00")
    matter = apply_disbursement(world, account, "25000.00")
    assert matter.amount == Decimal("25000.00")


def test_account_of_another_collective_is_refused(world):
    foreign = fund_account(world.collective_b1, opening="90000.00", number="6222000099990000")
    with pytest.raises(ValidationError) as error:
        apply_disbursement(world, foreign, "1000.00")
    assert list(error.value.message_dict) == ["account"]
    assert nothing_applied()


def test_form_offers_only_the_applying_collectives_accounts(world, account):
    foreign = fund_account(world.collective_b1, number="6222000099990000")
    kwargs = FundDisbursementFlow.instance.form_kwargs(world.collective_a1)
    form = FundDisbursementApplicationForm(**kwargs)
    assert list(form.main.fields["account"].queryset) == [account]
    posted = {
        "title": "付款",
        "account": str(foreign.pk),
        "payee": "某公司",
        "purpose": "用途",
        "budget_line": "管理费用",
        "amount": "100.00",
    }
    form = FundDisbursementApplicationForm(data=posted, **kwargs)
    assert not form.is_valid()
    assert "account" in form.main.errors


def test_form_refuses_zero_and_accepts_a_valid_application(world, account):
    kwargs = FundDisbursementFlow.instance.form_kwargs(world.collective_a1)
    posted = {
        "title": "付款",
        "account": str(account.pk),
        "payee": "某公司",
        "purpose": "用途",
        "budget_line": "管理费用",
        "amount": "0",
    }
    assert "amount" in FundDisbursementApplicationForm(data=posted, **kwargs).main.errors
    form = FundDisbursementApplicationForm(data={**posted, "amount": "1200.00"}, **kwargs)
    assert form.is_valid(), form.main.errors
    matter = services.matter_apply(
        user=world.secretary_a1,
        organization=world.collective_a1,
        transaction_type="fund_disbursement",
        data=form.to_data(),
    )
    assert matter.fund_disbursement.account == account
    assert matter.step_records.get(step=Step.APPLY).opinion == ""


# --- refusals when implementing ----------------------------------------------------------------------


def test_implementation_is_refused_when_the_balance_no_longer_covers_it(world):
    account = fund_account(world.collective_a1, opening="10000.00")
    matter = to_step(world, apply_disbursement(world, account, "8000.00"), Step.IMPLEMENT)
    pay(world, account, "3000.00", purpose="另一笔支出")
    records_before = matter.step_records.count()

    with pytest.raises(ValidationError) as error:
        implement(world, matter)

    assert error.value.message_dict == {
        "amount": [insufficient_balance_message(account, Decimal("8000.00"), Decimal("7000.00"))]
    }
    matter = refresh(matter)
    assert matter.next_step == Step.IMPLEMENT
    assert matter.status == MatterStatus.IN_PROGRESS
    assert matter.step_records.count() == records_before
    assert not FundMovement.objects.filter(matter=matter).exists()
    assert fund_balance(account) == Decimal("7000.00")
    task = services.active_task(matter, Step.IMPLEMENT)
    assert task is not None and task.owner_id is None

    # Once money comes in, the same step can be implemented.
    income_record(
        account=account,
        amount=Decimal("1000.00"),
        occurred_on=timezone.localdate(),
        counterparty="承包户",
        purpose="承包费",
    )
    implement(world, matter)
    assert refresh(matter).next_step == Step.PUBLISH_RESULT
    assert fund_balance(account) == Decimal("0.00")


def test_implementation_form_refuses_a_future_date_and_needs_a_reference(world):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    form = FundPaymentRecordForm(data={"paid_on": tomorrow.isoformat(), "reference": "回单1"}, organization=None)
    assert not form.is_valid()
    assert "paid_on" in form.main.errors
    form = FundPaymentRecordForm(data={"paid_on": timezone.localdate().isoformat(), "reference": ""})
    assert not form.is_valid()
    assert "reference" in form.main.errors
    assert FundPaymentRecordForm().main["paid_on"].value() == timezone.localdate()


def test_implementation_with_a_future_date_is_refused_by_the_register_too(world, account):
    matter = to_step(world, apply_disbursement(world, account), Step.IMPLEMENT)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError):
        act(world.cashier_a1, matter, decision=Decision.DONE, data={"paid_on": tomorrow, "reference": "回单1"})
    assert refresh(matter).next_step == Step.IMPLEMENT
    assert not FundMovement.objects.exists()


# --- revision and history ----------------------------------------------------------------------------


def test_revision_moves_the_band_and_keeps_the_application_history(world, account):
    matter = to_step(world, apply_disbursement(world, account, "8000.00"), Step.CHECK_BY_TOWNSHIP)
    act(world.officer_a, matter, decision=Decision.RETURN, opinion="金额有误", return_to=Step.APPLY)
    matter = refresh(matter)

    flow = FundDisbursementFlow.instance
    initial = flow.application_data(matter)
    assert initial["reason"] == "村道年久失修"
    form = FundDisbursementApplicationForm(initial=initial, **flow.form_kwargs(matter.organization))
    posted = {name: form.main[name].value() for name in form.main.fields}
    posted.update(amount="60000.00", payee="另一建筑公司")
    form = FundDisbursementApplicationForm(data=posted, **flow.form_kwargs(matter.organization))
    assert form.is_valid(), form.main.errors
    act(world.cashier_a1, matter, decision=Decision.SUBMIT, opinion="已更正金额", data=form.to_data())

    matter = refresh(matter)
    assert matter.amount == Decimal("60000.00")
    assert matter.member_body == MeetingBody.VILLAGER_REPRESENTATIVES
    assert Step.APPROVE_BY_TOWNSHIP in matter.required_steps
    assert matter.fund_disbursement.payee == "另一建筑公司"
    assert matter.fund_disbursement.history.count() == 2


def test_revision_above_the_balance_is_refused_and_changes_nothing(world):
    account = fund_account(world.collective_a1, opening="10000.00")
    matter = to_step(world, apply_disbursement(world, account, "8000.00"), Step.CHECK_BY_TOWNSHIP)
    act(world.officer_a, matter, decision=Decision.RETURN, opinion="金额有误", return_to=Step.APPLY)
    with pytest.raises(ValidationError) as error:
        act(world.cashier_a1, matter, decision=Decision.SUBMIT, data=disbursement_data(account, "12000.00"))
    assert "amount" in error.value.message_dict
    matter = refresh(matter)
    assert (matter.next_step, matter.amount) == (Step.APPLY, Decimal("8000.00"))
    assert matter.fund_disbursement.history.count() == 1


def test_movement_history_is_shown_with_the_matter(world, account):
    matter = to_step(world, apply_disbursement(world, account), Step.IMPLEMENT)
    implement(world, matter)
    movement = FundMovement.objects.get(matter=matter)
    assert movement.history.count() == 1
    assert movement.history.get().history_type == "+"
    labels = {entry.record_label for entry in matter_history(refresh(matter))}
    assert {FundMovement._meta.verbose_name, FundDisbursement._meta.verbose_name} <= labels
    assert list(account.movements.all()) == [movement]


# --- the application page ---------------------------------------------------------------------------


@pytest.fixture
def english_client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def application_post(world, account, amount="8000.00") -> dict:
    return {
        "organization": str(world.collective_a1.pk),
        "title": "村道修缮工程款",
        "account": str(account.pk),
        "payee": "某建筑公司",
        "purpose": "村道修缮",
        "budget_line": "公益事业支出",
        "amount": amount,
        "reason": "村道年久失修",
    }


def test_application_page_offers_only_the_collectives_accounts(english_client, world, account):
    fund_account(world.collective_b1, name="石门村基本户", number="6222000099990000")
    english_client.force_login(world.cashier_a1)
    response = english_client.get(reverse("flows:matter_create", args=["fund_disbursement"]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "6222000011112222" in content
    assert "200000.00" in content
    assert "6222000099990000" not in content


def test_application_page_refuses_an_amount_above_the_balance(english_client, world):
    account = fund_account(world.collective_a1, opening="1000.00")
    english_client.force_login(world.cashier_a1)
    url = reverse("flows:matter_create", args=["fund_disbursement"])
    response = english_client.post(url, application_post(world, account, "1500.00"))
    assert response.status_code == 400
    assert "is more than the available balance" in response.content.decode()
    assert "1000.00 yuan" in response.content.decode()
    assert nothing_applied()


@pytest.mark.parametrize("typed", ["1e5", "1E3", "8000.001", "-8000", "8千", "8,00"])
def test_application_page_refuses_an_amount_not_written_as_people_write_it(client, world, account, typed):
    client.force_login(world.cashier_a1)
    url = reverse("flows:matter_create", args=["fund_disbursement"])
    response = client.post(url, application_post(world, account, typed))
    assert response.status_code == 400
    assert "金额" in response.content.decode()
    assert nothing_applied()


def test_application_page_takes_an_amount_with_thousands_separators(client, world, account):
    client.force_login(world.cashier_a1)
    url = reverse("flows:matter_create", args=["fund_disbursement"])
    response = client.post(url, application_post(world, account, "8，000.00"))
    assert response.status_code == 302
    assert Matter.objects.get().amount == Decimal("8000.00")


def test_application_page_refuses_another_collectives_account(english_client, world):
    foreign = fund_account(world.collective_b1, number="6222000099990000")
    english_client.force_login(world.cashier_a1)
    url = reverse("flows:matter_create", args=["fund_disbursement"])
    response = english_client.post(url, application_post(world, foreign, "100.00"))
    assert response.status_code == 400
    assert nothing_applied()


def test_application_page_submits_the_application(english_client, world, account):
    english_client.force_login(world.cashier_a1)
    url = reverse("flows:matter_create", args=["fund_disbursement"])
    response = english_client.post(url, application_post(world, account))
    matter = Matter.objects.get()
    assert response.status_code == 302
    assert response["Location"] == matter.get_absolute_url()
    assert (matter.amount, matter.fund_disbursement.account) == (Decimal("8000.00"), account)


# --- the matter page ---------------------------------------------------------------------------------


def account_url_or_skip(account) -> str:
    try:
        return reverse("registers:fund_account_detail", args=[account.pk])
    except NoReverseMatch:
        pytest.skip("registers:fund_account_detail is not routed yet (the register pages are another helper's)")


def test_detail_shows_the_application_and_links_the_recorded_payment(world, account):
    account_url = account_url_or_skip(account)
    matter = to_step(world, apply_disbursement(world, account), Step.IMPLEMENT)
    before = render_to_string(FundDisbursementFlow.detail_template, {"matter": matter})
    assert "某建筑公司" in before and "公益事业支出" in before and account_url in before
    assert "fund-movements" not in before
    implement(world, matter, reference="回单9")
    after = render_to_string(FundDisbursementFlow.detail_template, {"matter": refresh(matter)})
    assert "fund-movements" in after
    assert "村道修缮（凭证 回单9）" in after
    assert after.count(account_url) == 2


def test_implementation_page_records_the_payment(english_client, world, account):
    account_url_or_skip(account)
    matter = to_step(world, apply_disbursement(world, account), Step.IMPLEMENT)
    english_client.force_login(world.cashier_a1)
    page = english_client.get(matter.get_absolute_url()).content.decode()
    assert "Voucher or bank reference" in page
    task = services.active_task(matter, Step.IMPLEMENT)
    posted = {"decision": "done", "opinion": "已付款", "paid_on": timezone.localdate().isoformat(), "reference": "R1"}
    response = english_client.post(reverse("flows:perform_step", args=[task.pk]), posted)
    assert response.status_code == 302
    assert FundMovement.objects.get(matter=matter).purpose == "村道修缮（凭证 R1）"


def test_implementation_page_refuses_when_the_balance_no_longer_covers_it(english_client, world):
    account = fund_account(world.collective_a1, opening="10000.00")
    account_url_or_skip(account)
    matter = to_step(world, apply_disbursement(world, account, "8000.00"), Step.IMPLEMENT)
    pay(world, account, "3000.00", purpose="另一笔支出")
    english_client.force_login(world.cashier_a1)
    task = services.active_task(matter, Step.IMPLEMENT)
    posted = {"decision": "done", "opinion": "已付款", "paid_on": timezone.localdate().isoformat(), "reference": "R1"}
    response = english_client.post(reverse("flows:perform_step", args=[task.pk]), posted)
    assert response.status_code == 400
    assert "7000.00 yuan" in response.content.decode()
    assert refresh(matter).next_step == Step.IMPLEMENT
    assert not FundMovement.objects.filter(matter=matter).exists()
