"""Asset disposal (资产处置) on the spine: bands, refusals, and the asset disposed with its proceeds booked."""

import datetime
import itertools
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from flows import services
from flows.catalogue import flow_for
from flows.disposal import DisposalFlow
from flows.models import Decision, Disposal, Matter, MatterStatus, Step, StepRecord
from flows.selectors import matter_history
from forms.disposal import DisposalApplicationForm, DisposalImplementationForm
from organizations.models import MeetingBody
from registers.disposals import asset_dispose, disposal_blocker
from registers.funds import fund_balance
from registers.models import Asset, AssetStatus, Direction, FundMovement
from tests.concurrency.test_two_approvers import run_at_once
from tests.conftest import build_world
from tests.drive import act, refresh, run_to_end
from tests.flows.test_spine import to_step
from tests.registers.test_funds import fund_account

pytestmark = pytest.mark.django_db

_codes = itertools.count(1)


def asset_card(organization, *, original="30000.00", status=AssetStatus.IN_USE, name="旧拖拉机") -> Asset:
    asset = Asset(
        organization=organization,
        code=f"{organization.code}-ZC9{next(_codes):04d}",
        name=name,
        category="农机具",
        quantity=1,
        unit_price=Decimal(original),
        original_value=Decimal(original),
        acquired_on=datetime.date(2015, 3, 1),
        status=status,
    )
    asset.full_clean()
    asset.save()
    return asset


@pytest.fixture
def asset(world):
    return asset_card(world.collective_a1)


@pytest.fixture
def account(world):
    return fund_account(world.collective_a1, opening="10000.00")


def disposal_data(asset, account=None, method="transfer", value="8000.00", **overrides) -> dict:
    data = {
        "title": "转让旧拖拉机",
        "asset": asset,
        "method": method,
        "appraisal_value": Decimal(value),
        "appraiser": "某资产评估事务所",
        "reason": "设备老化，闲置多年",
        "counterparty": "某农机合作社",
        "proceeds_account": account,
    }
    data.update(overrides)
    return data


def apply_disposal(world, asset, account=None, method="transfer", value="8000.00", user=None, **overrides) -> Matter:
    return services.matter_apply(
        user=user or world.secretary_a1,
        organization=world.collective_a1,
        transaction_type="disposal",
        data=disposal_data(asset, account, method, value, **overrides),
    )


def implement(world, matter, *, proceeds="0", disposed_on=None, user=None) -> StepRecord:
    """The cashier records the outcome through the implementation form, as the matter page would."""
    form = DisposalImplementationForm(
        data={"proceeds": str(proceeds), "disposed_on": (disposed_on or timezone.localdate()).isoformat()},
        **DisposalFlow.instance.form_kwargs(matter.organization),
    )
    assert form.is_valid(), form.main.errors
    return act(user or world.cashier_a1, matter, decision=Decision.DONE, opinion="已成交", data=form.to_data())


def nothing_applied() -> bool:
    return not Matter.objects.exists() and not Disposal.objects.exists()


def test_catalogue_finds_the_flow():
    assert flow_for("disposal") is DisposalFlow


# --- the bands, each through the spine to the archive ------------------------------------------------


