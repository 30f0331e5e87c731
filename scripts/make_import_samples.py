"""Write the sample workbooks of docs/samples/: a new township with two villages, filled in, and a broken copy.

They are the county workbook (every sheet of every kind, see imports/importers.py) filled for 新塘镇 under
the demo county (code DEMO). Run from the repository root after changing a template::

    .venv/bin/python scripts/make_import_samples.py
"""

import io
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings.dev")

import django  # noqa: E402

django.setup()

from django.utils import translation  # noqa: E402
from openpyxl import load_workbook  # noqa: E402
from openpyxl.styles import Font  # noqa: E402

from imports.importers import IMPORTERS  # noqa: E402
from imports.workbooks import template_workbook  # noqa: E402
from organizations.credit_code import credit_check_character  # noqa: E402
from registers.identity import check_character  # noqa: E402

SAMPLES = REPO / "docs" / "samples"
GOOD = SAMPLES / "import-new-township.xlsx"
BROKEN = SAMPLES / "import-new-township-broken.xlsx"
COUNTY = "DEMO"


def id_number(birth: str, serial: int) -> str:
    first = f"140123{birth}{serial:03d}"
    return first + check_character(first)


def credit_code(serial: int) -> str:
    first = f"N2140123MA{serial:07d}"
    return first + credit_check_character(first)


PEOPLE = {
    # collective code: [(name, birth, household, basis, party, representative, committee), …]
    "NT01-JJ": [
        ("赵长河", "19650312", "NT01-001", "原始成员", "是", "是", "是"),
        ("钱玉兰", "19680720", "NT01-001", "婚姻", "否", "否", "否"),
        ("赵小军", "19920105", "NT01-001", "出生", "否", "否", "否"),
        ("孙建平", "19701118", "NT01-002", "原始成员", "是", "是", "是"),
        ("李桂芳", "19730409", "NT01-002", "婚姻", "否", "是", "否"),
        ("周德明", "19580930", "NT01-003", "原始成员", "是", "否", "是"),
        ("吴春梅", "19850214", "NT01-003", "回乡", "否", "否", "否"),
    ],
    "NT02-JJ": [
        ("郑大山", "19620801", "NT02-001", "原始成员", "是", "是", "是"),
        ("王秀英", "19660523", "NT02-001", "婚姻", "否", "否", "否"),
        ("冯志强", "19780611", "NT02-002", "原始成员", "是", "是", "是"),
        ("陈丽", "19950317", "NT02-002", "出生", "否", "否", "否"),
        ("褚国庆", "19491001", "NT02-003", "原始成员", "否", "否", "是"),
    ],
}


