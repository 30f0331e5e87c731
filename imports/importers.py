"""One importer per kind of workbook: its sheets and columns, and how its rows become register rows.

Each ``plan`` takes a chunk of read rows and returns the planned changes; the rows already registered are
fetched once per chunk by their natural keys (credit code or code, ID number's blind index, asset,
resource and contract numbers). ``finish_sheet`` runs after a sheet's last chunk.
"""

import datetime
import sys
from collections import defaultdict
from dataclasses import replace

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from administration.log import current_request, security_log
from administration.models import EventKind
from administration.services import ROLES_AT, account_open, accounts_under
from organizations.models import ADMINISTRATOR_ROLES, Organization, OrganizationKind, Post, Role
from protection.masking import mask_id_number
from registers.identity import validate_id_number
from registers.models import (
    AccountKind,
    Asset,
    AssetStatus,
    Contract,
    ContractKind,
    ContractPayment,
    ContractStatus,
    FundAccount,
    Member,
    MembershipBasis,
    MemberStatus,
    Resource,
    ResourceKind,
    ResourceStatus,
    ShareKind,
    ShareLedgerEntry,
    ShareReason,
    ShareSetup,
)
from registers.selectors import id_number_index

from . import columns as c
from .columns import Column, SheetSpec
from .engine import Change, Context, Row, plan_instance, short_hash
from .models import ImportKind, Register

COLLECTIVE = Column(
    "collective",
    "集体经济组织编码",
    c.code_text(40),
    gettext_lazy("The code of the collective economic organisation, as in the administrative tree."),
    "HX-DF-JJ",
    text_format=True,
)


def _words(choices: dict[str, str]) -> tuple[str, ...]:
    return tuple(choices)


def _reverse(choices: dict[str, str]) -> dict[str, str]:
    return {value: word for word, value in choices.items()}


class Importer:
    kind: str
    sheets: tuple[SheetSpec, ...] = ()
    keeps_pending = False
    # Who runs it: the county administrator (registers), or the system administrator (accounts, 三员分立).
    roles = frozenset({Role.COUNTY_ADMIN})

    @property
    def title(self) -> str:
        return ImportKind(self.kind).label

    def plan(self, ctx: Context, spec: SheetSpec, rows: list[Row]) -> list[Change]:
        raise NotImplementedError

    def finish_sheet(self, ctx: Context, spec: SheetSpec) -> None:
        """After a sheet's last row."""

    def failed_key(self, spec: SheetSpec, row: Row):
        """(kind, key) by which later sheets refer to this row, or None."""
        return None


# --- the administrative tree --------------------------------------------------------------------

KIND_WORDS = {
    "省": OrganizationKind.PROVINCE,
    "市": OrganizationKind.CITY,
    "县": OrganizationKind.COUNTY,
    "乡镇": OrganizationKind.TOWNSHIP,
    "村": OrganizationKind.VILLAGE,
    "集体经济组织": OrganizationKind.COLLECTIVE,
}
KIND_RANK = [
    OrganizationKind.PROVINCE,
    OrganizationKind.CITY,
    OrganizationKind.COUNTY,
    OrganizationKind.TOWNSHIP,
    OrganizationKind.VILLAGE,
    OrganizationKind.COLLECTIVE,
]

TREE_SHEET = SheetSpec(
    "组织",
    (
        Column(
            "code",
            "编码",
            c.code_text(40),
            gettext_lazy("The organisation's own code, unique in the county."),
            "HX-DF",
            text_format=True,
        ),
        Column("name", "名称", c.text(100), gettext_lazy("Full name."), "东方村"),
        Column(
            "kind", "级别", c.choice(KIND_WORDS), gettext_lazy("Level in the tree."), "村", allowed=_words(KIND_WORDS)
        ),
        Column(
            "parent",
            "上级编码",
            c.code_text(40),
            gettext_lazy("Code of the organisation directly above: already in the product, or on an earlier row."),
            "HX",
            required=False,
            text_format=True,
        ),
        Column(
            "credit_code",
            "统一社会信用代码",
            c.code_text(18),
            gettext_lazy("18 characters, checked by GB 32100; leave empty where the organisation has none."),
            "",
            required=False,
            text_format=True,
        ),
    ),
    gettext_lazy("List parents before their children. Organisations are matched by credit code, then by code."),
)
TREE_HEADERS = {"code": "编码", "name": "名称", "kind": "级别", "credit_code": "统一社会信用代码"}


