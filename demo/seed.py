"""The demo county: its places, people and registers, loaded from the sample workbooks through the importer, and
matters driven through the real services.

Used by ``seed_demo`` and ``seed_matters`` (``make demo``). The demo is loaded the way a county is: the
installation makes the city and its system administrator (on the command line, as ``administrator_create``
would); the system administrator makes the city's county administrator on the accounts page; the county
administrator imports the tree and every register from ``docs/samples/demo/demo-county.xlsx`` and the system
administrator the accounts and posts from ``demo-users.xlsx`` (demo/samples.py), each a dry run and then the
confirmed import, through the services the import pages use. What no workbook holds follows: the rule tables,
the county's administrators, the incomes recorded before the demo starts, share certificates, and the demo
password. A workbook already imported (the same file) is not imported again, so a second run adds nothing.
"""

import datetime
import random
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from administration.models import AccountProfile
from administration.services import account_create, post_grant
from flows.models import END, Decision, Matter, MatterStatus, Notice, NoticeKind, Step
from flows.services import (
    VoteInput,
    active_task,
    client_key_for,
    matter_apply,
    matter_withdraw,
    meeting_notice_post,
    meeting_record,
    meeting_roster,
    objection_handle,
    objection_submit,
    path_for_band,
    publication_try_close,
    step_perform,
    task_take,
)
from imports import services as imports
from imports.models import ImportJob, ImportStatus
from organizations.models import (
    MeetingBody,
    MeetingRule,
    Organization,
    OrganizationKind,
    Post,
    Role,
    RuleBand,
    RuleVersion,
    TransactionType,
)
from organizations.people import display_name
from organizations.rules import rule_version_in_force, rule_version_seed_defaults
from registers.funds import income_record
from registers.models import (
    AccountKind,
    Contract,
    Direction,
    FundAccount,
    FundMovement,
    Member,
    ShareCertificate,
)
from registers.shares import certificates_reissue

from .samples import SAMPLES_DIR, WORKBOOKS, sha256_of, tree_order
from .scans import scanned_quotation

# Meets the password policy (10 characters, at least three kinds, not the username).
DEFAULT_PASSWORD = "Sanzi@2026"
RULES_EFFECTIVE_FROM = datetime.date(2026, 1, 1)
# From this amount the demo county asks for an application file (RuleVersion.evidence_threshold).
DEMO_EVIDENCE_THRESHOLD = Decimal("20000.00")

# --- places (their rows are in docs/samples/demo/demo-county.xlsx) ---------------------------

COUNTY_CODE, COUNTY_NAME = "DEMO", "示范县"
TOWNSHIPS = [("DH", "东湖镇"), ("XS", "西山乡")]
# (code, name, township code)
VILLAGES = [("DH01", "东湖村", "DH"), ("DH02", "柳树沟村", "DH"), ("XS01", "石门村", "XS")]
COLLECTIVE_SUFFIX = "-JJ"
# The city above the demo county, and a second county of the city with one township and one village;
# its rule table is the city's (it keeps none of its own), the demo county keeps its own.
CITY_CODE, CITY_NAME = "DEMO-SHI", "示范市"
SECOND_COUNTY_CODE = "DEMO2"
CITY_SMALL_UP_TO = Decimal("50000")

# --- people (the business posts are in docs/samples/demo/demo-users.xlsx) ---------------------

# The administrators' posts are made on the command line, never by an import: (username, role, place,
# surname, given name). The city's system administrator makes the city's county administrator and imports
# the accounts and posts; the demo county's three (三员分立) each hold an account of their own.
CITY_SYSADMIN = ("city_sysadmin", Role.SYSTEM_ADMIN, CITY_CODE, "邵", "国栋")
CITY_COUNTY_ADMIN = ("city_admin", "庞", "立新")
ADMINISTRATORS = [
    ("sysadmin", Role.SYSTEM_ADMIN, COUNTY_CODE, "阎", "志强"),
    ("secadmin", Role.SECURITY_ADMIN, COUNTY_CODE, "乔", "丽华"),
    ("auditadmin", Role.AUDIT_ADMIN, COUNTY_CODE, "温", "建华"),
]
SUPERUSER = ("admin", "冯", "国强")

# The login sheet goes to Chinese-speaking testers whatever state the translation catalogue is in.
ROLE_LABELS = {
    Role.VILLAGE_SECRETARY: "村党组织书记",
    Role.VILLAGE_CASHIER: "村报账员",
    Role.VILLAGE_SUPERVISOR: "村务监督委员会主任",
    Role.TOWNSHIP_OFFICER: "乡镇农经站工作人员",
    Role.TOWNSHIP_LEADER: "乡镇分管领导",
    Role.COUNTY_ADMIN: "县级管理员",
    Role.DISCIPLINE_INSPECTOR: "纪检监察",
    Role.SYSTEM_ADMIN: "系统管理员",
    Role.SECURITY_ADMIN: "安全管理员",
    Role.AUDIT_ADMIN: "审计管理员",
}
# The order of posts within one place on the login sheet.
LOGIN_ORDER = [
    Role.SYSTEM_ADMIN,
    Role.SECURITY_ADMIN,
    Role.AUDIT_ADMIN,
    Role.DISCIPLINE_INSPECTOR,
    Role.COUNTY_ADMIN,
    Role.VILLAGE_SECRETARY,
    Role.VILLAGE_CASHIER,
    Role.VILLAGE_SUPERVISOR,
    Role.TOWNSHIP_OFFICER,
    Role.TOWNSHIP_LEADER,
]

