"""The register pages (台账): seen only inside the jurisdiction, filtered, paginated, linked to their matters,
with their history, and with a fixed number of queries however many rows they list."""

import datetime
import html
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from flows.models import Matter, PaymentFrequency
from registers.contracts import contract_create, contract_total, payment_schedule
from registers.funds import income_record, payment_record
from registers.models import (
    AccountKind,
    Asset,
    AssetStatus,
    Contract,
    ContractKind,
    Direction,
    FundAccount,
    FundMovement,
    Member,
    MemberStatus,
    Resource,
    ResourceKind,
    ShareCertificate,
    ShareKind,
    ShareLedgerEntry,
    ShareReason,
)
from registers.shares import certificates_reissue, shares_allocate
from tests.drive import apply_purchase
from tests.factories import MemberFactory, valid_id_number

pytestmark = pytest.mark.django_db

LIST_PAGES = [
    "registers:asset_list",
    "registers:fund_account_list",
    "registers:resource_list",
    "registers:contract_list",
    "registers:member_list",
    "registers:share_ledger",
    "registers:share_holdings",
]
LIST_EXPORTS = [
    "registers:asset_export",
    "registers:fund_account_export",
    "registers:resource_export",
    "registers:contract_export",
    "registers:member_export",
    "registers:share_ledger_export",
    "registers:share_holdings_export",
]
# Pages and downloads of one record: (URL name, attribute of Registers holding the record).
RECORD_PAGES = [
    ("registers:asset_detail", "asset"),
    ("registers:fund_account_detail", "account"),
    ("registers:fund_movement_export", "account"),
    ("registers:resource_detail", "resource"),
    ("registers:contract_detail", "contract"),
    ("registers:member_detail", "member"),
    ("registers:certificate_pdf", "certificate"),
]
# Personas of another village or township than A1's.
OUTSIDERS = ["secretary_a2", "secretary_b1", "officer_b", "inspector_b"]
INSIDERS = ["secretary_a1", "leader_a", "inspector"]


@dataclass
class Registers:
    """One collective's register rows, each kind once (the contracted resource, the leased asset...)."""

    asset: Asset
    account: FundAccount
    income: FundMovement
    payment: FundMovement
    resource: Resource
    contract: Contract
    lease: Contract
    member: Member
    certificate: ShareCertificate
    matter: Matter | None


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


def a_contract(collective, *, kind, counterparty, start, end, annual=Decimal("12000.00"), matter=None, **subject):
    return contract_create(
        organization=collective,
        kind=kind,
        counterparty=counterparty,
        start_date=start,
        end_date=end,
        amount=contract_total(start_date=start, end_date=end, annual_amount=annual),
        schedule=payment_schedule(start, end, annual, PaymentFrequency.YEARLY),
        trading_reference="SXNCJY-2026-001" if kind == ContractKind.CONTRACTING else "",
        matter=matter,
        **subject,
    )


def registers_of(collective, *, matter=None) -> Registers:
    """Register rows of ``collective``, written through the register services where there is one."""
    code = collective.code
    asset = Asset.objects.create(
        organization=collective,
        code=f"{code}-ZC00001",
        name=f"{collective.name}旧仓库",
        category="房屋及建筑物",
        unit_price=Decimal("120000.00"),
        original_value=Decimal("120000.00"),
        acquired_on=datetime.date(2010, 5, 1),
        status=AssetStatus.IDLE,
        source_matter=matter,
    )
    account = FundAccount.objects.create(
        organization=collective,
        name=f"{collective.name}基本户",
        kind=AccountKind.BANK,
        account_number=f"6222{collective.pk:012d}",
        opening_balance=Decimal("100000.00"),
    )
    income = income_record(
        account=account,
        amount=Decimal("2500.00"),
        occurred_on=days_ago(60),
        counterparty="县财政局",
        purpose="村级组织运转经费",
        matter=matter,
    )
    payment = payment_record(
        account=account,
        amount=Decimal("800.00"),
        occurred_on=days_ago(10),
        counterparty="某建筑公司",
        purpose="道路修缮",
        matter=matter,
        user=None,
    )
    resource = Resource.objects.create(
        organization=collective,
        code=f"{code}-ZY00001",
        name=f"{collective.name}东坡耕地",
        kind=ResourceKind.CULTIVATED,
        location="村东",
        area_mu=Decimal("35.50"),
    )
    contract = a_contract(
        collective,
        kind=ContractKind.CONTRACTING,
        counterparty=f"{collective.name}种植合作社",
        start=days_ago(400),
        end=days_ago(400) + datetime.timedelta(days=5 * 365),
        matter=matter,
        resource=resource,
    )
    lease = a_contract(
        collective,
        kind=ContractKind.LEASE,
        counterparty=f"{collective.name}惠民超市",
        start=days_ago(300),
        end=days_ago(300) + datetime.timedelta(days=2 * 365),
        matter=matter,
        asset=asset,
    )
    member = collective.members.order_by("pk").first()
    if matter is not None:
        Member.objects.filter(pk=member.pk).update(source_matter=matter)
    shares_allocate(member=member, kind=ShareKind.POPULATION, shares=1)
    shares_allocate(member=member, kind=ShareKind.LABOUR_AGE, shares=2)
    (certificate,) = certificates_reissue(members=[member])
    for row in (asset, resource, member):
        row.refresh_from_db()
    return Registers(asset, account, income, payment, resource, contract, lease, member, certificate, matter)