@pytest.mark.parametrize(
    ("method", "value", "original", "proceeds", "amount", "member_body"),
    [
        ("transfer", "8000.00", "30000.00", "8500.00", "8000.00", ""),
        ("auction", "60000.00", "30000.00", "65000.00", "60000.00", MeetingBody.MEMBER_ASSEMBLY),
        ("exchange", "12000.00", "9000.00", "0", "12000.00", MeetingBody.MEMBER_ASSEMBLY),
        # A write-off or scrapping is banded by the book value when it is larger than the appraisal.
        ("write_off", "0", "15000.00", "0", "15000.00", MeetingBody.MEMBER_ASSEMBLY),
        ("scrapping", "500.00", "3000.00", "0", "3000.00", ""),
    ],
)
def test_each_band_runs_to_the_archive_and_disposes_of_the_asset(
    world, account, method, value, original, proceeds, amount, member_body
):
    asset = asset_card(world.collective_a1, original=original)
    with_account = account if method in ("transfer", "auction") else None
    matter = apply_disposal(world, asset, with_account, method, value)
    assert matter.amount == Decimal(amount)
    assert matter.member_body == member_body
    assert (Step.APPROVE_BY_TOWNSHIP in matter.required_steps) == bool(member_body)
    assert (Step.REVIEW_BY_PARTY_MEMBERS in matter.required_steps) == bool(member_body)

    matter = to_step(world, matter, Step.IMPLEMENT)
    asset.refresh_from_db()
    assert asset.status == AssetStatus.IN_USE, "nothing is disposed of before approval"
    implement(world, matter, proceeds=proceeds)
    matter = run_to_end(world, matter)

    assert matter.status == MatterStatus.ARCHIVED
    assert set(matter.required_steps) <= set(matter.step_records.values_list("step", flat=True))
    asset.refresh_from_db()
    assert asset.status == AssetStatus.DISPOSED
    assert asset.disposed_on == timezone.localdate()
    assert asset.history.count() == 2
    assert asset.history.first().status == AssetStatus.DISPOSED
    if Decimal(proceeds) > 0:
        movement = FundMovement.objects.get(matter=matter)
        assert (movement.account, movement.direction, movement.amount) == (account, Direction.IN, Decimal(proceeds))
        assert movement.counterparty == "某农机合作社"
        assert movement.recorded_by == world.cashier_a1
        assert movement.history.count() == 1
        assert fund_balance(account) == Decimal("10000.00") + Decimal(proceeds)
    else:
        assert not FundMovement.objects.exists()


def test_small_disposal_needs_only_two_committees_and_officer(world, asset, account):
    matter = apply_disposal(world, asset, account, value="9999.99")
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


def test_disposal_date_given_at_implementation_is_recorded(world, asset, account):
    matter = to_step(world, apply_disposal(world, asset, account), Step.IMPLEMENT)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    implement(world, matter, proceeds="8000.00", disposed_on=yesterday)
    asset.refresh_from_db()
    assert asset.disposed_on == yesterday
    assert FundMovement.objects.get(matter=matter).occurred_on == yesterday


def test_revision_keeps_its_own_asset_and_may_move_the_band(world, asset, account):
    matter = to_step(world, apply_disposal(world, asset, account), Step.CHECK_BY_TOWNSHIP)
    act(world.officer_a, matter, decision=Decision.RETURN, opinion="评估报告过期", return_to=Step.APPLY)
    revised = disposal_data(asset, account, method="auction", value="52000.00", title="拍卖旧拖拉机")
    act(world.secretary_a1, matter, decision=Decision.SUBMIT, opinion="已重新评估", data=revised)
    matter = refresh(matter)
    assert (matter.title, matter.amount, matter.member_body) == (
        "拍卖旧拖拉机",
        Decimal("52000.00"),
        MeetingBody.MEMBER_ASSEMBLY,
    )
    assert matter.disposal.method == "auction"
    assert matter.disposal.history.count() == 2


# --- refusals when applying --------------------------------------------------------------------------


@pytest.mark.parametrize("status", [AssetStatus.LEASED, AssetStatus.DISPOSED])
def test_leased_or_disposed_asset_is_refused(world, account, status):
    asset = asset_card(world.collective_a1, status=status)
    with pytest.raises(ValidationError) as error:
        apply_disposal(world, asset, account)
    reasons = {
        AssetStatus.LEASED: _("%(asset)s is leased; it cannot be disposed of while the lease runs."),
        AssetStatus.DISPOSED: _("%(asset)s has already been disposed of."),
    }
    assert error.value.message_dict == {"asset": [reasons[status] % {"asset": asset}]}
    assert nothing_applied()
    asset.refresh_from_db()
    assert asset.status == status and asset.history.count() == 1