class TreeImporter(Importer):
    kind = ImportKind.TREE
    sheets = (TREE_SHEET,)

    def plan(self, ctx, spec, rows):
        changes = []
        for row in rows:
            if row.failed:
                continue
            code, kind, credit = row.get("code"), row.get("kind"), row.get("credit_code") or ""
            if not ctx.first_time(row, "org", code, "code"):
                continue
            if credit:
                if not ctx.first_time(row, "credit", credit, "credit_code"):
                    continue
                try:
                    Organization._meta.get_field("credit_code").run_validators(credit)
                except ValidationError as error:
                    ctx.row_problem(row, "credit_code", error.messages[0])
                    continue
            by_code = ctx.organization(code)
            existing = by_code
            if credit:
                by_credit = Organization.objects.filter(credit_code=credit).first()
                if by_credit is not None and by_code is not None and by_credit.pk != by_code.pk:
                    ctx.row_problem(
                        row,
                        "credit_code",
                        _("This credit code belongs to %(name)s (code %(code)s).")
                        % {"name": by_credit, "code": by_credit.code},
                    )
                    continue
                existing = by_credit or by_code
            parent = self._parent(ctx, row, existing)
            if row.failed:
                continue
            if parent is not None and KIND_RANK.index(parent.kind) >= KIND_RANK.index(kind):
                ctx.row_problem(
                    row,
                    "parent",
                    _("A %(kind)s cannot lie under %(parent)s (%(parent_kind)s).")
                    % {
                        "kind": OrganizationKind(kind).label,
                        "parent": parent.name,
                        "parent_kind": parent.get_kind_display(),
                    },
                )
                continue
            if existing is not None and parent is not None and (parent.pk is None or existing.parent_id != parent.pk):
                ctx.row_problem(
                    row,
                    "parent",
                    _("%(name)s already lies under another organisation: an import does not move organisations.")
                    % {"name": existing.name},
                )
                continue
            values = {"code": code, "name": row.get("name"), "kind": kind, "credit_code": credit}
            if existing is None:
                values["parent"] = parent
            label = f"{OrganizationKind(kind).label} {row.get('name')}（{code}）"
            change = plan_instance(
                ctx,
                row,
                existing=existing,
                model=Organization,
                values=values,
                headers=TREE_HEADERS,
                label=label,
                words={"kind": _reverse(KIND_WORDS)},
            )
            if change is None:
                continue
            if change.action != "unchanged" and not self._inside(ctx, existing, parent):
                ctx.row_problem(row, "code", _("%(name)s lies outside your jurisdiction.") % {"name": row.get("name")})
                continue
            ctx.pending["org"][code] = change.instance
            ctx.forget_organization(code)
            changes.append(change)
        return changes

    def _parent(self, ctx, row, existing):
        parent_code = row.get("parent")
        if not parent_code:
            if row.get("kind") != OrganizationKind.PROVINCE and (existing is None or existing.parent_id is not None):
                ctx.row_problem(row, "parent", _("This column must be filled."))
            return None
        parent = ctx.pending["org"].get(parent_code) or ctx.organization(parent_code)
        if parent is None:
            ctx.row_problem(
                row,
                "parent",
                _("No organisation has the code %(code)s: list it on an earlier row or import it first.")
                % {"code": parent_code},
            )
        return parent

    def _inside(self, ctx, existing, parent) -> bool:
        if existing is not None:
            return ctx.within_scope(existing)
        if parent is None:
            return False
        # A parent planned by this file (not saved in a dry run) was checked on its own row.
        return parent.pk is None or ctx.within_scope(parent)


# --- households and members ---------------------------------------------------------------------

BASIS_WORDS = {
    "原始成员": MembershipBasis.ORIGINAL,
    "出生": MembershipBasis.BIRTH,
    "婚姻": MembershipBasis.MARRIAGE,
    "收养": MembershipBasis.ADOPTION,
    "回乡": MembershipBasis.RETURN,
    "其他": MembershipBasis.OTHER,
}
MEMBER_STATUS_WORDS = {"在册": MemberStatus.ACTIVE, "已退出": MemberStatus.LEFT, "已故": MemberStatus.DECEASED}

MEMBER_SHEET = SheetSpec(
    "成员",
    (
        COLLECTIVE,
        Column("name", "姓名", c.text(50), gettext_lazy("Full name."), "张建国"),
        Column(
            "id_number",
            "身份证号",
            c.id_text,
            gettext_lazy("18 characters as text, checked by GB 11643 (birth date and check digit)."),
            "110101199003074316",
            text_format=True,
        ),
        Column(
            "household",
            "户号",
            c.code_text(40),
            gettext_lazy("The household's number; a person belongs to one household."),
            "DF-001",
            text_format=True,
        ),
        Column(
            "basis",
            "成员身份依据",
            c.choice(BASIS_WORDS),
            gettext_lazy("Why the person is a member."),
            "原始成员",
            allowed=_words(BASIS_WORDS),
        ),
        Column(
            "joined_on",
            "加入日期",
            c.date,
            gettext_lazy("Date the person became a member."),
            "2018-06-30",
            required=False,
        ),
        Column(
            "status",
            "成员状态",
            c.choice(MEMBER_STATUS_WORDS),
            gettext_lazy("Empty means on the roster."),
            "在册",
            required=False,
            allowed=_words(MEMBER_STATUS_WORDS),
        ),
        Column("party", "党员", c.yes_no, gettext_lazy("Party member."), "否", required=False, allowed=("是", "否")),
        Column(
            "representative",
            "成员代表",
            c.yes_no,
            gettext_lazy("Member (villager) representative."),
            "否",
            required=False,
            allowed=("是", "否"),
        ),
        Column(
            "committee",
            "两委成员",
            c.yes_no,
            gettext_lazy("Member of the two village committees."),
            "否",
            required=False,
            allowed=("是", "否"),
        ),
    ),
    gettext_lazy("Members are matched by ID number; a blank optional cell keeps the register's value."),
)
MEMBER_HEADERS = {
    "name": "姓名",
    "household": "户号",
    "basis": "成员身份依据",
    "joined_on": "加入日期",
    "status": "成员状态",
    "is_party_member": "党员",
    "is_representative": "成员代表",
    "is_committee_member": "两委成员",
    "id_number": "身份证号",
}
MEMBER_OPTIONAL = {
    "joined_on": "joined_on",
    "status": "status",
    "party": "is_party_member",
    "representative": "is_representative",
    "committee": "is_committee_member",
}