# --- funds (accounts and opening balances are in the county workbook) -------------------------

BANK_OPENING_RANGE = (300000, 800000)
CASH_OPENING = Decimal("8000.00")
# Income that came in before the demo starts: (account kind, date, payer, purpose, amount range in yuan).
INCOMES = [
    (AccountKind.BANK, datetime.date(2025, 1, 20), "阳曲县财政局", "村级组织运转经费", (30000, 60000)),
    (AccountKind.BANK, datetime.date(2026, 3, 16), "阳曲县农业农村局", "村集体经济发展扶持资金", (50000, 150000)),
    (AccountKind.CASH, datetime.date(2026, 5, 8), "村民", "集体场地临时占用费", (500, 1500)),
]
# Instalments paid before the demo starts (paid on the workbook's 付款计划) are each an income on the bank account.
PAID_UNTIL = datetime.date(2026, 3, 31)

# --- shares (the allocation is in the county workbook) ----------------------------------------

# Members 18 or older on this day got shares in the demo's initial allocation (配股).
SHARES_ADULT_ON = datetime.date(2026, 1, 1)
# Labour-age shares (劳龄股) by year of birth: the longer someone has worked for the collective, the more.
LABOUR_AGE_SHARES = [(1960, 3), (1980, 2), (9999, 1)]


def collective_code(village_code: str) -> str:
    return f"{village_code}{COLLECTIVE_SUFFIX}"


def resource_code(collective: Organization, number: int) -> str:
    return f"{collective.code}-ZY{number:05d}"


def asset_code(collective: Organization, number: int) -> str:
    return f"{collective.code}-ZC{number:05d}"


def labour_age_shares(member: Member) -> int:
    return next(shares for born_before, shares in LABOUR_AGE_SHARES if member.birth_date.year < born_before)


@dataclass
class SeedReport:
    created: Counter = field(default_factory=Counter)
    kept: Counter = field(default_factory=Counter)

    def count(self, kind: str, created: bool, number: int = 1) -> None:
        (self.created if created else self.kept)[kind] += number


@transaction.atomic
def demo_seed(*, password: str = DEFAULT_PASSWORD) -> SeedReport:
    """Create whatever part of the demo county is missing; existing rows are left as they are."""
    report = SeedReport()
    city = _seed_city(report)
    city_sysadmin = _administrator(report, *CITY_SYSADMIN)
    city_admin = _city_county_admin(report, city, city_sysadmin)
    county_workbook, users_workbook = (SAMPLES_DIR / name for name, _kind in WORKBOOKS)
    _import(report, county_workbook, WORKBOOKS[0][1], scope=city, user=city_admin)
    _seed_rules(report, city)
    _import(report, users_workbook, WORKBOOKS[1][1], scope=city, user=city_sysadmin)
    for row in ADMINISTRATORS:
        _administrator(report, *row)
    _seed_superuser(report)
    _seed_passwords(report, city, password)
    county = Organization.objects.get(code=COUNTY_CODE)
    collectives = Organization.objects.filter(path__startswith=county.path, kind=OrganizationKind.COLLECTIVE)
    for collective in collectives.order_by("path"):
        _seed_incomes(report, collective)
        _seed_certificates(report, collective)
    return report


def _seed_city(report: SeedReport) -> Organization:
    """The installation's top place; a demo county seeded before the city existed moves under it."""
    city, created = Organization.objects.get_or_create(
        code=CITY_CODE, defaults={"name": CITY_NAME, "kind": OrganizationKind.CITY}
    )
    report.count("organisations", created)
    county = Organization.objects.filter(code=COUNTY_CODE).first()
    if county is not None and county.parent_id != city.pk:
        county.parent = city
        county.save()
    return city


def _administrator(report: SeedReport, username: str, role: str, code: str, surname: str, given_name: str):
    """An administrator's account and post, as ``manage.py administrator_create`` makes them."""
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"last_name": surname, "first_name": given_name}
    )
    report.count("users", created)
    _post, created = Post.objects.get_or_create(user=user, organization=Organization.objects.get(code=code), role=role)
    report.count("posts", created)
    return user


def _city_county_admin(report: SeedReport, city: Organization, city_sysadmin):
    """The city's county administrator, made by its system administrator on the accounts page."""
    username, surname, given_name = CITY_COUNTY_ADMIN
    user = get_user_model().objects.filter(username=username).first()
    report.count("users", user is None)
    if user is None:
        user, _password = account_create(
            actor=city_sysadmin, username=username, last_name=surname, first_name=given_name
        )
    held = Post.objects.filter(user=user, organization=city, role=Role.COUNTY_ADMIN).exists()
    report.count("posts", not held)
    if not held:
        post_grant(actor=city_sysadmin, account=user, organization=city, role=Role.COUNTY_ADMIN)
    return user