def test_asset_already_in_a_running_matter_is_refused_until_that_one_ends(world, asset, account):
    first = apply_disposal(world, asset, account)
    with pytest.raises(ValidationError) as error:
        apply_disposal(world, asset, account, method="auction", value="9000.00", title="拍卖旧拖拉机")
    expected = _("%(asset)s is already in the running matter “%(title)s”.") % {"asset": asset, "title": first.title}
    assert error.value.message_dict == {"asset": [expected]}
    assert Matter.objects.count() == 1 and Disposal.objects.count() == 1
    services.matter_withdraw(user=world.secretary_a1, matter_id=first.pk, reason="另行处置")
    second = apply_disposal(world, asset, account, method="auction", value="9000.00", title="拍卖旧拖拉机")
    assert second.disposal.asset == asset


def test_save_refuses_the_asset_of_a_matter_that_slipped_past_the_check(world, asset, account):
    """Two applications at once both pass clean_application; the asset's reservation lets only one through."""
    apply_disposal(world, asset, account)
    flow = DisposalFlow.instance
    data = disposal_data(asset, account, title="并发的第二份申请")
    second = Matter.objects.create(
        organization=world.collective_a1,
        transaction_type="disposal",
        title=data["title"],
        amount=Decimal("8000.00"),
        applicant=world.secretary_a1,
        rule_version=world.rule_version,
        band=world.rule_version.bands.filter(transaction_type="disposal").first(),
    )
    with pytest.raises(ValidationError) as error:
        flow.reserve(matter=second, data=data)
    assert list(error.value.message_dict) == ["asset"]
    assert not second.reservations.exists()


def test_asset_of_another_collective_is_refused(world, account):
    foreign = asset_card(world.collective_b1)
    with pytest.raises(ValidationError) as error:
        apply_disposal(world, foreign, account)
    assert error.value.message_dict == {"asset": [_("This asset is not on the register of this collective.")]}
    assert nothing_applied()


@pytest.mark.parametrize("method", ["transfer", "auction", "exchange"])
def test_zero_appraisal_is_refused_when_the_asset_changes_hands(world, asset, account, method):
    with pytest.raises(ValidationError) as error:
        apply_disposal(world, asset, account, method, value="0")
    assert error.value.message_dict == {
        "appraisal_value": [_("A transfer, auction or exchange needs an appraised value above zero.")]
    }
    assert nothing_applied()


def test_negative_appraisal_is_refused(world, asset):
    with pytest.raises(ValidationError) as error:
        apply_disposal(world, asset, None, "scrapping", value="-1.00")
    assert error.value.message_dict == {"appraisal_value": [_("The appraised value cannot be negative.")]}
    assert nothing_applied()


@pytest.mark.parametrize("method", ["transfer", "auction", "exchange"])
def test_missing_counterparty_is_refused_when_the_asset_changes_hands(world, asset, account, method):
    with pytest.raises(ValidationError) as error:
        apply_disposal(world, asset, account, method, counterparty="  ")
    assert error.value.message_dict == {
        "counterparty": [_("Name the buyer or counterparty of a transfer, auction or exchange.")]
    }
    assert nothing_applied()


@pytest.mark.parametrize("method", ["transfer", "auction"])
def test_missing_proceeds_account_is_refused_when_the_method_brings_money(world, asset, method):
    with pytest.raises(ValidationError) as error:
        apply_disposal(world, asset, None, method)
    assert error.value.message_dict == {
        "proceeds_account": [_("Name the account that receives the proceeds of a transfer or auction.")]
    }
    assert nothing_applied()


@pytest.mark.parametrize("method", ["exchange", "write_off", "scrapping"])
def test_methods_without_money_need_no_account(world, asset, method):
    matter = apply_disposal(world, asset, None, method, value="100.00", counterparty="某公司")
    assert matter.disposal.proceeds_account is None


def test_proceeds_account_of_another_collective_is_refused(world, asset):
    foreign = fund_account(world.collective_b1, number="6222000099990000")
    with pytest.raises(ValidationError) as error:
        apply_disposal(world, asset, foreign)
    assert error.value.message_dict == {"proceeds_account": [_("This account belongs to another collective.")]}
    assert nothing_applied()


