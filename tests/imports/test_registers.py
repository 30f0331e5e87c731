"""Asset and resource cards, contracts with payment schedules, share allocations and fund accounts."""

import datetime
from decimal import Decimal

from imports.models import ImportStatus
from registers.models import Asset, Contract, ContractPayment, FundAccount, Resource, ShareLedgerEntry, ShareSetup
from registers.shares import holdings

from .conftest import headers


def asset_row(collective, code="A2-ZC-1", name="办公楼", value="350000.00", **extra):
    return [collective.code, code, name, "房屋建筑物", 1, value, value, "2012-09-01", extra.get("status", "")]


def resource_row(collective, code="A2-ZY-1", area="120.5"):
    return [collective.code, code, "东坡耕地", "耕地", "村东", area, ""]


def test_asset_cards_are_imported_and_matched_by_number(world, run_import):
    job = run_import("assets", {"资产": [headers("assets"), asset_row(world.collective_a2)]}, confirm=True)
    assert job.status == ImportStatus.APPLIED, job.errors
    asset = Asset.objects.get(code="A2-ZC-1")
    assert asset.organization == world.collective_a2 and asset.original_value == Decimal("350000.00")
    corrected = run_import("assets", {"资产": [headers("assets"), asset_row(world.collective_a2, value="360000")]})
    assert corrected.summary["changes"][0]["fields"] == [
        ["单价（元）", "350000.00", "360000.00"],
        ["原值（元）", "350000.00", "360000.00"],
    ]


def test_an_asset_number_of_another_collective_is_refused(world, run_import):
    Asset.objects.create(
        organization=world.collective_a1,
        code="A1-ZC-9",
        name="仓库",
        category="房屋",
        unit_price=1,
        original_value=1,
        acquired_on=datetime.date(2020, 1, 1),
    )
    job = run_import("assets", {"资产": [headers("assets"), asset_row(world.collective_a2, code="A1-ZC-9")]})
    assert [(e["row"], e["column"]) for e in job.errors] == [(2, "资产编号")]


def test_a_bad_amount_and_status_are_reported(world, run_import):
    row = asset_row(world.collective_a2, value="三十万", status="坏了")
    job = run_import("assets", {"资产": [headers("assets"), row]})
    assert sorted(e["column"] for e in job.errors) == ["单价（元）", "原值（元）", "状态"]


def test_resource_cards_take_their_area_in_mu(world, run_import):
    job = run_import("resources", {"资源": [headers("resources"), resource_row(world.collective_a2)]}, confirm=True)
    assert job.status == ImportStatus.APPLIED, job.errors
    assert Resource.objects.get(code="A2-ZY-1").area_mu == Decimal("120.50")


def contract_row(collective, code="A2-HT-1", resource="A2-ZY-1", start="2024-01-01", end="2033-12-31", kind="资源发包"):
    return [collective.code, code, kind, "李四", resource, "", start, end, "60000", "", ""]


def test_contracts_and_their_payment_schedules_are_imported_together(world, run_import):
    run_import("resources", {"资源": [headers("resources"), resource_row(world.collective_a2)]}, confirm=True)
    sheets = {
        "合同": [headers("contracts"), contract_row(world.collective_a2)],
        "付款计划": [
            headers("contracts", 1),
            ["A2-HT-1", "2024-03-31", "6000", ""],
            ["A2-HT-1", "2025-03-31", "6000", ""],
        ],
    }
    job = run_import("contracts", sheets, confirm=True)
    assert job.status == ImportStatus.APPLIED, job.errors
    contract = Contract.objects.get(code="A2-HT-1")
    assert contract.resource.code == "A2-ZY-1"
    assert list(contract.payments.values_list("amount", flat=True)) == [Decimal("6000.00")] * 2
    again = run_import("contracts", sheets)
    assert again.summary["counts"] == {"合同": {"unchanged": 1}, "付款计划": {"unchanged": 2}}
    assert ContractPayment.objects.count() == 2