@pytest.fixture
def client(client):
    """English, so that assertions can quote the untranslated words."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def a1(world) -> Registers:
    return registers_of(world.collective_a1, matter=apply_purchase(world))


@pytest.fixture
def b1(world) -> Registers:
    return registers_of(world.collective_b1)


def record_url(name: str, registers: Registers, attribute: str) -> str:
    return reverse(name, args=[getattr(registers, attribute).pk])


def page(client, name: str, **params) -> str:
    response = client.get(reverse(name), params)
    assert response.status_code == 200
    return response.content.decode()


# --- who sees what -----------------------------------------------------------------


@pytest.mark.parametrize("name", LIST_PAGES + LIST_EXPORTS)
def test_anonymous_visitors_are_sent_to_log_in_from_lists(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(("name", "attribute"), RECORD_PAGES)
def test_anonymous_visitors_are_sent_to_log_in_from_records(client, world, a1, name, attribute):
    response = client.get(record_url(name, a1, attribute))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("persona", OUTSIDERS)
@pytest.mark.parametrize(("name", "attribute"), RECORD_PAGES)
def test_a_record_of_another_village_is_404(client, world, a1, persona, name, attribute):
    client.force_login(getattr(world, persona))
    assert client.get(record_url(name, a1, attribute)).status_code == 404


@pytest.mark.parametrize("persona", INSIDERS)
@pytest.mark.parametrize(("name", "attribute"), [page for page in RECORD_PAGES if page[1] != "certificate"])
def test_a_record_is_seen_inside_the_jurisdiction(client, world, a1, persona, name, attribute):
    client.force_login(getattr(world, persona))
    assert client.get(record_url(name, a1, attribute)).status_code == 200


def row_of(collective) -> str:
    """The collective's cell in a row of any list."""
    return f"<td>{collective.name}</td>"


@pytest.mark.parametrize("persona", ["secretary_b1", "inspector_b"])
@pytest.mark.parametrize("name", LIST_PAGES)
def test_lists_leave_out_rows_of_other_places(client, world, a1, b1, persona, name):
    client.force_login(getattr(world, persona))
    content = page(client, name)
    assert world.collective_a1.name not in content
    assert row_of(world.collective_b1) in content


@pytest.mark.parametrize("name", LIST_PAGES)
def test_the_inspector_of_the_county_sees_every_village(client, world, a1, b1, name):
    client.force_login(world.inspector)
    content = page(client, name)
    assert row_of(world.collective_a1) in content
    assert row_of(world.collective_b1) in content


def test_the_collective_filter_narrows_to_one_collective(client, world, a1, b1):
    client.force_login(world.inspector)
    content = page(client, "registers:contract_list", collective=world.collective_b1.pk)
    assert b1.contract.code in content
    assert a1.contract.code not in content


def test_nav_links_every_register(client, world):
    client.force_login(world.secretary_a1)
    content = client.get(reverse("flows:matter_list")).content.decode()
    for name in ("asset_list", "fund_account_list", "resource_list", "contract_list", "member_list", "share_holdings"):
        assert f'href="{reverse(f"registers:{name}")}"' in content


# --- assets ------------------------------------------------------------------------


