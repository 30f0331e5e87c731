"""The demo city's sample workbooks (docs/samples/demo/): what they hold, read from the database or from the files.

``seed_demo`` loads them through the importer; ``scripts/make_demo_samples.py`` writes them from a seeded
database; ``tests/demo/test_samples.py`` checks that the files and what the seed loaded are the same rows.
Rows are compared as the importer reads them (each cell through its column's parser), so a number typed
as text or a date as a string makes no difference.
"""

import datetime
import hashlib
import io
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from django.db.models import Sum
from django.utils import translation
from openpyxl import load_workbook
from openpyxl.styles import Font

from imports.columns import SheetSpec, is_blank
from imports.importers import (
    ACCOUNT_KIND_WORDS,
    ASSET_STATUS_WORDS,
    BASIS_WORDS,
    CONTRACT_KIND_WORDS,
    CONTRACT_STATUS_WORDS,
    IMPORTERS,
    KIND_WORDS,
    MEMBER_STATUS_WORDS,
    RESOURCE_KIND_WORDS,
    RESOURCE_STATUS_WORDS,
    ROLE_WORDS,
    SHARE_KIND_WORDS,
)
from imports.models import ImportKind
from imports.workbooks import template_workbook
from organizations.models import Organization, OrganizationKind, Post
from registers.models import (
    Asset,
    Contract,
    ContractPayment,
    FundAccount,
    Member,
    Resource,
    ShareLedgerEntry,
    ShareSetup,
)

SAMPLES_DIR = Path(__file__).resolve().parents[1] / "docs" / "samples" / "demo"
# (file name, import kind), in the order the seed imports them: the places first, then their people.
WORKBOOKS = [("demo-county.xlsx", ImportKind.COUNTY), ("demo-users.xlsx", ImportKind.USERS)]


def sha256_of(content: bytes) -> str:
    """The fingerprint an import job keeps of its workbook."""
    return hashlib.sha256(content).hexdigest()


def _word(words: dict[str, str], value: str) -> str:
    return next(word for word, stored in words.items() if stored == value)


def _yes(value: bool) -> str:
    return "是" if value else "否"


def demo_rows(top: Organization) -> dict[str, dict[str, list[list]]]:
    """{file name: {sheet: rows}}: the tree below ``top`` (and ``top``), its registers and its business posts."""
    under = {"organization__path__startswith": top.path}
    order = tree_order(top)
    places = sorted(Organization.objects.filter(pk__in=order).select_related("parent"), key=lambda p: order[p.pk])
    collectives = [place for place in places if place.kind == OrganizationKind.COLLECTIVE]
    county = {
        "组织": [
            [place.code, place.name, _word(KIND_WORDS, place.kind), place.parent.code if place.parent else "", ""]
            for place in places
        ],
        "成员": [
            [
                member.organization.code,
                member.name,
                member.id_number,
                member.household,
                _word(BASIS_WORDS, member.basis),
                member.joined_on,
                _word(MEMBER_STATUS_WORDS, member.status),
                _yes(member.is_party_member),
                _yes(member.is_representative),
                _yes(member.is_committee_member),
            ]
            for member in _ordered(Member.objects.filter(**under), order)
        ],
        "资产": [
            [
                asset.organization.code,
                asset.code,
                asset.name,
                asset.category,
                asset.quantity,
                asset.unit_price,
                asset.original_value,
                asset.acquired_on,
                _word(ASSET_STATUS_WORDS, asset.status),
            ]
            for asset in _ordered(Asset.objects.filter(**under), order, "code")
        ],
        "资源": [
            [
                resource.organization.code,
                resource.code,
                resource.name,
                _word(RESOURCE_KIND_WORDS, resource.kind),
                resource.location,
                resource.area_mu,
                _word(RESOURCE_STATUS_WORDS, resource.status),
            ]
            for resource in _ordered(Resource.objects.filter(**under), order, "code")
        ],
        "合同": [
            [
                contract.organization.code,
                contract.code,
                _word(CONTRACT_KIND_WORDS, contract.kind),
                contract.counterparty,
                contract.resource.code if contract.resource else "",
                contract.asset.code if contract.asset else "",
                contract.start_date,
                contract.end_date,
                contract.amount,
                contract.trading_reference,
                _word(CONTRACT_STATUS_WORDS, contract.status),
            ]
            for contract in _ordered(
                Contract.objects.filter(**under).select_related("resource", "asset"), order, "code"
            )
        ],
        "付款计划": [
            [payment.contract.code, payment.due_on, payment.amount, payment.paid_on]
            for payment in ContractPayment.objects.filter(contract__organization__path__startswith=top.path)
            .select_related("contract")
            .order_by("contract__code", "due_on")
        ],
        "资金账户": [
            [
                account.organization.code,
                account.name,
                _word(ACCOUNT_KIND_WORDS, account.kind),
                account.account_number,
                account.opening_balance,
            ]
            for account in _ordered(FundAccount.objects.filter(**under), order, "name")
        ],
        "股份设置": _setups(top, collectives),
        "股权配置": _allocations(top, order),
    }
    users = {"用户": _users(under, order)}
    return {"demo-county.xlsx": county, "demo-users.xlsx": users}


