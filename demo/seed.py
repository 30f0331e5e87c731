"""The demo county: its places, people and registers (members, assets, funds, resources, contracts, shares),
and matters driven through the real services.

Used by ``seed_demo`` and ``seed_matters`` (``make demo``). Places, people and registers are
keyed on codes, usernames and ID numbers and generated from fixed seeds, so a second run finds
what the first one made instead of doubling it.
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
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from flows.models import END, Decision, Matter, MatterStatus, Notice, NoticeKind, PaymentFrequency, Step
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
from registers.contracts import contract_create, contract_total, payment_schedule
from registers.funds import income_record
from registers.identity import check_character
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
    MembershipBasis,
    MemberStatus,
    Resource,
    ResourceKind,
    ShareCertificate,
    ShareKind,
    ShareLedgerEntry,
    ShareReason,
)
from registers.selectors import id_number_index
from registers.shares import certificates_reissue, shares_allocate

from .scans import scanned_quotation

# Meets the password policy (10 characters, at least three kinds, not the username).
DEFAULT_PASSWORD = "Sanzi@2026"
RULES_EFFECTIVE_FROM = datetime.date(2026, 1, 1)
# From this amount the demo county asks for an application file (RuleVersion.evidence_threshold).
DEMO_EVIDENCE_THRESHOLD = Decimal("20000.00")

# --- places -------------------------------------------------------------------------

COUNTY_CODE, COUNTY_NAME = "DEMO", "示范县"
TOWNSHIPS = [("DH", "东湖镇"), ("XS", "西山乡")]
# (code, name, township code)
VILLAGES = [("DH01", "东湖村", "DH"), ("DH02", "柳树沟村", "DH"), ("XS01", "石门村", "XS")]
COLLECTIVE_SUFFIX = "-JJ"

# --- people -------------------------------------------------------------------------

# (username, role, organisation code, surname, given name)
USERS = [
    ("sec_dh01", Role.VILLAGE_SECRETARY, "DH01", "王", "建国"),
    ("cashier_dh01", Role.VILLAGE_CASHIER, "DH01", "李", "秀梅"),
    ("sup_dh01", Role.VILLAGE_SUPERVISOR, "DH01", "张", "德胜"),
    ("sec_dh02", Role.VILLAGE_SECRETARY, "DH02", "刘", "志刚"),
    ("cashier_dh02", Role.VILLAGE_CASHIER, "DH02", "赵", "春燕"),
    ("sup_dh02", Role.VILLAGE_SUPERVISOR, "DH02", "郭", "振华"),
    ("sec_xs01", Role.VILLAGE_SECRETARY, "XS01", "杨", "海军"),
    ("cashier_xs01", Role.VILLAGE_CASHIER, "XS01", "武", "丽娟"),
    ("sup_xs01", Role.VILLAGE_SUPERVISOR, "XS01", "贾", "福生"),
    ("officer_dh", Role.TOWNSHIP_OFFICER, "DH", "田", "晓东"),
    ("leader_dh", Role.TOWNSHIP_LEADER, "DH", "韩", "文斌"),
    # A second holder of the township leader's post: leader_dh hands tasks to her while away (委托).
    ("leader2_dh", Role.TOWNSHIP_LEADER, "DH", "蒋", "丽华"),
    ("officer_xs", Role.TOWNSHIP_OFFICER, "XS", "任", "慧敏"),
    ("leader_xs", Role.TOWNSHIP_LEADER, "XS", "梁", "宏伟"),
    ("county_admin", Role.COUNTY_ADMIN, COUNTY_CODE, "薛", "明轩"),
    ("inspector", Role.DISCIPLINE_INSPECTOR, COUNTY_CODE, "孟", "雪梅"),
    # The three administrators (三员分立), each on an account of its own.
    ("sysadmin", Role.SYSTEM_ADMIN, COUNTY_CODE, "阎", "志强"),
    ("secadmin", Role.SECURITY_ADMIN, COUNTY_CODE, "乔", "丽华"),
    ("auditadmin", Role.AUDIT_ADMIN, COUNTY_CODE, "温", "建华"),
]
SUPERUSER = ("admin", "冯", "国强")

# --- the levels above and beside the county (five levels) -----------------------------

# The city above the demo county, and a second county of the city with one township and one village;
# its rule table is the city's (it keeps none of its own), the demo county keeps its own.
CITY_CODE, CITY_NAME = "DEMO-SHI", "示范市"
SECOND_COUNTY_CODE, SECOND_COUNTY_NAME = "DEMO2", "北岭县"
SECOND_TOWNSHIP = ("BL", "北岭镇")
SECOND_VILLAGE = ("BL01", "北庄村")
CITY_SMALL_UP_TO = Decimal("50000")
SECOND_VILLAGE_NUMBER = 4  # after the demo county's three: keeps ID and account numbers apart
LEVEL_USERS = [
    ("city_admin", Role.COUNTY_ADMIN, CITY_CODE, "庞", "立新"),
    ("city_inspector", Role.DISCIPLINE_INSPECTOR, CITY_CODE, "姚", "文静"),
    ("county2_admin", Role.COUNTY_ADMIN, SECOND_COUNTY_CODE, "常", "浩"),
    ("sec_bl01", Role.VILLAGE_SECRETARY, "BL01", "侯", "建军"),
    ("cashier_bl01", Role.VILLAGE_CASHIER, "BL01", "邢", "秀兰"),
    ("sup_bl01", Role.VILLAGE_SUPERVISOR, "BL01", "范", "德明"),
    ("officer_bl", Role.TOWNSHIP_OFFICER, "BL", "段", "晓光"),
    ("leader_bl", Role.TOWNSHIP_LEADER, "BL", "雷", "振国"),
]

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

# --- members ------------------------------------------------------------------------

REGION_CODE = "140123"
# 14 households, 40 people.
HOUSEHOLD_SIZES = (4, 3, 2, 4, 3, 3, 2, 3, 4, 2, 3, 2, 3, 2)
MEMBERS_JOINED_ON = datetime.date(2020, 6, 30)  # the membership confirmation of the 2020 reform
COMMITTEE_SIZE, PARTY_MEMBERS, REPRESENTATIVES = 5, 9, 9
SURNAMES = "王李张刘赵郭杨武贾田韩任梁薛阎乔温冯孟牛"
GIVEN_NAMES = {
    # (male, born before 1985): the names of each generation differ.
    (True, True): ["建国", "志刚", "国强", "海军", "永明", "振华", "德胜", "福生", "保平", "金柱", "满仓", "增田"],
    (False, True): ["秀英", "桂兰", "玉梅", "翠花", "凤英", "改莲", "月娥", "秀珍", "素芳", "爱琴"],
    (True, False): ["俊杰", "宏伟", "文斌", "晓东", "子轩", "浩然", "宇航", "明轩", "博文", "嘉豪"],
    (False, False): ["春燕", "丽娟", "晓红", "艳芳", "欣怡", "梓涵", "雨桐", "佳琪", "慧敏", "思雨"],
}

# --- assets -------------------------------------------------------------------------

# (name, category, quantity, unit price, acquired on, status)
ASSETS = [
    ("村集体办公楼", "房屋及建筑物", 1, "680000.00", datetime.date(2012, 5, 20), AssetStatus.IN_USE),
    ("农用拖拉机", "机器设备", 1, "86000.00", datetime.date(2018, 3, 15), AssetStatus.IN_USE),
    ("灌溉水泵", "机器设备", 4, "9800.00", datetime.date(2020, 4, 2), AssetStatus.IN_USE),
    ("办公电脑", "办公设备", 3, "4200.00", datetime.date(2021, 9, 10), AssetStatus.IN_USE),
    ("旧粮食仓库", "房屋及建筑物", 1, "120000.00", datetime.date(2005, 10, 1), AssetStatus.IDLE),
    # Leased out below (LEASED_ASSET), so the registers show a lease contract from the start.
    ("临街门面房", "房屋及建筑物", 1, "260000.00", datetime.date(2015, 8, 1), AssetStatus.IDLE),
]

# --- funds --------------------------------------------------------------------------

BANK_ACCOUNT_NAME, CASH_ACCOUNT_NAME = "农商银行基本存款账户", "库存现金"
BANK_OPENING_RANGE = (300000, 800000)
CASH_OPENING = Decimal("8000.00")
# Income that came in before the demo starts: (account kind, date, payer, purpose, amount range in yuan).
INCOMES = [
    (AccountKind.BANK, datetime.date(2025, 1, 20), "阳曲县财政局", "村级组织运转经费", (30000, 60000)),
    (AccountKind.BANK, datetime.date(2026, 3, 16), "阳曲县农业农村局", "村集体经济发展扶持资金", (50000, 150000)),
    (AccountKind.CASH, datetime.date(2026, 5, 8), "村民", "集体场地临时占用费", (500, 1500)),
]

# --- resources and contracts ----------------------------------------------------------

# (name, kind, location, area in 亩); each collective's areas vary a little around these.
RESOURCES = [
    ("东坡耕地", ResourceKind.CULTIVATED, "村东坡，南至机耕路", "126.50"),
    ("河滩耕地", ResourceKind.CULTIVATED, "河东岸滩地", "48.00"),
    ("北山集体林地", ResourceKind.FOREST, "村北山坡", "320.00"),
    ("村南鱼塘", ResourceKind.WATER, "村南水库下游", "22.80"),
    ("西沟荒地", ResourceKind.WASTELAND, "西沟沟坡", "65.30"),
]
# The first resource is already contracted out, the last asset already leased: (start, end, fee per 亩 or rent).
CONTRACTED_RESOURCE, CONTRACTING_TERM, FEE_PER_MU = 1, (datetime.date(2024, 1, 1), datetime.date(2028, 12, 31)), 600
LEASED_ASSET, LEASE_TERM, ANNUAL_RENT = len(ASSETS), (datetime.date(2025, 3, 1), datetime.date(2028, 2, 29)), 21600
# Instalments due up to this day were paid (each an income on the bank account); later ones are still open.
PAID_UNTIL = datetime.date(2026, 3, 31)

# --- shares -------------------------------------------------------------------------

# Members 18 or older on this day got shares in the demo's initial allocation (配股).
SHARES_ADULT_ON = datetime.date(2026, 1, 1)
POPULATION_SHARES = 1
# Labour-age shares (劳龄股) by year of birth: the longer someone has worked for the collective, the more.
LABOUR_AGE_SHARES = [(1960, 3), (1980, 2), (9999, 1)]


def collective_code(village_code: str) -> str:
    return f"{village_code}{COLLECTIVE_SUFFIX}"


@dataclass
class SeedReport:
    created: Counter = field(default_factory=Counter)
    kept: Counter = field(default_factory=Counter)

    def count(self, kind: str, created: bool) -> None:
        (self.created if created else self.kept)[kind] += 1


@transaction.atomic
def demo_seed(*, password: str = DEFAULT_PASSWORD) -> SeedReport:
    """Create whatever part of the demo county is missing; existing rows are left as they are."""
    report = SeedReport()
    places = _seed_places(report)
    if not RuleVersion.objects.filter(county=places[COUNTY_CODE]).exists():
        version = rule_version_seed_defaults(county=places[COUNTY_CODE], effective_from=RULES_EFFECTIVE_FROM)
        # The demo county asks for an application file from this amount (the approval page confirms without one).
        version.evidence_threshold = DEMO_EVIDENCE_THRESHOLD
        version.save(update_fields=["evidence_threshold"])
        report.count("rule versions", True)
    else:
        report.count("rule versions", False)
    _seed_users(report, places, password)
    _seed_levels(report, places, password)
    for number, (village_code, _name, _township) in enumerate(VILLAGES, start=1):
        collective = places[collective_code(village_code)]
        _seed_members(report, collective, village_number=number)
        _seed_assets(report, collective)
        bank = _seed_accounts(report, collective, village_number=number)
        _seed_resources(report, collective)
        _seed_contracts(report, collective, bank, village_number=number)
        _seed_shares(report, collective)
    return report


def _place(report: SeedReport, code: str, name: str, kind: str, parent: Organization | None) -> Organization:
    organization, created = Organization.objects.get_or_create(
        code=code, defaults={"name": name, "kind": kind, "parent": parent}
    )
    report.count("organisations", created)
    return organization


def _seed_places(report: SeedReport) -> dict[str, Organization]:
    places = {COUNTY_CODE: _place(report, COUNTY_CODE, COUNTY_NAME, OrganizationKind.COUNTY, None)}
    for code, name in TOWNSHIPS:
        places[code] = _place(report, code, name, OrganizationKind.TOWNSHIP, places[COUNTY_CODE])
    for code, name, township in VILLAGES:
        village = places[code] = _place(report, code, name, OrganizationKind.VILLAGE, places[township])
        places[collective_code(code)] = _place(
            report, collective_code(code), f"{name}股份经济合作社", OrganizationKind.COLLECTIVE, village
        )
    return places


def _user(report: SeedReport, username: str, surname: str, given_name: str, password_hash: str):
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"last_name": surname, "first_name": given_name, "password": password_hash}
    )
    report.count("users", created)
    return user


def _seed_users(report: SeedReport, places: dict[str, Organization], password: str) -> None:
    # One hash for every new demo user: each takes about a second to compute, and they share the password anyway.
    usernames = [row[0] for row in USERS] + [SUPERUSER[0]]
    missing = get_user_model().objects.filter(username__in=usernames).count() < len(usernames)
    password_hash = make_password(password) if missing else ""
    for username, role, code, surname, given_name in USERS:
        user = _user(report, username, surname, given_name, password_hash)
        _post, created = Post.objects.get_or_create(user=user, organization=places[code], role=role)
        report.count("posts", created)
        if user.is_staff and not user.is_superuser:
            # Demos seeded before the Django admin became the maintenance superuser's alone gave staff out.
            user.is_staff = False
            user.save(update_fields=["is_staff"])
    username, surname, given_name = SUPERUSER
    superuser = _user(report, username, surname, given_name, password_hash)
    if not (superuser.is_staff and superuser.is_superuser):
        superuser.is_staff = superuser.is_superuser = True
        superuser.save(update_fields=["is_staff", "is_superuser"])


def _seed_levels(report: SeedReport, places: dict[str, Organization], password: str) -> None:
    """The city above the demo county (its rule table the floor), a second county with a township and a village."""
    city = places[CITY_CODE] = _place(report, CITY_CODE, CITY_NAME, OrganizationKind.CITY, None)
    county = places[COUNTY_CODE]
    if county.parent_id != city.pk:
        # A demo seeded before the city existed: the county (and everything below it) moves under it.
        county.parent = city
        county.save()
        for code, place in places.items():
            if code != CITY_CODE:
                place.refresh_from_db()
    second = places[SECOND_COUNTY_CODE] = _place(
        report, SECOND_COUNTY_CODE, SECOND_COUNTY_NAME, OrganizationKind.COUNTY, city
    )
    township_code, township_name = SECOND_TOWNSHIP
    township = places[township_code] = _place(report, township_code, township_name, OrganizationKind.TOWNSHIP, second)
    village_code, village_name = SECOND_VILLAGE
    village = places[village_code] = _place(report, village_code, village_name, OrganizationKind.VILLAGE, township)
    collective = places[collective_code(village_code)] = _place(
        report, collective_code(village_code), f"{village_name}股份经济合作社", OrganizationKind.COLLECTIVE, village
    )
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
    missing = get_user_model().objects.filter(username__in=[row[0] for row in LEVEL_USERS]).count() < len(LEVEL_USERS)
    password_hash = make_password(password) if missing else ""
    for username, role, code, surname, given_name in LEVEL_USERS:
        user = _user(report, username, surname, given_name, password_hash)
        _post, created = Post.objects.get_or_create(user=user, organization=places[code], role=role)
        report.count("posts", created)
    # Members only: the early warnings of the demo (cash over the limit, idle assets) stay in the demo county.
    _seed_members(report, collective, village_number=SECOND_VILLAGE_NUMBER)


def demo_members(*, village_number: int, seed: str) -> list[Member]:
    """Unsaved members of one collective: households of two or three generations, flags on adults."""
    rng = random.Random(seed)
    members = []
    used_names = set()
    for size in HOUSEHOLD_SIZES:
        surname = rng.choice(SURNAMES)
        head_year = rng.randint(1950, 1985)
        people = [(surname, True, head_year, MembershipBasis.ORIGINAL)]
        spouse_surname = rng.choice(SURNAMES.replace(surname, ""))
        people.append((spouse_surname, False, head_year + rng.randint(-3, 4), MembershipBasis.MARRIAGE))
        for _child in range(size - 2):
            earliest = min(head_year + 22, 2010)
            people.append((surname, rng.random() < 0.5, rng.randint(earliest, 2010), MembershipBasis.ORIGINAL))
        if size >= 3 and head_year < 1970:
            # Three generations: the youngest is a grandchild, often still a minor (not on the assembly roster).
            people[-1] = (surname, rng.random() < 0.5, rng.randint(2006, 2010), MembershipBasis.ORIGINAL)
        household = ""
        for person_surname, male, year, basis in people:
            name = _unique_name(rng, used_names, person_surname, male, year)
            household = household or f"{name}户"
            born = datetime.date(year, 1, 1) + datetime.timedelta(days=rng.randrange(365))
            # The 17th digit is odd for men and even for women (GB 11643).
            sequence = f"{village_number}{2 * len(members) + int(male):02d}"
            first_seventeen = f"{REGION_CODE}{born:%Y%m%d}{sequence}"
            members.append(
                Member(
                    name=name,
                    id_number=first_seventeen + check_character(first_seventeen),
                    household=household,
                    basis=basis,
                    joined_on=MEMBERS_JOINED_ON,
                )
            )
    _assign_flags(rng, members)
    return members


def _unique_name(rng: random.Random, used: set[str], surname: str, male: bool, year: int) -> str:
    names = GIVEN_NAMES[(male, year < 1985)]
    for _attempt in range(20):
        name = surname + rng.choice(names)
        if name not in used:
            break
    used.add(name)
    return name


def _assign_flags(rng: random.Random, members: list[Member]) -> None:
    # Committee members, party members and representatives are grown-ups with some standing.
    seniors = [member for member in members if member.birth_date.year <= 1990]
    committee = rng.sample(seniors, COMMITTEE_SIZE)
    for member in committee:
        member.is_committee_member = True
    # Most committee members are party members; the rest of the branch comes from the village.
    party = committee[:3] + rng.sample([m for m in seniors if m not in committee], PARTY_MEMBERS - 3)
    for member in party:
        member.is_party_member = True
    for member in rng.sample(seniors, REPRESENTATIVES):
        member.is_representative = True


def _seed_members(report: SeedReport, collective: Organization, *, village_number: int) -> None:
    existing = set(Member.objects.filter(organization=collective).values_list("id_number_index", flat=True))
    for member in demo_members(village_number=village_number, seed=f"members-{collective.code}"):
        created = id_number_index(member.id_number) not in existing
        if created:
            member.organization = collective
            member.full_clean()
            member.save()
        report.count("members", created)


def _seed_assets(report: SeedReport, collective: Organization) -> None:
    for number, (name, category, quantity, unit_price, acquired_on, status) in enumerate(ASSETS, start=1):
        _asset, created = Asset.objects.get_or_create(
            code=asset_code(collective, number),
            defaults={
                "organization": collective,
                "name": name,
                "category": category,
                "quantity": quantity,
                "unit_price": Decimal(unit_price),
                "original_value": Decimal(unit_price) * quantity,
                "acquired_on": acquired_on,
                "status": status,
            },
        )
        report.count("assets", created)


def _seed_accounts(report: SeedReport, collective: Organization, *, village_number: int) -> FundAccount:
    """A bank account and the cash box, each with the income recorded before the demo starts; returns the bank."""
    rng = random.Random(f"accounts-{collective.code}")
    opening = Decimal(rng.randrange(BANK_OPENING_RANGE[0], BANK_OPENING_RANGE[1] + 1, 100)).quantize(Decimal("0.01"))
    accounts = {
        AccountKind.BANK: _account(
            report,
            collective,
            BANK_ACCOUNT_NAME,
            kind=AccountKind.BANK,
            account_number=f"1401230{village_number:02d}{rng.randrange(10**10):010d}",
            opening_balance=opening,
        ),
        AccountKind.CASH: _account(
            report,
            collective,
            CASH_ACCOUNT_NAME,
            kind=AccountKind.CASH,
            account_number="",
            opening_balance=CASH_OPENING,
        ),
    }
    for kind, occurred_on, payer, purpose, (low, high) in INCOMES:
        amount = Decimal(rng.randrange(low, high + 1, 100)).quantize(Decimal("0.01"))
        _income(report, accounts[kind], amount=amount, occurred_on=occurred_on, counterparty=payer, purpose=purpose)
    return accounts[AccountKind.BANK]


def _account(report: SeedReport, collective: Organization, name: str, **fields) -> FundAccount:
    account = FundAccount.objects.filter(organization=collective, name=name).first()
    report.count("fund accounts", account is None)
    if account is None:
        account = FundAccount(organization=collective, name=name, **fields)
        account.full_clean()
        account.save()
    return account


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


def _seed_resources(report: SeedReport, collective: Organization) -> None:
    rng = random.Random(f"resources-{collective.code}")
    for number, (name, kind, location, area) in enumerate(RESOURCES, start=1):
        scaled = (Decimal(area) * Decimal(rng.randrange(80, 121)) / 100).quantize(Decimal("0.01"))
        _resource, created = Resource.objects.get_or_create(
            code=resource_code(collective, number),
            defaults={"organization": collective, "name": name, "kind": kind, "location": location, "area_mu": scaled},
        )
        report.count("resources", created)


def resource_code(collective: Organization, number: int) -> str:
    return f"{collective.code}-ZY{number:05d}"


def asset_code(collective: Organization, number: int) -> str:
    return f"{collective.code}-ZC{number:05d}"


def _seed_contracts(report: SeedReport, collective: Organization, bank: FundAccount, *, village_number: int) -> None:
    """One resource contracted and one asset leased through the contract register, past instalments paid."""
    place = collective.parent.name.removesuffix("村") if collective.parent_id else collective.name
    resource = Resource.objects.get(code=resource_code(collective, CONTRACTED_RESOURCE))
    start, end = CONTRACTING_TERM
    _contract(
        report,
        bank,
        kind=ContractKind.CONTRACTING,
        subject={"resource": resource},
        counterparty=f"{place}丰收种植专业合作社",
        start_date=start,
        end_date=end,
        annual_amount=(resource.area_mu * FEE_PER_MU).quantize(Decimal("0.01")),
        trading_reference=f"SXNCJY-2023-{village_number:02d}017",
        purpose=f"{resource.name}承包费",
    )
    asset = Asset.objects.get(code=asset_code(collective, LEASED_ASSET))
    start, end = LEASE_TERM
    _contract(
        report,
        bank,
        kind=ContractKind.LEASE,
        subject={"asset": asset},
        counterparty=f"{place}惠民超市",
        start_date=start,
        end_date=end,
        annual_amount=Decimal(ANNUAL_RENT),
        trading_reference=f"SXNCJY-2025-{village_number:02d}003",
        purpose=f"{asset.name}租金",
    )


def _contract(
    report: SeedReport,
    bank: FundAccount,
    *,
    kind: str,
    subject: dict,
    start_date: datetime.date,
    end_date: datetime.date,
    annual_amount: Decimal,
    purpose: str,
    **fields,
) -> Contract:
    # Keyed on the subject: the resource or asset has its demo contract already, whatever its number.
    contract = Contract.objects.filter(kind=kind, **subject).first()
    report.count("contracts", contract is None)
    if contract is None:
        schedule = payment_schedule(start_date, end_date, annual_amount, PaymentFrequency.YEARLY)
        contract = contract_create(
            organization=bank.organization,
            kind=kind,
            start_date=start_date,
            end_date=end_date,
            amount=contract_total(start_date=start_date, end_date=end_date, annual_amount=annual_amount),
            schedule=schedule,
            **subject,
            **fields,
        )
    for number, payment in enumerate(contract.payments.order_by("due_on"), start=1):
        if payment.due_on > PAID_UNTIL:
            continue
        if payment.paid_on is not None:
            report.count("fund movements", False)
        else:
            _income(
                report,
                bank,
                amount=payment.amount,
                occurred_on=payment.due_on,
                counterparty=contract.counterparty,
                purpose=f"{purpose}（合同{contract.code}第{number}期）",
            )
            payment.paid_on = payment.due_on
            payment.save(update_fields=["paid_on"])
    return contract


def labour_age_shares(member: Member) -> int:
    return next(shares for born_before, shares in LABOUR_AGE_SHARES if member.birth_date.year < born_before)


def _adult(member: Member) -> bool:
    return member.birth_date <= SHARES_ADULT_ON.replace(year=SHARES_ADULT_ON.year - 18)


def _seed_shares(report: SeedReport, collective: Organization) -> None:
    """The initial allocation to every active adult member, then a certificate for each holder without one."""
    allocated = set(
        ShareLedgerEntry.objects.filter(organization=collective, reason=ShareReason.ALLOCATION).values_list(
            "member_id", flat=True
        )
    )
    members = Member.objects.filter(organization=collective, status=MemberStatus.ACTIVE).order_by("pk")
    for member in members:
        if not _adult(member):
            continue
        created = member.pk not in allocated
        if created:
            shares_allocate(member=member, kind=ShareKind.POPULATION, shares=POPULATION_SHARES)
            shares_allocate(member=member, kind=ShareKind.LABOUR_AGE, shares=labour_age_shares(member))
        report.count("share allocations", created)
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
    order = {role: position for position, (_u, role, *_rest) in enumerate(USERS + LEVEL_USERS)}
    posts = Post.objects.filter(organization__path__startswith=top.path).select_related("user", "organization")
    above_townships = (OrganizationKind.PROVINCE, OrganizationKind.CITY, OrganizationKind.COUNTY)
    posts = sorted(
        posts,
        key=lambda post: (
            post.organization.kind in above_townships,
            post.organization.path,
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