def test_asset_list_filters_by_status_category_and_collective(client, world, a1):
    other = Asset.objects.create(
        organization=world.collective_a1,
        code="A1-JJ-ZC00002",
        name="办公电脑",
        category="办公设备",
        unit_price=Decimal("4000.00"),
        original_value=Decimal("4000.00"),
        acquired_on=datetime.date(2021, 9, 1),
    )
    client.force_login(world.secretary_a1)
    content = page(client, "registers:asset_list", status=AssetStatus.LEASED)
    assert a1.asset.code in content and other.code not in content
    content = page(client, "registers:asset_list", category="办公设备")
    assert other.code in content and a1.asset.code not in content
    content = page(client, "registers:asset_list", collective=world.collective_a2.pk)
    assert other.code not in content and a1.asset.code not in content
    # Values that are not choices are ignored, not errors.
    content = page(client, "registers:asset_list", status="bogus", category="bogus", collective="x")
    assert other.code in content and a1.asset.code in content


def test_asset_page_links_its_matter_contracts_and_leasing_and_disposal_matters(client, world, a1):
    client.force_login(world.secretary_a1)
    content = client.get(a1.asset.get_absolute_url()).content.decode()
    assert a1.matter.get_absolute_url() in content
    assert a1.lease.get_absolute_url() in content
    assert a1.lease.counterparty in content
    assert "No leasing or disposal matters." in content


def test_asset_page_shows_who_changed_what(client, world, a1):
    client.force_login(world.secretary_a1)
    content = client.get(a1.asset.get_absolute_url()).content.decode()
    # contract_create marked the idle asset leased: the history says so, field by field.
    assert "Status: Idle → Leased" in content
    assert 'id="history"' in content


# --- funds -------------------------------------------------------------------------


def test_fund_account_list_shows_the_balance(client, world, a1):
    client.force_login(world.cashier_a1)
    content = page(client, "registers:fund_account_list")
    assert a1.account.get_absolute_url() in content
    assert "<strong>101700.00</strong>" in content  # 100000 + 2500 - 800


def test_fund_account_list_filters_by_kind(client, world, a1):
    cash = FundAccount.objects.create(organization=world.collective_a1, name="库存现金", kind=AccountKind.CASH)
    client.force_login(world.cashier_a1)
    content = page(client, "registers:fund_account_list", kind=AccountKind.CASH)
    assert cash.get_absolute_url() in content
    assert a1.account.get_absolute_url() not in content


def test_fund_account_page_shows_balance_and_movements_linked_to_matters(client, world, a1):
    client.force_login(world.cashier_a1)
    content = client.get(a1.account.get_absolute_url()).content.decode()
    assert '<strong id="balance">101700.00</strong>' in content
    assert "村级组织运转经费" in content and "道路修缮" in content
    assert a1.matter.get_absolute_url() in content
    assert 'id="history"' in content


@pytest.mark.parametrize(
    ("params", "shown", "hidden"),
    [
        ({"direction": Direction.IN}, "村级组织运转经费", "道路修缮"),
        ({"direction": Direction.OUT}, "道路修缮", "村级组织运转经费"),
        ({"since": days_ago(30).isoformat()}, "道路修缮", "村级组织运转经费"),
        ({"until": days_ago(30).isoformat()}, "村级组织运转经费", "道路修缮"),
    ],
)
def test_fund_account_page_filters_movements_by_direction_and_dates(client, world, a1, params, shown, hidden):
    client.force_login(world.cashier_a1)
    content = client.get(a1.account.get_absolute_url(), params).content.decode()
    assert shown in content
    assert hidden not in content
    # The balance is the account's, whatever the filter.
    assert '<strong id="balance">101700.00</strong>' in content


# --- resources ---------------------------------------------------------------------


def test_resource_list_filters_by_kind_and_status(client, world, a1):
    forest = Resource.objects.create(
        organization=world.collective_a1,
        code="A1-JJ-ZY00002",
        name="北山林地",
        kind=ResourceKind.FOREST,
        location="村北",
        area_mu=Decimal("300.00"),
    )
    client.force_login(world.secretary_a1)
    content = page(client, "registers:resource_list", kind=ResourceKind.FOREST)
    assert forest.code in content and a1.resource.code not in content
    content = page(client, "registers:resource_list", status="contracted")
    assert a1.resource.code in content and forest.code not in content