def _users(under: dict, order: dict) -> list[list]:
    """Each business post below the top as a row, place by place (an administrator's is not imported)."""
    by_role = {role: word for word, role in ROLE_WORDS.items()}
    posts = [
        post for post in Post.objects.filter(**under).select_related("user", "organization") if post.role in by_role
    ]
    roles = list(by_role)
    posts.sort(key=lambda post: (order[post.organization_id], roles.index(post.role), post.user.username))
    return [
        [post.user.username, post.user.last_name, post.user.first_name, post.organization.code, by_role[post.role]]
        for post in posts
    ]


def tree_order(top: Organization) -> dict[int, int]:
    """{organisation id: position} of ``top`` and everything below it, parents first, brothers by code.

    By codes, not by the stored path (made of primary keys, compared as text): the same in every database."""
    places = list(Organization.objects.filter(path__startswith=top.path).values("pk", "parent_id", "code"))
    children = defaultdict(list)
    for place in places:
        children[place["parent_id"]].append(place)
    order = {}

    def visit(place):
        order[place["pk"]] = len(order)
        for child in sorted(children[place["pk"]], key=lambda child: child["code"]):
            visit(child)

    visit(next(place for place in places if place["pk"] == top.pk))
    return order


def _ordered(queryset, order: dict, *fields: str) -> list:
    """Rows of a register, collective by collective in the tree's order, then by number (or as made)."""
    rows = list(queryset.select_related("organization").order_by(*fields, "pk"))
    return sorted(rows, key=lambda row: order[row.organization_id])


def _setups(top: Organization, collectives: list[Organization]) -> list[list]:
    """Each collective's set-up: as recorded, or (a demo seeded before set-ups) the shares it allocated."""
    recorded = {(s.organization_id, s.kind): s.total for s in ShareSetup.objects.filter(organization__in=collectives)}
    allocated = ShareLedgerEntry.objects.filter(organization__path__startswith=top.path).order_by()
    totals = defaultdict(int)
    for row in allocated.values("organization_id", "kind").annotate(total=Sum("change")):
        totals[(row["organization_id"], row["kind"])] = row["total"]
    rows = []
    for collective in collectives:
        for word, kind in SHARE_KIND_WORDS.items():
            total = recorded.get((collective.pk, kind), totals.get((collective.pk, kind)))
            if total:
                rows.append([collective.code, word, total])
    return rows


def _allocations(top: Organization, order: dict) -> list[list]:
    held = (
        ShareLedgerEntry.objects.filter(organization__path__startswith=top.path)
        .order_by()
        .values("member_id", "kind")
        .annotate(total=Sum("change"))
    )
    totals = {(row["member_id"], row["kind"]): row["total"] for row in held if row["total"]}
    members = Member.objects.filter(pk__in={member_id for member_id, _kind in totals})
    rows = []
    for member in _ordered(members, order):
        for word, kind in SHARE_KIND_WORDS.items():
            if (member.pk, kind) in totals:
                rows.append([member.organization.code, member.id_number, member.name, word, totals[(member.pk, kind)]])
    return rows


def workbook_bytes(kind: str, sheets: dict[str, list[list]]) -> bytes:
    """The kind's template (explanation sheet, headers, text-formatted columns) with these rows in place of
    the example row."""
    importer = IMPORTERS[kind]
    with translation.override("zh-hans"):
        template = template_workbook(importer.sheets, str(importer.title))
    workbook = load_workbook(io.BytesIO(template))
    for spec in importer.sheets:
        sheet = workbook[spec.name]
        for row_number, values in enumerate(sheets.get(spec.name, []), start=2):
            for column_number, value in enumerate(values, start=1):
                cell = sheet.cell(row=row_number, column=column_number)
                cell.value = None if value == "" else value
                cell.font = Font()
                if isinstance(value, datetime.date):
                    cell.number_format = "yyyy-mm-dd"
                elif isinstance(value, Decimal):
                    cell.number_format = "0.00"
        if not sheets.get(spec.name):
            workbook.remove(sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def parsed(spec: SheetSpec, rows) -> list[tuple]:
    """The rows as the importer reads them: each filled cell through its column's parser, blanks as None."""
    result = []
    for values in rows:
        values = (list(values) + [None] * len(spec.columns))[: len(spec.columns)]
        if all(is_blank(value) for value in values):
            continue
        result.append(
            tuple(
                None if is_blank(value) else column.parse(value)
                for column, value in zip(spec.columns, values, strict=True)
            )
        )
    return result


def file_rows(path: Path, kind: str) -> dict[str, list[tuple]]:
    """{sheet: parsed rows} of a sample workbook."""
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        return {
            spec.name: parsed(spec, list(workbook[spec.name].iter_rows(min_row=2, values_only=True)))
            for spec in IMPORTERS[kind].sheets
            if spec.name in workbook.sheetnames
        }
    finally:
        workbook.close()


def database_rows(top: Organization) -> dict[str, dict[str, list[tuple]]]:
    """{file name: {sheet: parsed rows}} of what the database holds, to compare with ``file_rows``."""
    kinds = dict(WORKBOOKS)
    specs = {name: {spec.name: spec for spec in IMPORTERS[kinds[name]].sheets} for name in kinds}
    return {
        name: {sheet: parsed(specs[name][sheet], rows) for sheet, rows in sheets.items() if rows}
        for name, sheets in demo_rows(top).items()
    }