def _import(report: SeedReport, path, kind: str, *, scope: Organization, user) -> None:
    """Upload, check and confirm a sample workbook as its administrator would; once per version of the file."""
    content = path.read_bytes()
    if ImportJob.objects.filter(kind=kind, sha256=sha256_of(content), status=ImportStatus.APPLIED).exists():
        report.count("imports", False)
        return
    job = imports.import_upload(user=user, scope=scope, kind=kind, uploaded=SimpleUploadedFile(path.name, content))
    job = imports.import_check(job=job)
    if job.status != ImportStatus.CHECKED:
        raise ValueError(f"{path.name} does not import: {job.errors[:5]}")
    imports.import_confirm(job=job, user=user)
    job = imports.import_apply(job=job, user=user)
    if job.status != ImportStatus.APPLIED:
        raise ValueError(f"{path.name} was not imported: {job.errors[:5] or job.failure}")
    report.count("imports", True)
    for sheet, counts in job.summary["counts"].items():
        report.count(f"{sheet} rows", True, counts.get("create", 0) + counts.get("update", 0))
        report.count(f"{sheet} rows", False, counts.get("unchanged", 0))


def _seed_rules(report: SeedReport, city: Organization) -> None:
    county = Organization.objects.get(code=COUNTY_CODE)
    if not RuleVersion.objects.filter(county=county).exists():
        version = rule_version_seed_defaults(county=county, effective_from=RULES_EFFECTIVE_FROM)
        # The demo county asks for an application file from this amount (the approval page confirms without one).
        version.evidence_threshold = DEMO_EVIDENCE_THRESHOLD
        version.save(update_fields=["evidence_threshold"])
        report.count("rule versions", True)
    else:
        report.count("rule versions", False)
    if not RuleVersion.objects.filter(county=city).exists():
        version = rule_version_seed_defaults(county=city, effective_from=RULES_EFFECTIVE_FROM)
        version.note = "市级底线：小额购置和支出至5万元"
        version.save()
        # The city's floor leaves its counties room: small purchases and payments up to 5万元 (the demo
        # county keeps 2万元, stricter; the second county follows the city).
        for transaction_type in (TransactionType.ASSET_PURCHASE, TransactionType.FUND_DISBURSEMENT):
            small, medium = version.bands.filter(transaction_type=transaction_type).order_by("min_amount")[:2]
            small.max_amount = medium.min_amount = CITY_SMALL_UP_TO
            small.save()
            medium.save()
        report.count("rule versions", True)
    else:
        report.count("rule versions", False)


def _seed_superuser(report: SeedReport) -> None:
    username, surname, given_name = SUPERUSER
    superuser, created = get_user_model().objects.get_or_create(
        username=username, defaults={"last_name": surname, "first_name": given_name}
    )
    report.count("users", created)
    if not (superuser.is_staff and superuser.is_superuser):
        superuser.is_staff = superuser.is_superuser = True
        superuser.save(update_fields=["is_staff", "is_superuser"])


def _seed_passwords(report: SeedReport, city: Organization, password: str) -> None:
    """Every demo account without a password the demo set gets the demo password, and owes no change of it.

    Outside the demo the security administrator sets each imported account's one-time initial password."""
    users = (
        get_user_model()
        .objects.filter(Q(posts__organization__path__startswith=city.path) | Q(username=SUPERUSER[0]))
        .distinct()
    )
    # An administrator made here has no password yet; an imported account an unusable one.
    waiting = [user for user in users if not user.password or not user.has_usable_password() or _owes_change(user)]
    report.count("demo passwords", True, len(waiting))
    if not waiting:
        return
    # One hash for every demo user: each takes about a second to compute, and they share the password anyway.
    password_hash = make_password(password)
    for user in waiting:
        user.password = password_hash
        user.save(update_fields=["password"])
    AccountProfile.objects.filter(user__in=waiting).update(must_change_password=False)


def _owes_change(user) -> bool:
    profile = AccountProfile.objects.filter(user=user).first()
    return profile is not None and profile.must_change_password