def test_resource_page_lists_its_contracts_with_their_matters(client, world, a1):
    client.force_login(world.secretary_a1)
    content = client.get(a1.resource.get_absolute_url()).content.decode()
    assert a1.contract.get_absolute_url() in content
    assert a1.matter.get_absolute_url() in content
    assert "Status: Not contracted → Contracted" in content


# --- contracts ---------------------------------------------------------------------


def test_contract_list_filters_by_kind_and_status(client, world, a1):
    client.force_login(world.secretary_a1)
    content = page(client, "registers:contract_list", kind=ContractKind.LEASE)
    assert a1.lease.code in content and a1.contract.code not in content
    content = page(client, "registers:contract_list", status="ended")
    assert a1.lease.code not in content and a1.contract.code not in content


def test_contract_list_finds_contracts_expiring_within_days(client, world, a1):
    soon = a_contract(
        world.collective_a1,
        kind=ContractKind.CONTRACTING,
        counterparty="即将到期的承包人",
        start=days_ago(300),
        end=timezone.localdate() + datetime.timedelta(days=20),
        resource=Resource.objects.create(
            organization=world.collective_a1,
            code="A1-JJ-ZY00009",
            name="河滩地",
            kind=ResourceKind.CULTIVATED,
            location="河东",
            area_mu=Decimal("10.00"),
        ),
    )
    client.force_login(world.secretary_a1)
    content = page(client, "registers:contract_list", expiring=30)
    assert soon.code in content
    assert a1.contract.code not in content and a1.lease.code not in content
    assert a1.contract.code in page(client, "registers:contract_list")


def test_contract_page_shows_schedule_subject_trading_reference_and_matter(client, world, a1):
    client.force_login(world.secretary_a1)
    content = client.get(a1.contract.get_absolute_url()).content.decode()
    assert a1.contract.counterparty in content
    assert a1.resource.get_absolute_url() in content
    assert "SXNCJY-2026-001" in content
    assert a1.matter.get_absolute_url() in content
    payments = list(a1.contract.payments.all())
    assert len(payments) >= 5
    for payment in payments:
        assert payment.due_on.isoformat() in content
    # The first instalment fell due a year ago and was never paid.
    assert "Overdue" in content


# --- members -----------------------------------------------------------------------


def test_member_list_never_shows_a_full_id_number(client, world, a1):
    client.force_login(world.secretary_a1)
    content = page(client, "registers:member_list")
    for member in world.members_a1:
        assert member.id_number not in content
        assert "*" * 14 + member.id_number[-4:] in content


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"party": "1"}, lambda member: member.is_party_member),
        ({"representative": "1"}, lambda member: member.is_representative),
        ({"party": "1", "representative": "1"}, lambda member: member.is_party_member and member.is_representative),
        ({"household": "A1-01"}, lambda member: member.household == "A1-01"),
        ({"status": "left"}, lambda member: member.status == MemberStatus.LEFT),
    ],
)
def test_member_list_filters(client, world, params, expected):
    Member.objects.filter(pk=world.members_a1[11].pk).update(status=MemberStatus.LEFT)
    client.force_login(world.secretary_a1)
    content = page(client, "registers:member_list", **params)
    members = Member.objects.filter(organization=world.collective_a1)
    assert any(expected(member) for member in members)
    for member in members:
        link = reverse("registers:member_detail", args=[member.pk])
        assert (f'href="{link}"' in content) == expected(member), member


def test_member_list_links_the_matter_that_confirmed_a_member(client, world, a1):
    client.force_login(world.secretary_a1)
    assert a1.matter.get_absolute_url() in page(client, "registers:member_list")


def test_member_list_searches_by_name(client, world):
    wanted = MemberFactory(organization=world.collective_a1, name="王建国")
    client.force_login(world.secretary_a1)
    content = page(client, "registers:member_list", q="建国")
    assert reverse("registers:member_detail", args=[wanted.pk]) in content
    assert reverse("registers:member_detail", args=[world.members_a1[0].pk]) not in content


def test_member_page_shows_holdings_certificates_and_masked_id(client, world, a1):
    client.force_login(world.secretary_a1)
    response = client.get(reverse("registers:member_detail", args=[a1.member.pk]))
    content = response.content.decode()
    assert a1.member.id_number not in content
    assert "*" * 14 + a1.member.id_number[-4:] in content
    assert [shares for _label, shares in response.context["holdings"]] == [1, 2]  # population, labour-age
    assert response.context["total_shares"] == 3
    assert "Population share" in content and "Labour-age share" in content
    assert reverse("registers:certificate_pdf", args=[a1.certificate.pk]) in content
    assert a1.certificate.number in content
    assert a1.matter.get_absolute_url() in content
    assert f"{reverse('registers:share_ledger')}?member={a1.member.pk}" in content