def test_salvage_into_an_account_needs_the_payer(world, asset, account):
    with pytest.raises(ValidationError) as error:
        apply_disposal(world, asset, account, "scrapping", value="300.00", counterparty="")
    assert error.value.message_dict == {"counterparty": [_("Name who pays the proceeds into the account.")]}
    assert nothing_applied()


# --- refusals when implementing: nothing changes -----------------------------------------------------


def assert_not_implemented(matter, asset, status=AssetStatus.IN_USE):
    matter = refresh(matter)
    assert matter.next_step == Step.IMPLEMENT
    assert not matter.step_records.filter(step=Step.IMPLEMENT).exists()
    asset.refresh_from_db()
    assert asset.status == status and asset.disposed_on is None
    assert not FundMovement.objects.exists()


def test_implementation_without_the_outcome_is_refused(world, asset, account):
    matter = to_step(world, apply_disposal(world, asset, account), Step.IMPLEMENT)
    with pytest.raises(ValidationError) as error:
        act(world.cashier_a1, matter, decision=Decision.DONE, opinion="已成交")
    assert error.value.messages == [_("Record the actual proceeds and the day of the disposal.")]
    assert_not_implemented(matter, asset)


def test_proceeds_without_an_account_are_refused(world, asset):
    matter = to_step(world, apply_disposal(world, asset, None, "exchange", value="12000.00"), Step.IMPLEMENT)
    with pytest.raises(ValidationError) as error:
        implement(world, matter, proceeds="500.00")
    assert error.value.message_dict == {
        "proceeds": [_("The application names no account to receive proceeds, so none can be recorded.")]
    }
    assert_not_implemented(matter, asset)


def test_disposal_dated_in_the_future_is_refused(world, asset, account):
    matter = to_step(world, apply_disposal(world, asset, account), Step.IMPLEMENT)
    with pytest.raises(ValidationError) as error:
        implement(world, matter, proceeds="8000.00", disposed_on=timezone.localdate() + datetime.timedelta(days=1))
    assert error.value.message_dict == {"disposed_on": [_("A disposal cannot be recorded before the day it happens.")]}
    assert_not_implemented(matter, asset)


def test_asset_leased_meanwhile_is_not_disposed_of(world, asset, account):
    matter = to_step(world, apply_disposal(world, asset, account), Step.IMPLEMENT)
    Asset.objects.filter(pk=asset.pk).update(status=AssetStatus.LEASED)
    asset.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        implement(world, matter, proceeds="8000.00")
    assert error.value.messages == [disposal_blocker(asset)]
    assert_not_implemented(matter, asset, status=AssetStatus.LEASED)


@pytest.mark.parametrize("persona", ["officer_a", "supervisor_a1", "secretary_b1"])
def test_only_the_village_disposes_of_its_assets(world, asset, account, persona):
    with pytest.raises(PermissionDenied):
        asset_dispose(
            asset=asset,
            matter=None,
            proceeds=Decimal("0"),
            account=None,
            disposed_on=timezone.localdate(),
            user=getattr(world, persona),
        )
    asset.refresh_from_db()
    assert asset.status == AssetStatus.IN_USE


# --- forms, page and history -------------------------------------------------------------------------


def test_form_offers_only_the_collectives_assets_and_accounts(world, asset, account):
    asset_card(world.collective_b1)
    fund_account(world.collective_b1, number="6222000099990000")
    gone = asset_card(world.collective_a1, status=AssetStatus.DISPOSED)
    form = DisposalApplicationForm(**DisposalFlow.instance.form_kwargs(world.collective_a1))
    assert list(form.main.fields["asset"].queryset) == [asset]
    assert gone not in form.main.fields["asset"].queryset
    assert list(form.main.fields["proceeds_account"].queryset) == [account]