def _seed_incomes(report: SeedReport, collective: Organization) -> None:
    """The income each account had before the demo starts, and each contract instalment paid by then."""
    # The amounts are drawn after the account's opening balance and number (made with the workbook).
    rng = random.Random(f"accounts-{collective.code}")
    rng.randrange(BANK_OPENING_RANGE[0], BANK_OPENING_RANGE[1] + 1, 100)
    rng.randrange(10**10)
    accounts = {account.kind: account for account in FundAccount.objects.filter(organization=collective)}
    for kind, occurred_on, payer, purpose, (low, high) in INCOMES:
        amount = Decimal(rng.randrange(low, high + 1, 100)).quantize(Decimal("0.01"))
        _income(report, accounts[kind], amount=amount, occurred_on=occurred_on, counterparty=payer, purpose=purpose)
    contracts = Contract.objects.filter(organization=collective).select_related("resource", "asset").order_by("code")
    for contract in contracts:
        purpose = f"{contract.resource.name}承包费" if contract.resource else f"{contract.asset.name}租金"
        for number, payment in enumerate(contract.payments.order_by("due_on"), start=1):
            if payment.paid_on is None or payment.paid_on > PAID_UNTIL:
                continue
            _income(
                report,
                accounts[AccountKind.BANK],
                amount=payment.amount,
                occurred_on=payment.paid_on,
                counterparty=contract.counterparty,
                purpose=f"{purpose}（合同{contract.code}第{number}期）",
            )


def _income(report: SeedReport, account: FundAccount, *, amount: Decimal, occurred_on, counterparty, purpose) -> None:
    # Keyed on the account, day and purpose: a second run finds the movement the first one recorded.
    exists = FundMovement.objects.filter(
        account=account, direction=Direction.IN, occurred_on=occurred_on, purpose=purpose
    ).exists()
    if not exists:
        income_record(
            account=account, amount=amount, occurred_on=occurred_on, counterparty=counterparty, purpose=purpose
        )
    report.count("fund movements", not exists)


def _seed_certificates(report: SeedReport, collective: Organization) -> None:
    """A certificate for each holder of the imported allocation without one."""
    certified = set(
        ShareCertificate.objects.filter(member__organization=collective).values_list("member_id", flat=True)
    )
    holders = (
        Member.objects.filter(organization=collective, share_entries__isnull=False)
        .exclude(pk__in=certified)
        .distinct()
        .order_by("pk")
    )
    issued = certificates_reissue(members=list(holders), matter=None, render=False)
    report.created["share certificates"] += len(issued)
    report.kept["share certificates"] += len(certified)


# --- the login sheet ----------------------------------------------------------------


@dataclass(frozen=True)
class Login:
    username: str
    name: str
    role: str
    place: str


def demo_logins() -> list[Login]:
    """Every post in the demo city and its counties, village by village, then the superuser."""
    top = Organization.objects.filter(code=CITY_CODE).first() or Organization.objects.filter(code=COUNTY_CODE).first()
    if top is None:
        return []
    order = {role: position for position, role in enumerate(LOGIN_ORDER)}
    posts = Post.objects.filter(organization__path__startswith=top.path).select_related("user", "organization")
    above_townships = (OrganizationKind.PROVINCE, OrganizationKind.CITY, OrganizationKind.COUNTY)
    places = tree_order(top)
    posts = sorted(
        posts,
        key=lambda post: (
            post.organization.kind in above_townships,
            places[post.organization_id],
            order.get(post.role, 99),
            post.user.username,
        ),
    )
    logins = [
        Login(
            username=post.user.username,
            name=display_name(post.user),
            role=f"{ROLE_LABELS.get(post.role, post.get_role_display())} ({post.role})",
            place=f"{post.organization.name} ({post.organization.code})",
        )
        for post in posts
    ]
    superuser = get_user_model().objects.filter(username=SUPERUSER[0], is_superuser=True).first()
    if superuser:
        logins.append(Login(superuser.username, display_name(superuser), "系统维护 Django admin (superuser)", "—"))
    return logins