def test_member_page_history_shows_changes_and_masks_the_id_number(client, world, a1):
    member = a1.member
    old_household, old_id_number = member.household, member.id_number
    member.household = "新户"
    member.id_number = valid_id_number(datetime.date(1975, 3, 9))
    member.save()
    client.force_login(world.secretary_a1)
    content = client.get(reverse("registers:member_detail", args=[member.pk])).content.decode()
    assert f"Household: {old_household} → 新户" in content
    assert f"ID number: {'*' * 14}{old_id_number[-4:]} → {'*' * 14}{member.id_number[-4:]}" in content
    assert old_id_number not in content and member.id_number not in content


# --- shares ------------------------------------------------------------------------


def test_share_ledger_filters_by_member_kind_and_reason(client, world, a1):
    other = world.members_a1[1]
    shares_allocate(member=other, kind=ShareKind.POPULATION, shares=1)
    client.force_login(world.secretary_a1)
    member_link = f'href="{reverse("registers:member_detail", args=[a1.member.pk])}"'
    other_link = f'href="{reverse("registers:member_detail", args=[other.pk])}"'
    content = page(client, "registers:share_ledger", member=a1.member.pk)
    assert member_link in content and other_link not in content
    content = page(client, "registers:share_ledger", kind=ShareKind.LABOUR_AGE)
    assert member_link in content and other_link not in content
    content = page(client, "registers:share_ledger", reason=ShareReason.GIFT)
    assert member_link not in content and other_link not in content
    content = page(client, "registers:share_ledger", q=other.name)
    assert member_link not in content and other_link in content


def test_share_ledger_links_entries_to_their_matter(client, world, a1):
    entry = ShareLedgerEntry.objects.create(
        organization=world.collective_a1,
        member=world.members_a1[2],
        kind=ShareKind.POPULATION,
        change=1,
        reason=ShareReason.GIFT,
        counterpart=a1.member,
        matter=a1.matter,
    )
    client.force_login(world.secretary_a1)
    content = page(client, "registers:share_ledger", reason=ShareReason.GIFT)
    assert a1.matter.get_absolute_url() in content
    assert reverse("registers:member_detail", args=[entry.counterpart_id]) in content


def test_share_holdings_sum_the_ledger_per_member_and_kind(client, world, a1):
    other = world.members_a1[1]
    shares_allocate(member=other, kind=ShareKind.POPULATION, shares=4)
    client.force_login(world.secretary_a1)
    response = client.get(reverse("registers:share_holdings"))
    rows = {row["member_id"]: (row["population"], row["labour_age"], row["total"]) for row in response.context["page"]}
    assert rows == {a1.member.pk: (1, 2, 3), other.pk: (4, 0, 4)}
    response = client.get(reverse("registers:share_holdings"), {"kind": ShareKind.LABOUR_AGE})
    assert [row["member_id"] for row in response.context["page"]] == [a1.member.pk]


# --- pagination --------------------------------------------------------------------


def test_pagination_keeps_the_filters(client, world):
    for number in range(55):
        Resource.objects.create(
            organization=world.collective_a1,
            code=f"A1-JJ-ZY{number:05d}",
            name=f"林地{number}",
            kind=ResourceKind.FOREST,
            location="北山",
            area_mu=Decimal("10.00"),
        )
    client.force_login(world.secretary_a1)
    content = page(client, "registers:resource_list", kind=ResourceKind.FOREST)
    assert 'data-count="55"' in content
    next_link = html.unescape(re.search(r'href="(\?[^"]*)" data-role="next"', content).group(1))
    assert "kind=forest" in next_link and "after=" in next_link
    second = client.get(reverse("registers:resource_list") + next_link).content.decode()
    assert len(re.findall(r'href="/registers/resources/\d+/"', second)) == 5


# --- a fixed number of queries -----------------------------------------------------