def rows() -> dict[str, list[list]]:
    members, allocations = [], []
    serial = 100
    for collective, people in PEOPLE.items():
        for name, birth, household, basis, party, representative, committee in people:
            serial += 1
            number = id_number(birth, serial)
            members.append(
                [collective, name, number, household, basis, "2019-12-31", "在册", party, representative, committee]
            )
            if collective == "NT01-JJ":
                allocations.append([collective, number, name, "人口股", 10])
    return {
        "组织": [
            ["NT00", "新塘镇", "乡镇", COUNTY, ""],
            ["NT01", "青山村", "村", "NT00", ""],
            ["NT01-JJ", "青山村股份经济合作社", "集体经济组织", "NT01", credit_code(1)],
            ["NT02", "绿水村", "村", "NT00", ""],
            ["NT02-JJ", "绿水村经济合作社", "集体经济组织", "NT02", credit_code(2)],
        ],
        "成员": members,
        "资产": [
            [
                "NT01-JJ",
                "NT01-ZC-001",
                "青山村村委会办公楼",
                "房屋建筑物",
                1,
                "380000.00",
                "380000.00",
                "2010-06-01",
                "在用",
            ],
            ["NT01-JJ", "NT01-ZC-002", "小型拖拉机", "机器设备", 2, "18500.00", "37000.00", "2016-04-15", "闲置"],
            [
                "NT02-JJ",
                "NT02-ZC-001",
                "绿水村文化活动室",
                "房屋建筑物",
                1,
                "160000.00",
                "160000.00",
                "2014-09-20",
                "在用",
            ],
            ["NT02-JJ", "NT02-ZC-002", "灌溉水泵", "机器设备", 3, "4200.00", "12600.00", "2019-03-08", "在用"],
        ],
        "资源": [
            ["NT01-JJ", "NT01-ZY-001", "东山坡耕地", "耕地", "青山村东", "86.50", "已发包"],
            ["NT01-JJ", "NT01-ZY-002", "后山林地", "林地", "青山村北", "240.00", "未发包"],
            ["NT02-JJ", "NT02-ZY-001", "绿水塘", "水面", "绿水村南", "35.20", "已发包"],
        ],
        "合同": [
            [
                "NT01-JJ",
                "NT01-HT-001",
                "资源发包",
                "青山农机合作社",
                "NT01-ZY-001",
                "",
                "2023-01-01",
                "2032-12-31",
                "173000.00",
                "JY-2022-118",
                "履行中",
            ],
            [
                "NT02-JJ",
                "NT02-HT-001",
                "资源发包",
                "褚志远",
                "NT02-ZY-001",
                "",
                "2024-03-01",
                "2029-02-28",
                "52800.00",
                "",
                "履行中",
            ],
        ],
        "付款计划": [
            ["NT01-HT-001", "2024-12-31", "17300.00", "2024-12-20"],
            ["NT01-HT-001", "2025-12-31", "17300.00", ""],
            ["NT02-HT-001", "2025-03-01", "10560.00", "2025-02-26"],
            ["NT02-HT-001", "2026-03-01", "10560.00", ""],
        ],
        "资金账户": [
            ["NT01-JJ", "基本存款账户", "银行存款", "6228480123000000011", "286500.00"],
            ["NT01-JJ", "库存现金", "库存现金", "", "1200.00"],
            ["NT02-JJ", "基本存款账户", "银行存款", "6228480123000000029", "94300.00"],
        ],
        "股份设置": [["NT01-JJ", "人口股", 100]],
        "股权配置": allocations,
    }


def broken(data: dict[str, list[list]]) -> dict[str, list[list]]:
    """The same workbook with the mistakes people make: each one a row-level message in the dry run."""
    data = {sheet: [list(row) for row in values] for sheet, values in data.items()}
    members = data["成员"]
    members[1][2] = members[1][2][:17] + ("0" if members[1][2][17] != "0" else "1")  # wrong check digit
    members.append([*members[3][:3], "NT01-003", *members[3][4:]])  # the same person in a second household
    members[6][5] = "2019-02-30"  # no such date
    data["资产"].append(list(data["资产"][0]))  # an asset number twice
    data["合同"][1][4] = "NT02-ZY-009"  # a resource that does not exist
    data["股权配置"][0][4] = 101  # more shares than the set-up
    return data


def write(path: Path, data: dict[str, list[list]]) -> None:
    importer = IMPORTERS["county"]
    with translation.override("zh-hans"):
        template = template_workbook(importer.sheets, str(importer.title))
    workbook = load_workbook(io.BytesIO(template))
    for sheet, values in data.items():
        worksheet = workbook[sheet]
        for position in range(1, worksheet.max_column + 1):
            worksheet.cell(row=2, column=position).value = None
            worksheet.cell(row=2, column=position).font = Font()
        # The template's rows are pre-formatted as text where needed: fill them from row 2 down.
        for number, row in enumerate(values, start=2):
            for position, value in enumerate(row, start=1):
                worksheet.cell(row=number, column=position).value = value
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)


if __name__ == "__main__":
    good = rows()
    write(GOOD, good)
    write(BROKEN, broken(good))
    print(f"wrote {GOOD.relative_to(REPO)} and {BROKEN.relative_to(REPO)}")