def display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def format_table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(display_width(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell + " " * (width - display_width(cell)) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


# --- matters, driven through the services -------------------------------------------


@dataclass(frozen=True)
class Cast:
    """Who acts for one collective: its village's posts and its township's."""

    collective: Organization
    secretary: AbstractUser
    cashier: AbstractUser
    supervisor: AbstractUser
    officer: AbstractUser
    leader: AbstractUser


def cast_for(collective: Organization) -> Cast:
    village = collective.village
    township = village.ancestor_of_kind(OrganizationKind.TOWNSHIP) if village else None
    if village is None or township is None:
        raise LookupError(f"{collective.code} is not in a village of a township.")

    def holder(organization: Organization, role: str):
        post = Post.objects.filter(organization=organization, role=role).select_related("user").first()
        if post is None:
            raise LookupError(f"Nobody holds the post {role} in {organization.code}; run seed_demo first.")
        return post.user

    return Cast(
        collective=collective,
        secretary=holder(village, Role.VILLAGE_SECRETARY),
        cashier=holder(village, Role.VILLAGE_CASHIER),
        supervisor=holder(village, Role.VILLAGE_SUPERVISOR),
        officer=holder(township, Role.TOWNSHIP_OFFICER),
        leader=holder(township, Role.TOWNSHIP_LEADER),
    )


def demo_collectives(*, village_code: str = "") -> list[Organization]:
    """The demo county's collectives to spread matters over: all of them, or those of one village (or the one named).

    The second county's village is left out: it is there to try the levels by hand."""
    collectives = Organization.objects.filter(kind=OrganizationKind.COLLECTIVE).order_by("code")
    county = Organization.objects.filter(code=COUNTY_CODE).first()
    if county is not None:
        collectives = collectives.filter(path__startswith=county.path)
    if village_code:
        collectives = collectives.filter(Q(parent__code=village_code) | Q(code=village_code))
    return list(collectives)


# The top band has no upper bound; demo purchases stay below this many times its lower bound.
OPEN_BAND_SPAN = 6


@dataclass(frozen=True)
class Scenario:
    """Drive a matter until ``stop_at`` is its next step, then optionally end it one way or another.

    The amount is drawn in turn from each rule band whose path has ``stop_at``.
    """

    name: str
    stop_at: str
    ending: str = ""


# Matter i follows SCENARIOS[i % len(SCENARIOS)], so any run of this many matters covers every stop.
SCENARIOS = [
    Scenario("waiting for the party branch", Step.PROPOSE),
    Scenario("waiting for the two committees", Step.DELIBERATE),
    Scenario("waiting for the party members", Step.REVIEW_BY_PARTY_MEMBERS),
    Scenario("waiting for the member meeting", Step.RESOLVE_BY_MEMBERS),
    Scenario("resolution on the board", Step.PUBLISH_RESOLUTION),
    Scenario("held by an open objection", Step.PUBLISH_RESOLUTION, ending="object"),
    Scenario("waiting for the township officer", Step.CHECK_BY_TOWNSHIP),
    Scenario("waiting for the township leader", Step.APPROVE_BY_TOWNSHIP),
    Scenario("waiting for implementation", Step.IMPLEMENT),
    Scenario("result on the board", Step.PUBLISH_RESULT),
    Scenario("archived", END),
    Scenario("returned by the officer", Step.CHECK_BY_TOWNSHIP, ending="officer_returns"),
    Scenario("returned by the leader", Step.APPROVE_BY_TOWNSHIP, ending="leader_returns"),
    Scenario("failed member vote", Step.RESOLVE_BY_MEMBERS, ending="fail_vote"),
    Scenario("revised after a return", Step.CHECK_BY_TOWNSHIP, ending="return_and_revise"),
    Scenario("withdrawn", Step.DELIBERATE, ending="withdraw"),
    Scenario("rejected by the leader", Step.APPROVE_BY_TOWNSHIP, ending="leader_rejects"),
]

# (name, category, unit, unit price range in yuan, quantity range, reason): small, medium and large buys.
PURCHASES = [
    ("办公电脑", "办公设备", "台", (3800, 6500), (1, 3), "村委会现有电脑老化，无法满足三资平台录入需要。"),
    ("激光打印机", "办公设备", "台", (1500, 3200), (1, 2), "财务凭证和公示材料打印需要。"),
    ("高清监控摄像头", "电子设备", "个", (450, 1200), (4, 12), "村内主要路口和集体仓库安全监控。"),
    ("会议桌椅", "家具", "套", (800, 2500), (2, 6), "村民代表会议室桌椅破损。"),
    ("灭火器", "消防器材", "具", (120, 300), (10, 30), "集体仓库和办公场所消防安全检查要求。"),
    ("太阳能路灯", "农业基础设施", "盏", (2200, 3800), (10, 25), "村内主干道夜间照明不足，群众多次反映。"),
    ("灌溉水泵", "机器设备", "台", (8000, 15000), (2, 6), "集体机井水泵老化，影响春灌。"),
    ("户外健身器材", "文体设施", "套", (25000, 60000), (1, 1), "文化广场建设配套。"),
    ("垃圾清运车", "运输工具", "辆", (45000, 90000), (1, 1), "人居环境整治，村内垃圾日产日清。"),
    ("智能水表", "农业基础设施", "块", (280, 450), (80, 200), "自来水改造，按户计量收费。"),
    ("大型拖拉机", "机器设备", "台", (120000, 260000), (1, 2), "集体农机合作服务，统一耕种收。"),
    ("粮食烘干机", "机器设备", "台", (150000, 320000), (1, 1), "秋粮集中烘干，减少霉变损失。"),
    ("冷库制冷设备", "机器设备", "套", (180000, 420000), (1, 1), "发展果蔬储藏，增加集体经营收入。"),
    ("光伏发电组件", "农业基础设施", "块", (1200, 1800), (80, 200), "村集体光伏项目，收益归集体所有。"),
    ("温室大棚钢架", "农业基础设施", "座", (35000, 60000), (3, 8), "设施农业项目，建成后对外发包。"),
]
SUPPLIERS = [
    "太原市晋阳农机有限公司",
    "阳曲县宏达商贸有限公司",
    "山西恒通电子科技有限公司",
    "晋中市丰收农业机械销售公司",
    "太原市鑫源办公设备有限公司",
    "山西绿能光伏科技有限公司",
    "忻州市诚信五金机电公司",
]
FUNDING_SOURCES = ["村集体经营收入", "上级财政转移支付资金", "一事一议财政奖补资金", "村集体公积公益金"]
MEETING_STEPS = {
    Step.DELIBERATE: MeetingBody.TWO_COMMITTEES,
    Step.REVIEW_BY_PARTY_MEMBERS: MeetingBody.PARTY_MEMBERS,
}
NOTICE_KINDS = {Step.PUBLISH_RESOLUTION: NoticeKind.RESOLUTION, Step.PUBLISH_RESULT: NoticeKind.RESULT}
# How often a resolution notice draws an objection that the supervisor then settles.
HANDLED_OBJECTION_SHARE = 0.25


def purchase_data(rng: random.Random, band: RuleBand, *, quotation_threshold: Decimal) -> dict:
    """An asset purchase application whose total falls in the band, with quotations where the rules want them."""
    low = band.min_amount
    high = band.max_amount if band.max_amount is not None else max(low, Decimal("20000")) * OPEN_BAND_SPAN
    # Draw purchases until one lands in the band, whatever thresholds the county has set.
    for _attempt in range(10000):
        name, category, unit, (price_low, price_high), (qty_low, qty_high), reason = rng.choice(PURCHASES)
        unit_price = Decimal(rng.randrange(price_low // 10, price_high // 10) * 10).quantize(Decimal("0.01"))
        quantity = rng.randint(qty_low, qty_high)
        total = unit_price * quantity
        if low <= total < high:
            break
    else:
        raise ValueError(f"No demo purchase fits the band {band}.")
    suppliers = rng.sample(SUPPLIERS, 3)
    if total >= quotation_threshold:
        quotations = [{"supplier": suppliers[0], "amount": total}] + [
            {"supplier": supplier, "amount": (total * Decimal(rng.uniform(1.03, 1.15))).quantize(Decimal("0.01"))}
            for supplier in suppliers[1:]
        ]
    else:
        quotations = [{"supplier": suppliers[0], "amount": total}] if rng.random() < 0.5 else []
    return {
        "title": f"购置{name}{quantity}{unit}",
        "reason": reason,
        "funding_source": rng.choice(FUNDING_SOURCES),
        "chosen_supplier": suppliers[0],
        "total": total,
        "items": [{"name": name, "category": category, "quantity": quantity, "unit_price": unit_price}],
        "quotations": quotations,
    }


def matters_seed(*, count: int, collectives: list[Organization]) -> list[tuple[Matter, Scenario]]:
    """Create ``count`` asset purchases spread over every stop of the spine, each through the services."""
    casts = [cast_for(collective) for collective in collectives]
    # Reproducible on a fresh database, yet a second run does not repeat the first one's purchases.
    seed = Matter.objects.count()
    results = []
    for index in range(count):
        scenario = SCENARIOS[index % len(SCENARIOS)]
        cast = casts[index % len(casts)]
        version = rule_version_in_force(county=cast.collective.county, on_date=timezone.localdate())
        bands = bands_reaching(version, scenario.stop_at)
        if not bands:
            raise ValueError(f"No asset purchase band of {version} has the step {scenario.stop_at}.")
        rng = random.Random(f"matter-{seed + index}")
        # One transaction per matter: SQLite commits once instead of at every history row.
        with transaction.atomic():
            matter = _play(cast, scenario, bands[index % len(bands)], version, rng)
        results.append((matter, scenario))
    return results


def bands_reaching(version: RuleVersion, step: str) -> list[RuleBand]:
    """The asset purchase bands, smallest first, whose path passes through ``step``."""
    bands = version.bands.filter(transaction_type=TransactionType.ASSET_PURCHASE).order_by("min_amount")
    return [band for band in bands if step == END or step in path_for_band(band)]


def _play(cast: Cast, scenario: Scenario, band: RuleBand, version: RuleVersion, rng: random.Random) -> Matter:
    data = purchase_data(rng, band, quotation_threshold=version.quotation_threshold)
    # Every demo application carries its own quotation sheet, as the county asks from its evidence amount.
    serial = f"{cast.collective.code}-{Matter.objects.count()}"
    matter = matter_apply(
        user=cast.secretary,
        organization=cast.collective,
        transaction_type=TransactionType.ASSET_PURCHASE,
        data=data,
        uploads=[scanned_quotation(data["title"], serial=serial)],
    )
    _drive(matter, cast, scenario.stop_at, rng)
    if scenario.ending:
        ENDINGS[scenario.ending](matter, cast, rng)
    matter.refresh_from_db()
    return matter


def _drive(matter: Matter, cast: Cast, stop_at: str, rng: random.Random) -> None:
    if stop_at != END and stop_at not in matter.required_steps:
        raise ValueError(f"{matter.title}: its band has no step {stop_at}.")
    for _step in range(len(matter.required_steps) + 1):
        matter.refresh_from_db()
        if matter.next_step == stop_at or not matter.is_open:
            return
        _take_next_step(matter, cast, rng)
    raise RuntimeError(f"{matter.title} did not reach {stop_at}; it is at {matter.next_step}.")


def _take_next_step(matter: Matter, cast: Cast, rng: random.Random) -> None:
    step = matter.next_step
    if step in MEETING_STEPS or step == Step.RESOLVE_BY_MEMBERS:
        _hold_meeting(matter, cast, rng, passing=True)
    elif step in NOTICE_KINDS:
        if step == Step.PUBLISH_RESOLUTION and rng.random() < HANDLED_OBJECTION_SHARE:
            objection = _object(matter, cast, rng)
            objection_handle(
                user=cast.supervisor,
                objection_id=objection.pk,
                handling="经村务监督委员会核实，三家报价均为书面报价并已存档，已当面向异议人解释，异议人表示认可。",
            )
        _let_publication_period_pass(matter, step)
    elif step == Step.PROPOSE:
        _perform(matter, step, cast.secretary, Decision.AGREE, "经村党组织研究，同意提交村“两委”会议商议。")
    elif step == Step.CHECK_BY_TOWNSHIP:
        _perform(matter, step, cast.officer, Decision.AGREE, "经初审，申请材料齐全，询价程序符合规定。")
    elif step == Step.APPROVE_BY_TOWNSHIP:
        _perform(matter, step, cast.leader, Decision.AGREE, "同意。请严格按批复实施并及时公开结果。")
    elif step == Step.IMPLEMENT:
        supplier = matter.asset_purchase.chosen_supplier
        _perform(
            matter,
            step,
            cast.cashier,
            Decision.DONE,
            f"已与{supplier}签订采购合同，货款经对公账户支付，资产已验收入账。",
        )
    elif step == Step.APPLY:
        _revise(matter, cast)
    else:
        raise RuntimeError(f"{matter.title}: no demo action for step {step}.")


def _perform(matter: Matter, step: str, user, decision: str, opinion: str, **extra) -> None:
    task = active_task(matter, step)
    if task is None:
        raise RuntimeError(f"{matter.title}: no open task at {step}.")
    task_take(user=user, task_id=task.pk)
    step_perform(user=user, task_id=task.pk, decision=decision, opinion=opinion, **extra)


def _revise(matter: Matter, cast: Cast) -> None:
    data = matter.process.flow_class.instance.application_data(matter)
    data["reason"] += "（已按乡镇意见补充询价材料）"
    _perform(matter, Step.APPLY, cast.secretary, Decision.SUBMIT, "已按意见修改，重新提交。", data=data)


def announce_meeting(matter: Matter, cast: Cast, body: str) -> None:
    """Post the notice of the meeting on the public board, as if its notice days had passed (a 成员大会: 10).

    The demo lets the days pass by moving the notice's dates into the past, saved (the log covers notices)."""
    days = MeetingRule.objects.get(rule_version=matter.rule_version, body=body).notice_days
    if not days:
        return
    today = timezone.localdate()
    notice = meeting_notice_post(
        user=cast.supervisor,
        organization=matter.organization,
        body=body,
        meets_at=timezone.make_aware(
            datetime.datetime.combine(today + datetime.timedelta(days=days), datetime.time(23, 0))
        ),
        place="村委会会议室",
        agenda=f"审议：{matter.title}（{matter.amount}元）",
        matters=[matter],
    )
    notice.posted_at -= datetime.timedelta(days=days)
    notice.meets_at -= datetime.timedelta(days=days)
    notice.save(update_fields=["posted_at", "meets_at"])


def _hold_meeting(matter: Matter, cast: Cast, rng: random.Random, *, passing: bool) -> None:
    body = MEETING_STEPS.get(matter.next_step, matter.member_body)
    held_on = timezone.localdate()
    announce_meeting(matter, cast, body)
    roster = meeting_roster(organization=matter.organization, body=body, on_date=held_on)
    # Five in six attend: above every default quorum (more than half, two thirds).
    attending = rng.sample(roster, len(roster) - len(roster) // 6)
    present = len(attending)
    if passing:
        against = 1 if present >= 5 else 0
        abstain = 1 if present >= 8 else 0
        votes_for = present - against - abstain
    else:
        # One vote short of the body's pass rule: at a members' assembly that is a majority of those present
        # still under 2/3 of all members (农村集体经济组织法 art. 27), and the record says so.
        rule = MeetingRule.objects.get(rule_version=matter.rule_version, body=body)
        votes_for, abstain = rule.passing.needed(len(roster) if rule.pass_of_expected else present) - 1, 0
        against = present - votes_for
    # The secretary chairs the branch and the two committees; the supervisor chairs the members.
    chair = cast.secretary if body in MEETING_STEPS.values() else cast.supervisor
    meeting_record(
        user=cast.supervisor,
        organization=matter.organization,
        body=body,
        held_on=held_on,
        place="村委会会议室",
        chair=display_name(chair),
        minutes=(
            f"议题：{matter.title}（预算{matter.amount}元）。应到{len(roster)}人，实到{present}人。"
            f"经讨论，举手表决：同意{votes_for}票，反对{against}票，弃权{abstain}票。"
        ),
        attendee_ids=[member.pk for member in attending],
        votes=[VoteInput(matter=matter, votes_for=votes_for, votes_against=against, votes_abstain=abstain)],
    )


def _open_notice(matter: Matter, step: str) -> Notice:
    return matter.notices.filter(kind=NOTICE_KINDS[step], closed_at__isnull=True).latest("pk")


def _let_publication_period_pass(matter: Matter, step: str) -> None:
    notice = _open_notice(matter, step)
    # A notice stays up for days. The demo lets that time pass by moving the end of the period
    # into the past, then calls the same service the scheduled Celery task would call.
    # Saved, not updated behind the log's back: the tamper-evident log covers notices.
    notice.ends_at = timezone.now() - datetime.timedelta(seconds=1)
    notice.save(update_fields=["ends_at"])
    publication_try_close(notice_id=notice.pk)


def _object(matter: Matter, cast: Cast, rng: random.Random):
    notice = _open_notice(matter, Step.PUBLISH_RESOLUTION)
    villager = rng.choice(list(Member.objects.filter(organization=matter.organization)))
    return objection_submit(
        notice=notice,
        name=villager.name,
        phone=f"13{rng.randrange(10**9):09d}",
        text="所购物品报价明显高于市场价，请公开询价过程和供应商报价单。",
        client_key=client_key_for(f"demo-objection-{notice.pk}"),
    )


def _end_held_by_objection(matter: Matter, cast: Cast, rng: random.Random) -> None:
    _object(matter, cast, rng)
    # The period runs out while the objection is open: the matter stays held until the supervisor answers.
    _let_publication_period_pass(matter, Step.PUBLISH_RESOLUTION)


def _end_officer_returns(matter: Matter, cast: Cast, rng: random.Random) -> None:
    _perform(
        matter,
        Step.CHECK_BY_TOWNSHIP,
        cast.officer,
        Decision.RETURN,
        "询价材料不完整，请补充供应商盖章报价单后重新提交。",
        return_to=Step.APPLY,
    )


def _end_leader_returns(matter: Matter, cast: Cast, rng: random.Random) -> None:
    _perform(
        matter,
        Step.APPROVE_BY_TOWNSHIP,
        cast.leader,
        Decision.RETURN,
        "会议记录未写明资金来源，请村“两委”重新商议。",
        return_to=Step.DELIBERATE,
    )


def _end_fail_vote(matter: Matter, cast: Cast, rng: random.Random) -> None:
    _hold_meeting(matter, cast, rng, passing=False)


def _end_return_and_revise(matter: Matter, cast: Cast, rng: random.Random) -> None:
    _end_officer_returns(matter, cast, rng)
    matter.refresh_from_db()
    _revise(matter, cast)


def _end_withdraw(matter: Matter, cast: Cast, rng: random.Random) -> None:
    matter_withdraw(user=cast.secretary, matter_id=matter.pk, reason="村“两委”研究决定暂缓购置，撤回申请。")


def _end_leader_rejects(matter: Matter, cast: Cast, rng: random.Random) -> None:
    _perform(
        matter,
        Step.APPROVE_BY_TOWNSHIP,
        cast.leader,
        Decision.REJECT,
        "该项支出未列入本年度集体经济预算，不予批准。",
    )


ENDINGS = {
    "object": _end_held_by_objection,
    "officer_returns": _end_officer_returns,
    "leader_returns": _end_leader_returns,
    "fail_vote": _end_fail_vote,
    "return_and_revise": _end_return_and_revise,
    "withdraw": _end_withdraw,
    "leader_rejects": _end_leader_rejects,
}


def matters_summary(matters: list[Matter]) -> list[tuple[str, str, int]]:
    """(status, next step, how many), in spine order."""
    counts = Counter((matter.status, matter.next_step) for matter in matters)
    order = {step: position for position, step in enumerate([*Step, END])}
    statuses = list(MatterStatus)
    return [
        (status, step, count)
        for (status, step), count in sorted(
            counts.items(), key=lambda item: (statuses.index(item[0][0]), order.get(item[0][1], 99))
        )
    ]


def demo_matter_for_the_leader(*, village_code: str = "DH02") -> Matter:
    """A purchase waiting for the township officer whose band also needs the leader's approval.

    With the leader's inbox open, the officer agreeing on it makes a new task arrive live. Kept
    when one such matter already waits, so a second ``make demo`` adds nothing.
    """
    collective = demo_collectives(village_code=village_code)[0]
    waiting = Matter.objects.filter(
        organization=collective, status=MatterStatus.IN_PROGRESS, next_step=Step.CHECK_BY_TOWNSHIP
    )
    for matter in waiting:
        if Step.APPROVE_BY_TOWNSHIP in matter.required_steps:
            return matter
    version = rule_version_in_force(county=collective.county, on_date=timezone.localdate())
    band = bands_reaching(version, Step.APPROVE_BY_TOWNSHIP)[0]
    scenario = Scenario("waiting for the township officer, then the leader", Step.CHECK_BY_TOWNSHIP)
    with transaction.atomic():
        return _play(cast_for(collective), scenario, band, version, random.Random("leader-demo"))
