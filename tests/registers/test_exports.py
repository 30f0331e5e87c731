"""Excel exports of the registers: the filtered rows of the list, Chinese headers by default, only inside the
jurisdiction, and user-typed text never turned into a formula."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from registers.exports import XLSX_CONTENT_TYPE
from registers.models import AssetStatus, ContractKind, Direction, FundMovement, ShareKind
from registers.shares import shares_allocate
from tests.drive import apply_purchase

from .test_register_views import Registers, days_ago, registers_of

pytestmark = pytest.mark.django_db

# (export, a Chinese header it must carry, the column holding the collective's name)
EXPORTS = [
    ("registers:asset_export", "资产编号", "集体经济组织"),
    ("registers:fund_account_export", "期初余额（元）", "集体经济组织"),
    ("registers:resource_export", "面积（亩）", "集体经济组织"),
    ("registers:contract_export", "合同编号", "集体经济组织"),
    ("registers:member_export", "身份证号码", "集体经济组织"),
    ("registers:share_ledger_export", "变动股数", "集体经济组织"),
    ("registers:share_holdings_export", "人口股", "集体经济组织"),
]


@pytest.fixture
def a1(world) -> Registers:
    return registers_of(world.collective_a1, matter=apply_purchase(world))


@pytest.fixture
def b1(world) -> Registers:
    return registers_of(world.collective_b1)


def download(client, url: str, **params) -> tuple[list, list[list]]:
    """The header row and the data rows of the exported sheet."""
    response = client.get(url, params)
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert response["Content-Disposition"].startswith("attachment;")
    assert ".xlsx" in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = [list(row) for row in workbook.active.iter_rows(values_only=True)]
    return rows[0], rows[1:]


def column(header: list, rows: list[list], name: str) -> list:
    index = header.index(name)
    return [row[index] for row in rows]


@pytest.mark.parametrize(("name", "chinese_header", "collective_header"), EXPORTS)
def test_export_has_chinese_headers_and_only_rows_of_the_jurisdiction(
    client, world, a1, b1, name, chinese_header, collective_header
):
    # No Accept-Language: the site's default language, Simplified Chinese.
    client.force_login(world.secretary_a1)
    header, rows = download(client, reverse(name))
    assert chinese_header in header
    assert rows
    assert set(column(header, rows, collective_header)) == {world.collective_a1.name}


@pytest.mark.parametrize(("name", "chinese_header", "collective_header"), EXPORTS)
def test_export_of_another_village_leaves_out_rows_outside_the_jurisdiction(
    client, world, a1, b1, name, chinese_header, collective_header
):
    client.force_login(world.secretary_b1)
    header, rows = download(client, reverse(name))
    assert set(column(header, rows, collective_header)) == {world.collective_b1.name}


def test_the_county_inspector_exports_every_village(client, world, a1, b1):
    client.force_login(world.inspector)
    header, rows = download(client, reverse("registers:contract_export"))
    assert set(column(header, rows, "集体经济组织")) == {world.collective_a1.name, world.collective_b1.name}


def test_headers_follow_the_users_language(client, world, a1):
    client.force_login(world.secretary_a1)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    header, _rows = download(client, reverse("registers:asset_export"))
    assert header[:3] == ["Asset number", "Name", "Category"]


def test_asset_export_has_the_filtered_rows(client, world, a1):
    client.force_login(world.secretary_a1)
    header, rows = download(client, reverse("registers:asset_export"), status=AssetStatus.LEASED)
    assert column(header, rows, "资产编号") == [a1.asset.code]
    assert column(header, rows, "状态") == ["已出租"]
    _header, rows = download(client, reverse("registers:asset_export"), status=AssetStatus.IN_USE)
    assert rows == []


def test_contract_export_has_the_filtered_rows_with_amounts_and_dates(client, world, a1):
    client.force_login(world.secretary_a1)
    header, rows = download(client, reverse("registers:contract_export"), kind=ContractKind.LEASE)
    assert column(header, rows, "合同编号") == [a1.lease.code]
    assert [Decimal(str(amount)) for amount in column(header, rows, "合同金额（元）")] == [a1.lease.amount]
    assert column(header, rows, "起始日期")[0].date() == a1.lease.start_date


def test_member_export_has_the_filtered_rows_and_masks_id_numbers(client, world, a1):
    client.force_login(world.secretary_a1)
    header, rows = download(client, reverse("registers:member_export"), party="1")
    party_members = [member for member in world.members_a1 if member.is_party_member]
    assert sorted(column(header, rows, "名称")) == sorted(member.name for member in party_members)
    for id_number, member in zip(
        column(header, rows, "身份证号码"), sorted(party_members, key=lambda m: (m.household, m.name)), strict=True
    ):
        assert id_number == "*" * 14 + member.id_number[-4:]


def test_fund_movement_export_has_the_accounts_filtered_movements(client, world, a1):
    client.force_login(world.cashier_a1)
    url = reverse("registers:fund_movement_export", args=[a1.account.pk])
    header, rows = download(client, url, direction=Direction.OUT)
    assert column(header, rows, "用途") == ["道路修缮"]
    _header, rows = download(client, url, since=days_ago(5).isoformat())
    assert rows == []
    _header, rows = download(client, url)
    assert len(rows) == 2


@pytest.mark.parametrize("persona", ["secretary_a2", "secretary_b1", "inspector_b"])
def test_fund_movement_export_of_another_village_is_404(client, world, a1, persona):
    client.force_login(getattr(world, persona))
    assert client.get(reverse("registers:fund_movement_export", args=[a1.account.pk])).status_code == 404


def test_share_exports_have_the_filtered_rows(client, world, a1):
    other = world.members_a1[1]
    shares_allocate(member=other, kind=ShareKind.POPULATION, shares=4)
    client.force_login(world.secretary_a1)
    header, rows = download(client, reverse("registers:share_holdings_export"))
    holdings = {row[0]: (row[2], row[3], row[4]) for row in rows}
    assert holdings == {a1.member.name: (1, 2, 3), other.name: (4, 0, 4)}
    assert header[2:5] == ["人口股", "劳龄股", "总股数"]
    header, rows = download(client, reverse("registers:share_ledger_export"), kind=ShareKind.LABOUR_AGE)
    assert column(header, rows, "变动股数") == [2]
    assert column(header, rows, "股份类别") == ["劳龄股"]


def test_text_that_looks_like_a_formula_stays_text(client, world, a1):
    FundMovement.objects.create(
        account=a1.account,
        direction=Direction.IN,
        amount="1.00",
        occurred_on=days_ago(1),
        counterparty='=HYPERLINK("http://example.com","点我")',
        purpose="=1+1",
    )
    client.force_login(world.cashier_a1)
    response = client.get(reverse("registers:fund_movement_export", args=[a1.account.pk]))
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    cells = [cell for row in workbook.active.iter_rows() for cell in row if str(cell.value).startswith("=")]
    assert {cell.value for cell in cells} == {'=HYPERLINK("http://example.com","点我")', "=1+1"}
    assert {cell.data_type for cell in cells} == {"s"}


def test_anonymous_visitors_cannot_export(client, a1):
    response = client.get(reverse("registers:member_export"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