class MemberImporter(Importer):
    kind = ImportKind.MEMBERS
    sheets = (MEMBER_SHEET,)

    def failed_key(self, spec, row):
        id_number = row.get("id_number")
        return ("member", short_hash(id_number)) if id_number else None

    def plan(self, ctx, spec, rows):
        ready = []
        for row in rows:
            if row.failed:
                continue
            collective = ctx.collective(row)
            id_number = row.get("id_number")
            try:
                validate_id_number(id_number)
            except ValidationError as error:
                ctx.row_problem(row, "id_number", error.messages[0])
                continue
            key, household = short_hash(id_number), sys.intern(row.get("household"))
            earlier = ctx.seen["member"].get(key)
            if earlier is not None:
                earlier_row, earlier_household = earlier
                if earlier_household != household:
                    message = _(
                        "This person is also listed in household %(household)s on row %(row)s: a member belongs "
                        "to one household."
                    ) % {"household": earlier_household, "row": earlier_row}
                else:
                    message = _("Appears twice in the file: also on row %(row)s.") % {"row": earlier_row}
                ctx.row_problem(row, "id_number", message)
                continue
            # The household's number is one string for all its members (interned): a few bytes per row.
            ctx.seen["member"][key] = (row.number, household)
            if collective is not None:
                ready.append((row, collective, id_number_index(id_number)))
        found = {
            member.id_number_index: member
            for member in Member.objects.filter(
                id_number_index__in=[index for _row, _org, index in ready]
            ).select_related("organization")
        }
        changes = []
        for row, collective, index in ready:
            existing = found.get(index)
            if existing is not None and existing.organization_id != collective.pk:
                ctx.row_problem(
                    row,
                    "id_number",
                    _("This person is already a member of %(collective)s.") % {"collective": existing.organization},
                )
                continue
            values = {
                "organization_id": collective.pk,
                "name": row.get("name"),
                "id_number": row.get("id_number"),
                "household": row.get("household"),
                "basis": row.get("basis"),
            }
            for key, name in MEMBER_OPTIONAL.items():
                if row.get(key) is not None:
                    values[name] = row.get(key)
            label = f"{row.get('name')}（{mask_id_number(row.get('id_number'))}）"
            change = plan_instance(
                ctx,
                row,
                existing=existing,
                model=Member,
                values=values,
                headers=MEMBER_HEADERS,
                label=label,
                collective=collective,
                register=Register.MEMBERS,
                words={"basis": _reverse(BASIS_WORDS), "status": _reverse(MEMBER_STATUS_WORDS)},
            )
            if change is not None and ctx.keep_pending:
                ctx.pending["member"][(collective.code, index)] = change.instance
            changes.append(change)
        return changes


# --- asset and resource cards -------------------------------------------------------------------

ASSET_STATUS_WORDS = {
    "在用": AssetStatus.IN_USE,
    "闲置": AssetStatus.IDLE,
    "出租": AssetStatus.LEASED,
    "已处置": AssetStatus.DISPOSED,
}

ASSET_SHEET = SheetSpec(
    "资产",
    (
        COLLECTIVE,
        Column(
            "code",
            "资产编号",
            c.code_text(40),
            gettext_lazy("The asset card's number, unique in the county."),
            "DF-ZC-001",
            text_format=True,
        ),
        Column("name", "资产名称", c.text(100), gettext_lazy("What the asset is."), "村委会办公楼"),
        Column("category", "资产类别", c.text(50), gettext_lazy("E.g. 房屋建筑物, 机器设备, 办公设备."), "房屋建筑物"),
        Column("quantity", "数量", c.whole_number, gettext_lazy("Empty means 1."), 1, required=False),
        Column("unit_price", "单价（元）", c.amount, gettext_lazy("In yuan, two decimals at most."), "350000.00"),
        Column(
            "original_value", "原值（元）", c.amount, gettext_lazy("Book value when acquired, in yuan."), "350000.00"
        ),
        Column("acquired_on", "取得日期", c.date, gettext_lazy("Date the collective acquired it."), "2012-09-01"),
        Column(
            "status",
            "状态",
            c.choice(ASSET_STATUS_WORDS),
            gettext_lazy("Empty means in use."),
            "在用",
            required=False,
            allowed=_words(ASSET_STATUS_WORDS),
        ),
    ),
    gettext_lazy("Asset cards are matched by asset number."),
)
ASSET_HEADERS = {
    "name": "资产名称",
    "category": "资产类别",
    "quantity": "数量",
    "unit_price": "单价（元）",
    "original_value": "原值（元）",
    "acquired_on": "取得日期",
    "status": "状态",
    "code": "资产编号",
}

RESOURCE_KIND_WORDS = {
    "耕地": ResourceKind.CULTIVATED,
    "林地": ResourceKind.FOREST,
    "水面": ResourceKind.WATER,
    "荒地": ResourceKind.WASTELAND,
    "建设用地": ResourceKind.CONSTRUCTION,
}
RESOURCE_STATUS_WORDS = {"未发包": ResourceStatus.UNCONTRACTED, "已发包": ResourceStatus.CONTRACTED}

RESOURCE_SHEET = SheetSpec(
    "资源",
    (
        COLLECTIVE,
        Column(
            "code",
            "资源编号",
            c.code_text(40),
            gettext_lazy("The resource card's number, unique in the county."),
            "DF-ZY-001",
            text_format=True,
        ),
        Column("name", "资源名称", c.text(100), gettext_lazy("Name or plot."), "东坡耕地"),
        Column(
            "kind",
            "资源类型",
            c.choice(RESOURCE_KIND_WORDS),
            gettext_lazy("Kind of land or water."),
            "耕地",
            allowed=_words(RESOURCE_KIND_WORDS),
        ),
        Column("location", "坐落", c.text(200), gettext_lazy("Where it lies."), "村东"),
        Column("area_mu", "面积（亩）", c.amount, gettext_lazy("Area in mu (亩), two decimals at most."), "120.50"),
        Column(
            "status",
            "发包状态",
            c.choice(RESOURCE_STATUS_WORDS),
            gettext_lazy("Empty means not contracted."),
            "未发包",
            required=False,
            allowed=_words(RESOURCE_STATUS_WORDS),
        ),
    ),
    gettext_lazy("Resource cards are matched by resource number."),
)
RESOURCE_HEADERS = {
    "name": "资源名称",
    "kind": "资源类型",
    "location": "坐落",
    "area_mu": "面积（亩）",
    "status": "发包状态",
    "code": "资源编号",
}