def _asset(collective, number, matter):
    return Asset.objects.create(
        organization=collective,
        code=f"{collective.code}-Q{number:05d}",
        name=f"桌椅{number}",
        category="家具",
        unit_price=Decimal("100.00"),
        original_value=Decimal("100.00"),
        acquired_on=datetime.date(2024, 1, 1),
        source_matter=matter,
    )


def _resource(collective, number):
    return Resource.objects.create(
        organization=collective,
        code=f"{collective.code}-Q{number:05d}",
        name=f"耕地{number}",
        kind=ResourceKind.CULTIVATED,
        location="村东",
        area_mu=Decimal("5.00"),
    )


def grow_assets(world, matter, start, stop):
    for number in range(start, stop):
        _asset(world.collective_a1, number, matter)


def grow_accounts(world, matter, start, stop):
    for number in range(start, stop):
        account = FundAccount.objects.create(organization=world.collective_a1, name=f"账户{number}")
        FundMovement.objects.create(
            account=account,
            direction=Direction.IN,
            amount=Decimal("10.00"),
            occurred_on=days_ago(1),
            counterparty="某人",
            purpose="收入",
            matter=matter,
        )


def grow_resources(world, matter, start, stop):
    for number in range(start, stop):
        _resource(world.collective_a1, number)


def grow_contracts(world, matter, start, stop):
    for number in range(start, stop):
        subject = (
            {"resource": _resource(world.collective_a1, number)}
            if number % 2
            else {"asset": _asset(world.collective_a1, number, None)}
        )
        Contract.objects.create(
            organization=world.collective_a1,
            code=f"A1-JJ-HTQ{number:05d}",
            kind=ContractKind.CONTRACTING if number % 2 else ContractKind.LEASE,
            counterparty=f"承包人{number}",
            start_date=datetime.date(2026, 1, 1),
            end_date=datetime.date(2027, 12, 31),
            amount=Decimal("1000.00"),
            matter=matter,
            **subject,
        )


def grow_members(world, matter, start, stop):
    for _number in range(start, stop):
        MemberFactory(organization=world.collective_a1, source_matter=matter)


def grow_ledger(world, matter, start, stop):
    for _number in range(start, stop):
        member = MemberFactory(organization=world.collective_a1)
        for kind in ShareKind.values:
            ShareLedgerEntry.objects.create(
                organization=member.organization,
                member=member,
                kind=kind,
                change=2,
                reason=ShareReason.GIFT,
                counterpart=world.members_a1[0],
                matter=matter,
            )


GROWERS = {
    "registers:asset_list": grow_assets,
    "registers:fund_account_list": grow_accounts,
    "registers:resource_list": grow_resources,
    "registers:contract_list": grow_contracts,
    "registers:member_list": grow_members,
    "registers:share_ledger": grow_ledger,
    "registers:share_holdings": grow_ledger,
}
FEW, MANY = 3, 30


def queries_for(client, url: str) -> list[str]:
    """The SQL of one GET (after a first one, so that per-process caches are warm)."""
    client.get(url)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return [query["sql"] for query in context.captured_queries]


def assert_same_queries(few: list[str], many: list[str]) -> None:
    assert len(few) == len(many), "\n".join(["With few rows:", *few, "", "With many rows:", *many])


@pytest.mark.parametrize("persona", ["secretary_a1", "inspector"])
@pytest.mark.parametrize("name", LIST_PAGES)
def test_list_queries_do_not_grow_with_rows(client, world, persona, name):
    matter = apply_purchase(world)
    client.force_login(getattr(world, persona))
    GROWERS[name](world, matter, 0, FEW)
    few = queries_for(client, reverse(name))
    GROWERS[name](world, matter, FEW, MANY)
    many = queries_for(client, reverse(name))
    assert_same_queries(few, many)


def test_fund_account_page_queries_do_not_grow_with_movements(client, world):
    matter = apply_purchase(world)
    account = FundAccount.objects.create(organization=world.collective_a1, name="基本户")

    def grow(count):
        for _number in range(count):
            FundMovement.objects.create(
                account=account,
                direction=Direction.IN,
                amount=Decimal("10.00"),
                occurred_on=days_ago(1),
                counterparty="某人",
                purpose="收入",
                matter=matter,
                recorded_by=world.cashier_a1,
            )

    client.force_login(world.cashier_a1)
    grow(FEW)
    few = queries_for(client, account.get_absolute_url())
    grow(MANY - FEW)
    many = queries_for(client, account.get_absolute_url())
    assert_same_queries(few, many)
