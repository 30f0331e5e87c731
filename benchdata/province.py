"""A province for the list benchmarks: counties × townships × villages, each village's collective with its
member roll and its matters, written in bulk from templates the real services made.

    generate(size="small")   # 2 × 2 × 3 villages, one copy of the template matters per collective
    generate(size="full")    # 20 × 10 × 20 villages, about a million matters

The tree, its people and their posts are plain rows (bulk_create; Organization.path is set as its save()
would). The first collective is the template place: its member roll is made by the demo seed's service
(benchdata.members, which made the demo's) and one matter per demo scenario by demo.seed.matters_seed, which drives each
through flows.services exactly as the pages do (tasks, step records, evidence, meetings, notices,
objections, notifications, history and ledger leaves). benchdata.cloning then copies those rows to every
other collective. tests/listing/test_province.py compares a copy with its template row by row.
"""

import datetime
import math
import time
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from demo.seed import SCENARIOS, matters_seed
from flows.models import Matter
from organizations.models import MeetingRule, Organization, OrganizationKind, Post, Role, RuleBand, RuleVersion
from organizations.rules import rule_version_seed_defaults

from .cloning import Cloner, capture, high_water
from .members import members_seed


@dataclass(frozen=True)
class Size:
    counties: int
    townships: int  # per county
    villages: int  # per township
    matters: int  # in the province, about (a whole number of template sets per collective)


SIZES = {
    "small": Size(2, 2, 3, 0),  # one template set per collective
    "medium": Size(2, 5, 10, 20_000),
    "large": Size(4, 5, 10, 100_000),
    "full": Size(20, 10, 20, 1_000_000),
}
RULES_FROM = datetime.date(2025, 1, 1)
VILLAGE_ROLES = (Role.VILLAGE_SECRETARY, Role.VILLAGE_CASHIER, Role.VILLAGE_SUPERVISOR)
TOWNSHIP_ROLES = (Role.TOWNSHIP_OFFICER, Role.TOWNSHIP_LEADER)
COUNTY_ROLES = (Role.COUNTY_ADMIN, Role.DISCIPLINE_INSPECTOR)
PASSWORD = "Sanzi@2026"


@dataclass
class Province:
    counties: list[Organization] = field(default_factory=list)
    townships: list[Organization] = field(default_factory=list)
    villages: list[Organization] = field(default_factory=list)
    collectives: list[Organization] = field(default_factory=list)
    # (organization pk, role) → user pk
    holders: dict[tuple[int, str], int] = field(default_factory=dict)
    template_matters: list[Matter] = field(default_factory=list)
    written: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    copy_seconds: float = 0.0  # of which the bulk copies

    def holder(self, organization: Organization, role: str):
        return get_user_model().objects.get(pk=self.holders[(organization.pk, role)])


def _places(rows: list[Organization]) -> list[Organization]:
    Organization.objects.bulk_create(rows)
    for row in rows:
        row.path = (row.parent.path if row.parent_id else "/") + f"{row.pk}/"
    Organization.objects.bulk_update(rows, ["path"])
    return rows


def _tree(size: Size, province: Province) -> None:
    counties = _places(
        [
            Organization(code=f"P{c:02d}", name=f"第{c + 1}县", kind=OrganizationKind.COUNTY, parent=None)
            for c in range(size.counties)
        ]
    )
    townships = _places(
        [
            Organization(
                code=f"{county.code}T{t:02d}", name=f"{county.name}第{t + 1}镇", kind="township", parent=county
            )
            for county in counties
            for t in range(size.townships)
        ]
    )
    villages = _places(
        [
            Organization(code=f"{town.code}V{v:02d}", name=f"{town.name}第{v + 1}村", kind="village", parent=town)
            for town in townships
            for v in range(size.villages)
        ]
    )
    collectives = _places(
        [
            Organization(
                code=f"{village.code}C", name=f"{village.name}股份经济合作社", kind="collective", parent=village
            )
            for village in villages
        ]
    )
    province.counties, province.townships, province.villages, province.collectives = (
        counties,
        townships,
        villages,
        collectives,
    )


def _people(province: Province) -> None:
    User = get_user_model()
    password = make_password(PASSWORD)
    wanted = [
        *((county, role) for county in province.counties for role in COUNTY_ROLES),
        *((town, role) for town in province.townships for role in TOWNSHIP_ROLES),
        *((village, role) for village in province.villages for role in VILLAGE_ROLES),
    ]
    users = [
        User(username=f"{place.code.lower()}-{role}", last_name="王", first_name=f"{place.code}", password=password)
        for place, role in wanted
    ]
    User.objects.bulk_create(users, batch_size=2000)
    Post.objects.bulk_create(
        [Post(user=user, organization=place, role=role) for user, (place, role) in zip(users, wanted, strict=True)],
        batch_size=2000,
    )
    province.holders = {(place.pk, role): user.pk for user, (place, role) in zip(users, wanted, strict=True)}