def _numbered(ctx, row, model, existing, collective, noun: str):
    """A numbered card or contract found in the product must belong to the row's collective."""
    if existing is not None and existing.organization.code != collective.code:
        ctx.row_problem(
            row,
            "code",
            _("The number %(code)s is already used by %(collective)s.")
            % {"code": existing.code, "collective": existing.organization},
        )
        return False
    return True


class CardImporter(Importer):
    """Asset or resource cards: numbered rows of one collective."""

    model = None
    headers: dict = {}
    register = ""
    optional: dict = {}
    words: dict = {}

    def plan(self, ctx, spec, rows):
        ready = []
        for row in rows:
            if row.failed:
                continue
            collective = ctx.collective(row)
            if not ctx.first_time(row, self.kind, row.get("code"), "code"):
                continue
            if collective is not None:
                ready.append((row, collective))
        found = {
            card.code: card
            for card in self.model.objects.filter(code__in=[row.get("code") for row, _org in ready]).select_related(
                "organization"
            )
        }
        changes = []
        for row, collective in ready:
            existing = found.get(row.get("code"))
            if not _numbered(ctx, row, self.model, existing, collective, ""):
                continue
            values = self.values(row, collective)
            label = f"{row.get('code')} {row.get('name')}"
            change = plan_instance(
                ctx,
                row,
                existing=existing,
                model=self.model,
                values=values,
                headers=self.headers,
                label=label,
                collective=collective,
                register=self.register,
                words=self.words,
            )
            if change is not None and ctx.keep_pending:
                ctx.pending[self.kind][row.get("code")] = (change.instance, collective.code)
            changes.append(change)
        return changes

    def values(self, row, collective) -> dict:
        raise NotImplementedError

    def failed_key(self, spec, row):
        return (self.kind, row.get("code")) if row.get("code") else None


class AssetImporter(CardImporter):
    kind = ImportKind.ASSETS
    sheets = (ASSET_SHEET,)
    model = Asset
    headers = ASSET_HEADERS
    register = Register.ASSETS
    words = {"status": _reverse(ASSET_STATUS_WORDS)}

    def values(self, row, collective):
        values = {
            "organization_id": collective.pk,
            "code": row.get("code"),
            "name": row.get("name"),
            "category": row.get("category"),
            "unit_price": row.get("unit_price"),
            "original_value": row.get("original_value"),
            "acquired_on": row.get("acquired_on"),
        }
        for key in ("quantity", "status"):
            if row.get(key) is not None:
                values[key] = row.get(key)
        return values


class ResourceImporter(CardImporter):
    kind = ImportKind.RESOURCES
    sheets = (RESOURCE_SHEET,)
    model = Resource
    headers = RESOURCE_HEADERS
    register = Register.RESOURCES
    words = {"kind": _reverse(RESOURCE_KIND_WORDS), "status": _reverse(RESOURCE_STATUS_WORDS)}

    def values(self, row, collective):
        values = {
            "organization_id": collective.pk,
            "code": row.get("code"),
            "name": row.get("name"),
            "kind": row.get("kind"),
            "location": row.get("location"),
            "area_mu": row.get("area_mu"),
        }
        if row.get("status") is not None:
            values["status"] = row.get("status")
        return values


# --- contracts and their payment schedules ------------------------------------------------------

CONTRACT_KIND_WORDS = {"资源发包": ContractKind.CONTRACTING, "资产出租": ContractKind.LEASE}
CONTRACT_STATUS_WORDS = {
    "履行中": ContractStatus.ACTIVE,
    "已到期": ContractStatus.ENDED,
    "已解除": ContractStatus.TERMINATED,
}
# 民法典 art. 705: a lease term over 20 years is void beyond 20 years.
LEASE_YEARS_MAX = 20

CONTRACT_SHEET = SheetSpec(
    "合同",
    (
        COLLECTIVE,
        Column(
            "code",
            "合同编号",
            c.code_text(40),
            gettext_lazy("The contract's number, unique in the county."),
            "DF-HT-001",
            text_format=True,
        ),
        Column(
            "kind",
            "合同类型",
            c.choice(CONTRACT_KIND_WORDS),
            gettext_lazy("Contracting of a resource or lease of an asset."),
            "资源发包",
            allowed=_words(CONTRACT_KIND_WORDS),
        ),
        Column("counterparty", "承包（承租）方", c.text(100), gettext_lazy("Who contracts or leases."), "李四"),
        Column(
            "resource",
            "资源编号",
            c.code_text(40),
            gettext_lazy("For a contracting: the resource card's number (already in the resource register)."),
            "DF-ZY-001",
            required=False,
            text_format=True,
        ),
        Column(
            "asset",
            "资产编号",
            c.code_text(40),
            gettext_lazy("For a lease: the asset card's number (already in the asset register)."),
            "",
            required=False,
            text_format=True,
        ),
        Column("start_date", "起始日期", c.date, gettext_lazy("First day of the term."), "2024-01-01"),
        Column("end_date", "终止日期", c.date, gettext_lazy("Last day of the term, after the first."), "2033-12-31"),
        Column("amount", "合同金额（元）", c.amount, gettext_lazy("Total over the term, in yuan."), "60000.00"),
        Column(
            "trading_reference",
            "交易平台编号",
            c.text(60),
            gettext_lazy("Reference on the rural property rights trading platform."),
            "",
            required=False,
        ),
        Column(
            "status",
            "合同状态",
            c.choice(CONTRACT_STATUS_WORDS),
            gettext_lazy("Empty means in force."),
            "履行中",
            required=False,
            allowed=_words(CONTRACT_STATUS_WORDS),
        ),
    ),
    gettext_lazy("Contracts are matched by contract number."),
)
PAYMENT_SHEET = SheetSpec(
    "付款计划",
    (
        Column(
            "contract",
            "合同编号",
            c.code_text(40),
            gettext_lazy("The contract: on the 合同 sheet or already in the product."),
            "DF-HT-001",
            text_format=True,
        ),
        Column("due_on", "应收日期", c.date, gettext_lazy("When the instalment is due."), "2024-03-31"),
        Column("amount", "金额（元）", c.amount, gettext_lazy("The instalment in yuan."), "6000.00"),
        Column("paid_on", "实收日期", c.date, gettext_lazy("When it was paid; empty if not yet."), "", required=False),
    ),
    gettext_lazy("Instalments are matched by contract number and due date."),
    required=False,
)
CONTRACT_HEADERS = {
    "kind": "合同类型",
    "counterparty": "承包（承租）方",
    "resource": "资源编号",
    "asset": "资产编号",
    "start_date": "起始日期",
    "end_date": "终止日期",
    "amount": "合同金额（元）",
    "trading_reference": "交易平台编号",
    "status": "合同状态",
    "code": "合同编号",
}
PAYMENT_HEADERS = {"due_on": "应收日期", "amount": "金额（元）", "paid_on": "实收日期"}