def test_a_contract_whose_resource_does_not_exist_is_refused(world, run_import):
    job = run_import(
        "contracts", {"合同": [headers("contracts"), contract_row(world.collective_a2, resource="NONE-1")]}
    )
    assert job.status == ImportStatus.REJECTED
    assert [(e["row"], e["column"]) for e in job.errors] == [(2, "资源编号")]
    assert "NONE-1" in job.errors[0]["message"]
    assert not Contract.objects.exists()


def test_a_lease_over_twenty_years_and_a_term_ending_before_it_starts_are_refused(world, run_import):
    Asset.objects.create(
        organization=world.collective_a2,
        code="A2-ZC-1",
        name="仓库",
        category="房屋",
        unit_price=1,
        original_value=1,
        acquired_on=datetime.date(2020, 1, 1),
    )
    lease = [
        world.collective_a2.code,
        "A2-HT-2",
        "资产出租",
        "李四",
        "",
        "A2-ZC-1",
        "2024-01-01",
        "2045-01-02",
        "1",
        "",
        "",
    ]
    backwards = contract_row(world.collective_a2, code="A2-HT-3", start="2024-01-01", end="2023-01-01")
    job = run_import("contracts", {"合同": [headers("contracts"), lease, backwards]})
    assert [(e["row"], e["column"]) for e in job.errors] == [(2, "终止日期"), (3, "终止日期")]


def test_a_payment_of_a_contract_that_is_nowhere_is_refused(world, run_import):
    sheets = {"合同": [headers("contracts")], "付款计划": [headers("contracts", 1), ["NONE", "2024-03-31", "6000", ""]]}
    job = run_import("contracts", sheets)
    assert [(e["sheet"], e["row"], e["column"]) for e in job.errors] == [("付款计划", 2, "合同编号")]


def shares_sheets(world, total, *allocations):
    members = world.members_a1
    return {
        "股份设置": [headers("shares"), [world.collective_a1.code, "人口股", total]],
        "股权配置": [
            headers("shares", 1),
            *[[world.collective_a1.code, members[i].id_number, members[i].name, "人口股", n] for i, n in allocations],
        ],
    }


def test_share_allocations_set_each_holding_within_the_set_up(world, run_import):
    job = run_import("shares", shares_sheets(world, 10, (0, 3), (1, 4)), confirm=True)
    assert job.status == ImportStatus.APPLIED, job.errors
    assert ShareSetup.objects.get(organization=world.collective_a1).total == 10
    assert holdings(world.members_a1[0])["population"] == 3
    corrected = run_import("shares", shares_sheets(world, 10, (0, 5), (1, 4)), confirm=True)
    assert corrected.summary["counts"]["股权配置"] == {"update": 1, "unchanged": 1}
    assert holdings(world.members_a1[0])["population"] == 5
    assert ShareLedgerEntry.objects.filter(member=world.members_a1[0]).count() == 2


def test_shares_over_the_total_are_refused_on_the_row_that_passes_it(world, run_import):
    job = run_import("shares", shares_sheets(world, 6, (0, 3), (1, 2), (2, 2)), confirm=True)
    assert job.status == ImportStatus.REJECTED
    assert [(e["sheet"], e["row"], e["column"]) for e in job.errors] == [("股权配置", 4, "股数")]
    assert "7" in job.errors[0]["message"] and "6" in job.errors[0]["message"]
    assert not ShareLedgerEntry.objects.exists() and not ShareSetup.objects.exists()


def test_a_holder_who_is_not_on_the_roster_is_refused(world, run_import):
    sheets = shares_sheets(world, 10, (0, 1))
    sheets["股权配置"][1][1] = world.members_a1[0].id_number[:-1] + "0"
    sheets["股权配置"][1][2] = "某人"
    job = run_import("shares", sheets)
    assert job.status == ImportStatus.REJECTED


def test_fund_accounts_are_imported_with_their_opening_balances(world, run_import):
    row = [world.collective_a2.code, "基本存款账户", "银行存款", "6228480000000000001", "125000"]
    job = run_import("accounts", {"资金账户": [headers("accounts"), row]}, confirm=True)
    assert job.status == ImportStatus.APPLIED, job.errors
    assert FundAccount.objects.get(organization=world.collective_a2).opening_balance == Decimal("125000.00")