def _rule_map(template_county: Organization, county: Organization) -> dict[str, dict]:
    """The template county's rule version, bands and meeting rules → this county's (made alike)."""
    mine = RuleVersion.objects.get(county=template_county)
    theirs = RuleVersion.objects.get(county=county)
    order = ("transaction_type", "min_amount", "pk")
    bands = zip(mine.bands.order_by(*order), theirs.bands.order_by(*order), strict=True)
    meeting = zip(mine.meeting_rules.order_by("body", "pk"), theirs.meeting_rules.order_by("body", "pk"), strict=True)
    return {
        RuleVersion._meta.label: {mine.pk: theirs.pk},
        RuleBand._meta.label: {a.pk: b.pk for a, b in bands},
        MeetingRule._meta.label: {a.pk: b.pk for a, b in meeting},
    }


def _target(province: Province, collective: Organization, rule_maps: dict[int, dict]) -> dict[str, dict]:
    template = province.collectives[0]
    village, town = collective.parent, collective.parent.parent
    places = {
        template.pk: collective.pk,
        template.parent_id: village.pk,
        template.parent.parent_id: town.pk,
        template.parent.parent.parent_id: town.parent_id,
    }
    people = {}
    for old_place, new_place, roles in (
        (template.parent_id, village.pk, VILLAGE_ROLES),
        (template.parent.parent_id, town.pk, TOWNSHIP_ROLES),
        (template.parent.parent.parent_id, town.parent_id, COUNTY_ROLES),
    ):
        for role in roles:
            people[province.holders[(old_place, role)]] = province.holders[(new_place, role)]
    return {Organization._meta.label: places, get_user_model()._meta.label: people, **rule_maps[town.parent_id]}


def generate(size: str | Size = "small", *, matters: int | None = None, chunk: int = 20, log=print) -> Province:
    """Build the province; returns what was made. ``matters`` overrides the size's number of matters."""
    if isinstance(size, str):
        size = SIZES[size]
    started = time.monotonic()
    province = Province()
    with transaction.atomic():
        _tree(size, province)
        _people(province)
        for county in province.counties:
            rule_version_seed_defaults(county=county, effective_from=RULES_FROM)
    template = province.collectives[0]
    # Tie the cached parents together so that _target walks the tree without queries.
    by_pk = {org.pk: org for org in [*province.counties, *province.townships, *province.villages]}
    for org in [*province.townships, *province.villages, *province.collectives]:
        org.parent = by_pk[org.parent_id]
    rule_maps = {county.pk: _rule_map(province.counties[0], county) for county in province.counties}

    # The templates, through the services.
    marks = high_water()
    with transaction.atomic():
        members_seed(template, village_number=1)
    member_rows = capture(marks)
    marks = high_water()
    results = matters_seed(count=len(SCENARIOS), collectives=[template])
    matter_rows = capture(marks)
    province.template_matters = [matter for matter, _scenario in results]
    log(f"templates: {sum(len(r) for r in matter_rows.values())} rows for {len(results)} matters, tables:")
    log("  " + ", ".join(f"{m._meta.db_table} {len(r)}" for m, r in matter_rows.items()))

    others = province.collectives[1:]
    sets_per_collective = max(1, math.ceil(size.matters / (len(SCENARIOS) * len(province.collectives))))
    targets = [_target(province, collective, rule_maps) for collective in others]
    matter_targets = [_target(province, collective, rule_maps) for collective in province.collectives]
    matter_targets = matter_targets * sets_per_collective
    matter_targets = matter_targets[1:]  # the template collective already has one set: the templates
    written: dict[str, int] = {}

    def add(counts):
        for model, number in counts.items():
            written[model._meta.db_table] = written.get(model._meta.db_table, 0) + number

    copying = time.monotonic()
    members = Cloner(member_rows)
    for start in range(0, len(targets), chunk * 5):
        with transaction.atomic():
            add(members.clone(targets[start : start + chunk * 5]))
    copies = Cloner(matter_rows)
    for start in range(0, len(matter_targets), chunk):
        with transaction.atomic():
            # Spread the copies over two years back from the templates' day, a day per copy.
            add(
                copies.clone(
                    matter_targets[start : start + chunk],
                    shift=lambda index, start=start: datetime.timedelta(days=(start + index) % 730),
                )
            )
        done = start + chunk
        if done % (chunk * 50) == 0:
            elapsed = time.monotonic() - started
            log(f"  {done * len(SCENARIOS)} matters copied, {elapsed:.0f} s")
    province.written = written
    province.copy_seconds = time.monotonic() - copying
    province.seconds = time.monotonic() - started
    return province