def _years_later(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


class ContractImporter(Importer):
    kind = ImportKind.CONTRACTS
    sheets = (CONTRACT_SHEET, PAYMENT_SHEET)

    def failed_key(self, spec, row):
        if spec.name == CONTRACT_SHEET.name and row.get("code"):
            return ("contract", row.get("code"))
        return None

    def plan(self, ctx, spec, rows):
        if spec.name == PAYMENT_SHEET.name:
            return self._plan_payments(ctx, rows)
        ready = []
        for row in rows:
            if row.failed:
                continue
            collective = ctx.collective(row)
            if not ctx.first_time(row, "contract", row.get("code"), "code"):
                continue
            self._check_terms(ctx, row)
            if collective is not None and not row.failed:
                ready.append((row, collective))
        codes = [row.get("code") for row, _org in ready]
        found = {
            contract.code: contract
            for contract in Contract.objects.filter(code__in=codes).select_related("organization")
        }
        resources = self._cards(ctx, Resource, ImportKind.RESOURCES, [row.get("resource") for row, _o in ready])
        assets = self._cards(ctx, Asset, ImportKind.ASSETS, [row.get("asset") for row, _o in ready])
        changes = []
        for row, collective in ready:
            existing = found.get(row.get("code"))
            if not _numbered(ctx, row, Contract, existing, collective, ""):
                continue
            resource = self._subject(ctx, row, "resource", resources, collective, _("resource register"))
            asset = self._subject(ctx, row, "asset", assets, collective, _("asset register"))
            if row.failed:
                continue
            values = {
                "organization_id": collective.pk,
                "code": row.get("code"),
                "kind": row.get("kind"),
                "counterparty": row.get("counterparty"),
                "resource": resource,
                "asset": asset,
                "start_date": row.get("start_date"),
                "end_date": row.get("end_date"),
                "amount": row.get("amount"),
                "trading_reference": row.get("trading_reference") or "",
            }
            if row.get("status") is not None:
                values["status"] = row.get("status")
            change = plan_instance(
                ctx,
                row,
                existing=existing,
                model=Contract,
                values=values,
                headers=CONTRACT_HEADERS,
                label=f"{row.get('code')} {row.get('counterparty')}",
                collective=collective,
                register=Register.CONTRACTS,
                words={"kind": _reverse(CONTRACT_KIND_WORDS), "status": _reverse(CONTRACT_STATUS_WORDS)},
            )
            if change is not None:
                ctx.pending["contract"][row.get("code")] = change.instance
            changes.append(change)
        return changes

    def _check_terms(self, ctx, row):
        start, end, kind = row.get("start_date"), row.get("end_date"), row.get("kind")
        if start and end and end <= start:
            ctx.row_problem(row, "end_date", _("The end date must come after the start date."))
        elif start and end and kind == ContractKind.LEASE and end > _years_later(start, LEASE_YEARS_MAX):
            ctx.row_problem(row, "end_date", _("A lease runs at most 20 years (Civil Code art. 705)."))
        if kind == ContractKind.CONTRACTING and not row.get("resource"):
            ctx.row_problem(row, "resource", _("A contracting names the resource it contracts."))
        if kind == ContractKind.LEASE and not row.get("asset"):
            ctx.row_problem(row, "asset", _("A lease names the asset it leases."))

    def _cards(self, ctx, model, kind, codes) -> dict:
        """{number: (card, its collective's code)}: the cards in the product, and those planned by this workbook."""
        codes = [code for code in codes if code]
        found = {
            card.code: (card, card.organization.code)
            for card in model.objects.filter(code__in=codes).select_related("organization")
        }
        for code in codes:
            if code in ctx.pending[kind]:
                found[code] = ctx.pending[kind][code]
        return found

    def _subject(self, ctx, row, key, found, collective, register_name):
        code = row.get(key)
        if not code:
            return None
        subject, owner = found.get(code, (None, None))
        kind = ImportKind.RESOURCES if key == "resource" else ImportKind.ASSETS
        if subject is None and ctx.refers_to_failed(row, key, kind, code):
            return None
        if subject is None or owner != collective.code:
            ctx.row_problem(
                row,
                key,
                _("%(collective)s has no card numbered %(code)s in its %(register)s: import it first.")
                % {"collective": collective, "code": code, "register": register_name},
            )
            return None
        return subject

    def _plan_payments(self, ctx, rows):
        ready = []
        for row in rows:
            if row.failed:
                continue
            key = (row.get("contract"), row.get("due_on"))
            if not ctx.first_time(row, "payment", key, "due_on"):
                continue
            contract = ctx.pending["contract"].get(row.get("contract"))
            if contract is None:
                contract = Contract.objects.filter(code=row.get("contract")).select_related("organization").first()
                if contract is not None and not ctx.within_scope(contract.organization):
                    contract = None
            if contract is None and ctx.refers_to_failed(row, "contract", "contract", row.get("contract")):
                continue
            if contract is None:
                ctx.row_problem(
                    row,
                    "contract",
                    _("No contract numbered %(code)s: list it on the 合同 sheet.") % {"code": row.get("contract")},
                )
                continue
            ready.append((row, contract))
        saved = [contract.pk for _row, contract in ready if contract.pk]
        found = {(p.contract_id, p.due_on): p for p in ContractPayment.objects.filter(contract_id__in=saved)}
        changes = []
        for row, contract in ready:
            existing = found.get((contract.pk, row.get("due_on"))) if contract.pk else None
            values = {"due_on": row.get("due_on"), "amount": row.get("amount"), "paid_on": row.get("paid_on")}
            if existing is None:
                values["contract"] = contract
            collective = contract.organization if contract.organization_id else None
            changes.append(
                plan_instance(
                    ctx,
                    row,
                    existing=existing,
                    model=ContractPayment,
                    values=values,
                    headers=PAYMENT_HEADERS,
                    label=f"{contract.code} {row.get('due_on')}",
                    collective=collective,
                    register=Register.CONTRACTS,
                )
            )
        return changes


# --- fund accounts ------------------------------------------------------------------------------

ACCOUNT_KIND_WORDS = {"银行存款": AccountKind.BANK, "库存现金": AccountKind.CASH}
ACCOUNT_SHEET = SheetSpec(
    "资金账户",
    (
        COLLECTIVE,
        Column(
            "name",
            "账户名称",
            c.text(100),
            gettext_lazy("Name of the account, unique in the collective."),
            "基本存款账户",
        ),
        Column(
            "kind",
            "账户类型",
            c.choice(ACCOUNT_KIND_WORDS),
            gettext_lazy("Bank account or cash on hand."),
            "银行存款",
            allowed=_words(ACCOUNT_KIND_WORDS),
        ),
        Column(
            "account_number",
            "账号",
            c.code_text(40),
            gettext_lazy("Bank account number; empty for cash."),
            "6228480000000000001",
            required=False,
            text_format=True,
        ),
        Column(
            "opening_balance",
            "期初余额（元）",
            c.amount,
            gettext_lazy("Balance on the day the product takes over, in yuan."),
            "125000.00",
        ),
    ),
    gettext_lazy("Accounts are matched by collective and account name."),
)
ACCOUNT_HEADERS = {
    "kind": "账户类型",
    "account_number": "账号",
    "opening_balance": "期初余额（元）",
    "name": "账户名称",
}


class AccountImporter(Importer):
    kind = ImportKind.ACCOUNTS
    sheets = (ACCOUNT_SHEET,)

    def plan(self, ctx, spec, rows):
        changes = []
        for row in rows:
            if row.failed:
                continue
            collective = ctx.collective(row)
            if collective is None or not ctx.first_time(row, "account", (collective.code, row.get("name")), "name"):
                continue
            existing = None
            if collective.pk is not None:
                existing = FundAccount.objects.filter(organization=collective, name=row.get("name")).first()
            values = {
                "organization_id": collective.pk,
                "name": row.get("name"),
                "kind": row.get("kind"),
                "account_number": row.get("account_number") or "",
                "opening_balance": row.get("opening_balance"),
            }
            changes.append(
                plan_instance(
                    ctx,
                    row,
                    existing=existing,
                    model=FundAccount,
                    values=values,
                    headers=ACCOUNT_HEADERS,
                    label=f"{collective} {row.get('name')}",
                    collective=collective,
                    register=Register.ACCOUNTS,
                    words={"kind": _reverse(ACCOUNT_KIND_WORDS)},
                )
            )
        return changes


# --- share set-up and allocations ---------------------------------------------------------------

SHARE_KIND_WORDS = {"人口股": ShareKind.POPULATION, "劳龄股": ShareKind.LABOUR_AGE}
SETUP_SHEET = SheetSpec(
    "股份设置",
    (
        COLLECTIVE,
        Column(
            "kind",
            "股份类型",
            c.choice(SHARE_KIND_WORDS),
            gettext_lazy("Kind of share."),
            "人口股",
            allowed=_words(SHARE_KIND_WORDS),
        ),
        Column("total", "总股数", c.whole_number, gettext_lazy("Shares of this kind the collective set up."), 1000),
    ),
    gettext_lazy("May be left out when the set-up is already in the product."),
    required=False,
)
ALLOCATION_SHEET = SheetSpec(
    "股权配置",
    (
        COLLECTIVE,
        Column(
            "id_number",
            "身份证号",
            c.id_text,
            gettext_lazy("The member's ID number, as in the member register."),
            "110101199003074316",
            text_format=True,
        ),
        Column("name", "姓名", c.text(50), gettext_lazy("Checked against the member register."), "张建国"),
        Column(
            "kind",
            "股份类型",
            c.choice(SHARE_KIND_WORDS),
            gettext_lazy("Kind of share."),
            "人口股",
            allowed=_words(SHARE_KIND_WORDS),
        ),
        Column("shares", "股数", c.whole_number, gettext_lazy("Shares the member holds of this kind."), 1),
    ),
    gettext_lazy("Each member's holding becomes the number given; all holdings together stay within the set-up."),
)


class ShareImporter(Importer):
    kind = ImportKind.SHARES
    sheets = (SETUP_SHEET, ALLOCATION_SHEET)

    def plan(self, ctx, spec, rows):
        if spec.name == SETUP_SHEET.name:
            return self._plan_setup(ctx, rows)
        return self._plan_allocations(ctx, rows)

    def _plan_setup(self, ctx, rows):
        changes = []
        for row in rows:
            if row.failed:
                continue
            collective = ctx.collective(row)
            if collective is None or not ctx.first_time(row, "setup", (collective.code, row.get("kind")), "kind"):
                continue
            existing = None
            if collective.pk is not None:
                existing = ShareSetup.objects.filter(organization=collective, kind=row.get("kind")).first()
            values = {"organization_id": collective.pk, "kind": row.get("kind"), "total": row.get("total")}
            change = plan_instance(
                ctx,
                row,
                existing=existing,
                model=ShareSetup,
                values=values,
                headers={"total": "总股数"},
                label=f"{collective} {ShareKind(row.get('kind')).label}",
                collective=collective,
                register=Register.SHARES,
            )
            if change is not None:
                ctx.pending["setup"][(collective.code, row.get("kind"))] = row.get("total")
            changes.append(change)
        return changes

    def _plan_allocations(self, ctx, rows):
        ready = []
        for row in rows:
            if row.failed:
                continue
            collective = ctx.collective(row)
            key = (short_hash(row.get("id_number")), row.get("kind"))
            if collective is None or not ctx.first_time(row, "allocation", key, "id_number"):
                continue
            ready.append((row, collective, id_number_index(row.get("id_number"))))
        members = {
            (m.organization_id, m.id_number_index): m
            for m in Member.objects.filter(id_number_index__in=[index for _r, _c, index in ready])
        }
        held = defaultdict(int)
        rows_of = ShareLedgerEntry.objects.filter(member__in=list(members.values())).order_by()
        for entry in rows_of.values("member_id", "kind").annotate(total=Sum("change")):
            held[(entry["member_id"], entry["kind"])] = entry["total"] or 0
        changes = []
        for row, collective, index in ready:
            member = members.get((collective.pk, index)) if collective.pk else None
            member = member or ctx.pending["member"].get((collective.code, index))
            if member is None and ctx.refers_to_failed(row, "id_number", "member", short_hash(row.get("id_number"))):
                continue
            if member is None:
                ctx.row_problem(
                    row,
                    "id_number",
                    _("%(collective)s has no member with this ID number: import the members first.")
                    % {"collective": collective},
                )
                continue
            if member.name != row.get("name"):
                ctx.row_problem(
                    row,
                    "name",
                    _("The member register has this ID number under the name %(name)s.") % {"name": member.name},
                )
                continue
            kind, target = row.get("kind"), row.get("shares")
            current = held[(member.pk, kind)] if member.pk else 0
            delta = target - current
            if not self._within_total(ctx, row, collective, kind, delta):
                continue
            label = f"{member.name}（{mask_id_number(member.id_number)}） {ShareKind(kind).label}"
            change = Change(
                row=row, action="unchanged" if delta == 0 else ("create" if current == 0 else "update"), label=label
            )
            change.fields = [("股数", current, target)] if delta else []
            change.collective, change.register = collective, Register.SHARES
            change.write = self._writer(ctx, collective, member, kind, delta)
            changes.append(change)
        return changes

    def _within_total(self, ctx, row, collective, kind, delta) -> bool:
        key = (collective.code, kind)
        totals = ctx.pending["share_totals"]
        if key not in totals:
            entries = ShareLedgerEntry.objects.filter(organization=collective, kind=kind) if collective.pk else None
            totals[key] = (entries.aggregate(total=Sum("change"))["total"] or 0) if entries is not None else 0
        limit = ctx.pending["setup"].get(key)
        if limit is None and collective.pk is not None:
            setup = ShareSetup.objects.filter(organization=collective, kind=kind).first()
            limit = setup.total if setup else None
            ctx.pending["setup"][key] = limit
        if limit is None:
            ctx.row_problem(
                row,
                "kind",
                _("%(collective)s has no share set-up for %(kind)s: fill the 股份设置 sheet.")
                % {"collective": collective, "kind": ShareKind(kind).label},
            )
            return False
        if totals[key] + delta > limit:
            ctx.row_problem(
                row,
                "shares",
                _("With this row the %(kind)s of %(collective)s would reach %(total)s, more than the %(limit)s set up.")
                % {
                    "kind": ShareKind(kind).label,
                    "collective": collective,
                    "total": totals[key] + delta,
                    "limit": limit,
                },
            )
            return False
        totals[key] += delta
        return True

    def _writer(self, ctx, collective, member, kind, delta):
        def write():
            entry = ShareLedgerEntry(
                organization=collective, member=member, kind=kind, change=delta, reason=ShareReason.ALLOCATION
            )
            entry._history_user = ctx.user
            entry.save()

        return write


# --- accounts and their posts -------------------------------------------------------------------

# The file's words for the business posts; an administrator's post is made only on the command line.
ROLE_WORDS = {
    "村党组织书记": Role.VILLAGE_SECRETARY,
    "村报账员": Role.VILLAGE_CASHIER,
    "村务监督委员会主任": Role.VILLAGE_SUPERVISOR,
    "乡镇农经站工作人员": Role.TOWNSHIP_OFFICER,
    "乡镇分管领导": Role.TOWNSHIP_LEADER,
    "县级管理员": Role.COUNTY_ADMIN,
    "纪检监察": Role.DISCIPLINE_INSPECTOR,
}
USER_SHEET = SheetSpec(
    "用户",
    (
        Column(
            "username",
            "用户名",
            c.text(150),
            gettext_lazy("The login name: letters, digits and @ . + - _ only, unique in the product."),
            "sec_df",
            text_format=True,
        ),
        Column("last_name", "姓", c.text(150), gettext_lazy("Family name."), "张"),
        Column("first_name", "名", c.text(150), gettext_lazy("Given name."), "建国"),
        Column(
            "organization",
            "单位编码",
            c.code_text(40),
            gettext_lazy(
                "The organisation of the post: its code or its unified social credit code, as in the administrative "
                "tree."
            ),
            "HX-DF",
            text_format=True,
        ),
        Column(
            "role",
            "岗位",
            c.choice(ROLE_WORDS),
            gettext_lazy("The post held there; village posts at a village, township posts at a township."),
            "村党组织书记",
            allowed=_words(ROLE_WORDS),
        ),
    ),
    gettext_lazy(
        "One row per account, matched by username; an import adds posts and never removes one. A new account "
        "cannot log in until the security administrator sets its one-time initial password, which it must change "
        "at its first login."
    ),
)
USER_HEADERS = {"username": "用户名", "last_name": "姓", "first_name": "名"}


class UserImporter(Importer):
    kind = ImportKind.USERS
    sheets = (USER_SHEET,)
    roles = frozenset({Role.SYSTEM_ADMIN})

    def plan(self, ctx, spec, rows):
        ready = []
        for row in rows:
            if row.failed or not ctx.first_time(row, "user", row.get("username"), "username"):
                continue
            organization = self._organization(ctx, row)
            if organization is None:
                continue
            if row.get("role") not in ROLES_AT.get(organization.kind, ()):
                ctx.row_problem(
                    row,
                    "role",
                    _("A %(role)s post cannot be held at %(name)s, a %(kind)s.")
                    % {
                        "role": Role(row.get("role")).label,
                        "name": organization.name,
                        "kind": organization.get_kind_display(),
                    },
                )
                continue
            ready.append((row, organization))
        usernames = [row.get("username") for row, _org in ready]
        users = get_user_model().objects.filter(username__in=usernames)
        found = {user.username: user for user in users}
        in_scope = set(accounts_under(ctx.scope).filter(username__in=usernames).values_list("pk", flat=True))
        held = set(Post.objects.filter(user__in=users).values_list("user_id", "organization_id", "role"))
        administrators = {user_id for user_id, _org, role in held if role in ADMINISTRATOR_ROLES}
        changes = []
        for row, organization in ready:
            existing = found.get(row.get("username"))
            if existing is not None and (existing.is_superuser or existing.pk in administrators):
                ctx.row_problem(
                    row, "username", _("This is an administrator's account: it is managed on the command line.")
                )
                continue
            if existing is not None and existing.pk not in in_scope:
                ctx.row_problem(row, "username", _("This username belongs to an account outside your jurisdiction."))
                continue
            values = {name: row.get(name) for name in USER_HEADERS}
            if existing is None:
                values["password"] = make_password(None)
            label = f"{row.get('username')} {row.get('last_name')}{row.get('first_name')}"
            change = plan_instance(
                ctx, row, existing=existing, model=get_user_model(), values=values, headers=USER_HEADERS, label=label
            )
            if change is None:
                continue
            role = row.get("role")
            new_post = existing is None or (existing.pk, organization.pk, role) not in held
            if new_post:
                change.fields.append(("岗位", None, f"{organization.name} {ROLE_WORDS_BY_ROLE[role]}"))
                if change.action == "unchanged":
                    change.action = "update"
            change.write = self._writer(ctx, change, organization, role if new_post else None)
            changes.append(change)
        return changes

    def _organization(self, ctx, row):
        key = row.get("organization")
        organization = None
        if len(key) == 18:
            organization = Organization.objects.filter(credit_code=key).first()
        organization = organization or ctx.organization(key)
        if organization is None:
            ctx.row_problem(
                row,
                "organization",
                _("No organisation has the code or credit code %(code)s: import the administrative tree first.")
                % {"code": key},
            )
        elif not ctx.within_scope(organization):
            ctx.row_problem(row, "organization", _("%(name)s lies outside your jurisdiction.") % {"name": organization})
        else:
            return organization
        return None

    def _writer(self, ctx, change, organization, role):
        def write():
            user = change.instance
            if change.instance.pk is None:
                user = account_open(
                    username=user.username,
                    last_name=user.last_name,
                    first_name=user.first_name,
                    home=ctx.scope,
                    created_by=ctx.user,
                    password=None,
                )
                self._log(ctx, EventKind.USER_CHANGED, _("Account created: %(account)s") % {"account": user}, user)
            elif any(header in USER_HEADERS.values() for header, _old, _new in change.fields):
                user.save(update_fields=["last_name", "first_name"])
            if role is not None:
                post = Post(user=user, organization=organization, role=role)
                post.full_clean()
                post._change_reason = ctx.reason
                post._history_user = ctx.user
                post.save()
                self._log(ctx, EventKind.POST_GRANTED, _("Post granted: %(post)s") % {"post": post}, post, organization)

        return write

    def _log(self, ctx, kind, description, obj, organization=None):
        # In a request the security log's receivers see the saves; the worker that imports has none.
        if current_request() is None:
            security_log(kind=kind, description=description, actor=ctx.user, obj=obj, organization=organization)


ROLE_WORDS_BY_ROLE = _reverse(ROLE_WORDS)


class CountyImporter(Importer):
    """Every kind in one workbook, in the order they depend on each other; each sheet may be left out."""

    kind = ImportKind.COUNTY
    keeps_pending = True

    def __init__(self, parts: list[Importer]):
        self.owners = {}
        sheets = []
        for part in parts:
            for spec in part.sheets:
                self.owners[spec.name] = part
                sheets.append(replace(spec, required=False))
        self.sheets = tuple(sheets)

    def plan(self, ctx, spec, rows):
        return self.owners[spec.name].plan(ctx, spec, rows)

    def finish_sheet(self, ctx, spec):
        self.owners[spec.name].finish_sheet(ctx, spec)

    def failed_key(self, spec, row):
        return self.owners[spec.name].failed_key(spec, row)


_PARTS = [
    TreeImporter(),
    MemberImporter(),
    AssetImporter(),
    ResourceImporter(),
    ContractImporter(),
    AccountImporter(),
    ShareImporter(),
]
IMPORTERS = {importer.kind: importer for importer in [CountyImporter(_PARTS), *_PARTS, UserImporter()]}