def test_form_to_matter_through_the_view(client, world, asset, account):
    client.force_login(world.secretary_a1)
    url = reverse("flows:matter_create", args=["disposal"])
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="en").status_code == 200
    posted = {
        "organization": str(world.collective_a1.pk),
        "title": "转让旧拖拉机",
        "asset": str(asset.pk),
        "method": "transfer",
        "appraisal_value": "8000.00",
        "appraiser": "某资产评估事务所",
        "reason": "设备老化",
        "counterparty": "",
        "proceeds_account": str(account.pk),
    }
    refused = client.post(url, posted, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400
    assert "Name the buyer or counterparty of a transfer, auction or exchange." in refused.content.decode()
    assert nothing_applied()
    response = client.post(url, {**posted, "counterparty": "某农机合作社"}, HTTP_ACCEPT_LANGUAGE="en")
    matter = Matter.objects.get()
    assert response.status_code == 302 and response.url == matter.get_absolute_url()
    assert matter.disposal.asset == asset


def test_detail_links_the_asset_account_and_proceeds(world, asset, account):
    try:
        account_url = reverse("registers:fund_account_detail", args=[account.pk])
    except NoReverseMatch:
        pytest.skip("registers:fund_account_detail is not routed yet (the register pages are another helper's)")
    matter = to_step(world, apply_disposal(world, asset, account), Step.IMPLEMENT)
    before = render_to_string(DisposalFlow.detail_template, {"matter": matter})
    assert asset.get_absolute_url() in before and account_url in before and "某资产评估事务所" in before
    implement(world, matter, proceeds="8500.00")
    after = render_to_string(DisposalFlow.detail_template, {"matter": refresh(matter)})
    assert "8500.00" in after and after.count(account_url) == 2


def test_history_shows_the_application_the_asset_and_the_proceeds(world, asset, account):
    matter = to_step(world, apply_disposal(world, asset, account), Step.IMPLEMENT)
    implement(world, matter, proceeds="8500.00")
    labels = {entry.record_label for entry in matter_history(refresh(matter))}
    assert {Disposal._meta.verbose_name, Asset._meta.verbose_name, FundMovement._meta.verbose_name} <= labels
    disposed = next(
        entry for entry in matter_history(refresh(matter)) if entry.record_label == Asset._meta.verbose_name
    )
    assert "status" in {change.field for change in disposed.changes}


def test_matter_page_shows_the_disposal_to_the_township(client, world, asset):
    matter = apply_disposal(world, asset, None, "exchange", value="12000.00", counterparty="邻村合作社")
    client.force_login(world.officer_a)
    response = client.get(matter.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.content.decode()
    assert asset.get_absolute_url() in page and "邻村合作社" in page and "某资产评估事务所" in page


def test_implementation_through_the_matter_page(client, world, asset):
    matter = to_step(world, apply_disposal(world, asset, None, "exchange", value="12000.00"), Step.IMPLEMENT)
    client.force_login(world.cashier_a1)
    page = client.get(matter.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'name="proceeds"' in page and 'name="disposed_on"' in page
    task = services.active_task(refresh(matter), Step.IMPLEMENT)
    url = reverse("flows:perform_step", args=[task.pk])
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    posted = {"decision": Decision.DONE, "opinion": "已置换", "proceeds": "0", "disposed_on": tomorrow}
    refused = client.post(url, posted, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400
    assert "A disposal cannot be recorded before the day it happens." in refused.content.decode()
    asset.refresh_from_db()
    assert asset.status == AssetStatus.IN_USE
    response = client.post(url, {**posted, "disposed_on": timezone.localdate().isoformat()}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    asset.refresh_from_db()
    assert asset.status == AssetStatus.DISPOSED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_applications_for_one_asset_at_once_only_one_runs():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are only real on PostgreSQL (SQLite serialises whole transactions)")
    world = build_world()
    asset = asset_card(world.collective_a1)
    account = fund_account(world.collective_a1)
    outcomes = run_at_once(
        lambda: apply_disposal(world, asset, account, title="转让旧拖拉机"),
        lambda: apply_disposal(world, asset, account, "auction", title="拍卖旧拖拉机"),
    )
    assert sorted(outcomes) == ["ok", "refused"]
    assert Disposal.objects.filter(asset=asset).count() == 1
