"""The registers, the early warnings, the notification centre and the administrators' lists are keyset pages
(issue 15 §3): following "next" and then "previous" shows every row once, in the list's own order, even when
rows tie on the sort key; an edited cursor shows the first page; and a page runs the same queries with 5 rows
as with 60, at the first page as deep in the list."""

import datetime
import html
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from unittest import mock
from urllib.parse import parse_qs

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from administration import log
from administration.models import EventKind, SecurityEvent
from flows.models import TRANSIENT_KINDS, Notification, NotificationKind
from flows.notifications import notify
from listing.keyset import encode_cursor
from organizations.models import Role
from registers.models import (
    Asset,
    Contract,
    ContractKind,
    Direction,
    EarlyWarning,
    FundAccount,
    FundMovement,
    Member,
    Resource,
    ResourceKind,
    ShareKind,
    ShareLedgerEntry,
    ShareReason,
    WarningLevel,
    WarningRule,
)
from tests.factories import MemberFactory, PostFactory, UserFactory

pytestmark = pytest.mark.django_db

FEW, MANY = 5, 60
# Every row a test makes at one moment: the lists sorted by time must fall back on the primary key.
MOMENT = datetime.datetime(2026, 6, 1, 9, 30, tzinfo=datetime.UTC)
_numbers = itertools.count()


def _at_one_moment():
    return mock.patch("django.utils.timezone.now", return_value=MOMENT)


# --- how each list's rows are made, and the order they must come in --------------------------------


def grow_members(world, count):
    for _ in range(count):  # one household, one name: only the primary key orders them
        MemberFactory(organization=world.collective_a1, household="同户", name="同名")


def members_order(world):
    return list(
        Member.objects.filter(organization=world.collective_a1)
        .order_by("organization_id", "household", "name", "pk")
        .values_list("pk", flat=True)
    )


def grow_assets(world, count):
    for _ in range(count):
        number = next(_numbers)
        Asset.objects.create(
            organization=world.collective_a1,
            code=f"A1-JJ-K{number:05d}",
            name=f"桌椅{number}",
            category="家具",
            unit_price=Decimal("100.00"),
            original_value=Decimal("100.00"),
            acquired_on=datetime.date(2024, 1, 1),
        )


def _resource(world) -> Resource:
    number = next(_numbers)
    return Resource.objects.create(
        organization=world.collective_a1,
        code=f"A1-JJ-K{number:05d}",
        name=f"耕地{number}",
        kind=ResourceKind.CULTIVATED,
        location="村东",
        area_mu=Decimal("5.00"),
    )


def grow_resources(world, count):
    for _ in range(count):
        _resource(world)


def grow_contracts(world, count):
    for _ in range(count):  # one start date for all: the code, then the primary key order them
        number = next(_numbers)
        Contract.objects.create(
            organization=world.collective_a1,
            code=f"A1-JJ-HTK{number:05d}",
            kind=ContractKind.CONTRACTING,
            counterparty=f"承包人{number}",
            start_date=datetime.date(2026, 1, 1),
            end_date=datetime.date(2027, 12, 31),
            amount=Decimal("1000.00"),
            resource=_resource(world),
        )


def grow_fund_accounts(world, count):
    for _ in range(count):
        FundAccount.objects.create(organization=world.collective_a1, name="同名账户")


def _the_account(world) -> FundAccount:
    account, _created = FundAccount.objects.get_or_create(organization=world.collective_a1, name="基本户")
    return account


def grow_movements(world, count):
    account = _the_account(world)
    for _ in range(count):
        FundMovement.objects.create(
            account=account,
            direction=Direction.IN,
            amount=Decimal("10.00"),
            occurred_on=datetime.date(2026, 5, 1),
            counterparty="某人",
            purpose="收入",
            recorded_by=world.cashier_a1,
        )


def grow_ledger(world, count):
    with _at_one_moment():
        for _ in range(count):
            member = MemberFactory(organization=world.collective_a1, household="同户", name="同名")
            ShareLedgerEntry.objects.create(
                organization=member.organization,
                member=member,
                kind=ShareKind.POPULATION,
                change=1,
                reason=ShareReason.ALLOCATION,
            )


def holders_order(world):
    holders = ShareLedgerEntry.objects.values("member_id")
    return list(
        Member.objects.filter(pk__in=holders)
        .order_by("organization__name", "household", "name", "pk")
        .values_list("pk", flat=True)
    )


def grow_warnings(world, count):
    with _at_one_moment():
        for _ in range(count):
            EarlyWarning.objects.create(
                organization=world.collective_a1,
                level=WarningLevel.YELLOW,
                rule=WarningRule.CASH_OVER_LIMIT,
                subject_key=f"keyset:{next(_numbers)}",
                title="库存现金超限",
                detail="库存现金超过限额",
            )


def grow_notifications(world, count):
    for _ in range(count):
        notify([world.officer_a], kind=NotificationKind.WARNING, title="现金库存超限")


def grow_accounts(world, count):
    for _ in range(count):
        user = UserFactory(username=f"keyset{next(_numbers):05d}")
        PostFactory(user=user, organization=world.village_a1, role=Role.VILLAGE_CASHIER)


def accounts_order(world):
    # The county's administrators see every account but the superusers'.
    return list(
        get_user_model().objects.filter(is_superuser=False).order_by("username", "pk").values_list("pk", flat=True)
    )


def grow_events(world, count):
    with _at_one_moment():
        for _ in range(count):
            log.security_log(
                kind=EventKind.LOGIN, description="登录", actor=world.officer_a, organization=world.village_a1
            )


@dataclass
class ListPage:
    name: str
    persona: str
    url: Callable
    grow: Callable
    expected: Callable
    size: int
    params: dict = field(default_factory=dict)
    key: Callable = lambda row: row.pk
    # The list shows how many rows it has, counted up to "1,000+" (the notification centre does not).
    counted: bool = True


def _ordered(queryset, *order):
    return lambda world: list(queryset(world).order_by(*order).values_list("pk", flat=True))


LISTS = [
    ListPage(
        "members",
        "secretary_a1",
        lambda world: reverse("registers:member_list"),
        grow_members,
        members_order,
        100,
        params={"status": "active"},
    ),
    ListPage(
        "assets",
        "secretary_a1",
        lambda world: reverse("registers:asset_list"),
        grow_assets,
        _ordered(lambda world: Asset.objects.filter(organization=world.collective_a1), "organization_id", "code", "pk"),
        50,
        params={"category": "家具"},
    ),
    ListPage(
        "resources",
        "secretary_a1",
        lambda world: reverse("registers:resource_list"),
        grow_resources,
        _ordered(
            lambda world: Resource.objects.filter(organization=world.collective_a1), "organization_id", "code", "pk"
        ),
        50,
        params={"kind": ResourceKind.CULTIVATED},
    ),
    ListPage(
        "contracts",
        "secretary_a1",
        lambda world: reverse("registers:contract_list"),
        grow_contracts,
        _ordered(
            lambda world: Contract.objects.filter(organization=world.collective_a1),
            "organization_id",
            "-start_date",
            "code",
            "pk",
        ),
        50,
        params={"kind": ContractKind.CONTRACTING},
    ),
    ListPage(
        "fund accounts",
        "secretary_a1",
        lambda world: reverse("registers:fund_account_list"),
        grow_fund_accounts,
        _ordered(
            lambda world: FundAccount.objects.filter(organization=world.collective_a1), "organization_id", "name", "pk"
        ),
        50,
    ),
    ListPage(
        "fund movements",
        "cashier_a1",
        lambda world: _the_account(world).get_absolute_url(),
        grow_movements,
        _ordered(lambda world: _the_account(world).movements.all(), "-occurred_on", "-pk"),
        50,
        params={"direction": Direction.IN},
    ),
    ListPage(
        "share ledger",
        "secretary_a1",
        lambda world: reverse("registers:share_ledger"),
        grow_ledger,
        _ordered(lambda world: ShareLedgerEntry.objects.all(), "-recorded_at", "-pk"),
        50,
        params={"kind": ShareKind.POPULATION},
    ),
    ListPage(
        "share holdings",
        "secretary_a1",
        lambda world: reverse("registers:share_holdings"),
        grow_ledger,
        holders_order,
        50,
        params={"kind": ShareKind.POPULATION},
        key=lambda row: row["member_id"],
    ),
    ListPage(
        "early warnings",
        "officer_a",
        lambda world: reverse("registers:warning_list"),
        grow_warnings,
        _ordered(
            lambda world: EarlyWarning.objects.filter(handled_at__isnull=True, level=WarningLevel.YELLOW),
            "-raised_at",
            "-pk",
        ),
        50,
        params={"level": WarningLevel.YELLOW},
    ),
    ListPage(
        "notifications",
        "officer_a",
        lambda world: reverse("flows:notifications"),
        grow_notifications,
        _ordered(
            lambda world: Notification.objects.filter(recipient=world.officer_a, read_at__isnull=True).exclude(
                kind__in=TRANSIENT_KINDS
            ),
            "-pk",
        ),
        30,
        params={"state": "unread"},
        counted=False,
    ),
    ListPage(
        "accounts",
        "system_admin",
        lambda world: reverse("administration:accounts"),
        grow_accounts,
        accounts_order,
        50,
    ),
    ListPage(
        "accounts' second factors",
        "security_admin",
        lambda world: reverse("administration:security_accounts"),
        grow_accounts,
        accounts_order,
        50,
    ),
    ListPage(
        "security log",
        "audit_admin",
        lambda world: reverse("administration:security_log"),
        grow_events,
        _ordered(
            lambda world: SecurityEvent.objects.filter(
                Q(organization__path__startswith=world.county.path) | Q(organization__isnull=True),
                kind=EventKind.LOGIN,
            ),
            "-at",
            "-pk",
        ),
        50,
        params={"kind": EventKind.LOGIN},
    ),
]
IDS = [spec.name for spec in LISTS]


def _get(client, url: str, params: dict):
    response = client.get(url, params)
    assert response.status_code == 200, response.content.decode()[:500]
    return response


def _link(response, role: str) -> str:
    """The pager's link of that role (``next``, ``previous``), "" when the page has none."""
    found = re.search(rf'href="(\?[^"]*)" data-role="{role}"', response.content.decode())
    return html.unescape(found.group(1)) if found else ""


def _keys(spec, response) -> list:
    return [spec.key(row) for row in response.context["page"]]


def _signed_in(client, world, spec):
    client.force_login(getattr(world, spec.persona))
    return client


def _cursor_at(response, index: int) -> str:
    """A cursor after the page's row ``index``, made as the pager makes one (from the row's sort values)."""
    page = response.context["page"]
    row = page.rows[index]
    values = []
    for position in itertools.count():
        alias = f"keyset_{position}"
        has = alias in row if isinstance(row, dict) else hasattr(row, alias)
        if not has:
            break
        values.append(row[alias] if isinstance(row, dict) else getattr(row, alias))
    return encode_cursor(page.sort, values)


@pytest.mark.parametrize("spec", LISTS, ids=IDS)
def test_next_then_previous_shows_every_row_once_in_the_lists_order(client, world, spec):
    spec.grow(world, spec.size + 12)
    client = _signed_in(client, world, spec)
    url = spec.url(world)
    expected = spec.expected(world)
    assert len(expected) > spec.size  # at least two pages

    pages = [_get(client, url, spec.params)]
    while link := _link(pages[-1], "next"):
        query = parse_qs(link.removeprefix("?"))
        assert {name: [str(value)] for name, value in spec.params.items()}.items() <= query.items()  # filters kept
        pages.append(_get(client, url + link, {}))
        assert len(pages) < 10
    forwards = [key for response in pages for key in _keys(spec, response)]
    assert forwards == expected
    assert len(set(forwards)) == len(forwards)
    assert all(len(_keys(spec, response)) == spec.size for response in pages[:-1])

    backwards = [_keys(spec, pages[-1])]
    response = pages[-1]
    while link := _link(response, "previous"):
        response = _get(client, url + link, {})
        backwards.append(_keys(spec, response))
    assert response.context["page"].is_first
    assert [key for keys in reversed(backwards) for key in keys] == expected


EDITED_CURSORS = ["garbage", "!!!", encode_cursor("-nothing", ["x", 1]), "e30", encode_cursor("-at", [1])]


@pytest.mark.parametrize("spec", LISTS, ids=IDS)
def test_an_edited_cursor_shows_the_first_page(client, world, spec):
    spec.grow(world, FEW)
    client = _signed_in(client, world, spec)
    first = _keys(spec, _get(client, spec.url(world), spec.params))
    assert first
    for cursor in EDITED_CURSORS:
        for direction in ("after", "before"):
            response = _get(client, spec.url(world), {**spec.params, direction: cursor})
            assert _keys(spec, response) == first, (cursor, direction)
            assert response.context["page"].is_first


def _queries(client, url: str, params: dict) -> list[str]:
    client.get(url, params)  # warm the per-process caches, as a second visit would
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.parametrize("spec", LISTS, ids=IDS)
def test_a_page_runs_the_same_queries_with_5_rows_and_60_at_any_depth(client, world, spec):
    client = _signed_in(client, world, spec)
    url = spec.url(world)
    spec.grow(world, FEW)
    few_first = _queries(client, url, spec.params)
    few_deep = _queries(client, url, {**spec.params, "after": _cursor_at(_get(client, url, spec.params), 1)})
    spec.grow(world, max(MANY, spec.size + 10) - FEW)
    first = _get(client, url, spec.params)
    assert first.context["page"].has_next
    many_first = _queries(client, url, spec.params)
    many_deep = _queries(client, url, {**spec.params, "after": first.context["page"].next_cursor})
    counts = [len(few_first), len(few_deep), len(many_first), len(many_deep)]
    assert len(set(counts)) == 1, "\n".join([str(counts), *few_first, "", *many_deep])
    # No OFFSET: the page seeks to its cursor; and the count of its rows stops at "1,000+".
    assert not [sql for sql in many_deep if " OFFSET " in sql.upper()]
    if spec.counted:
        assert [sql for sql in many_deep if "COUNT(" in sql.upper() and "LIMIT 1001" in sql.upper()]


COUNTED = Template("{% load listing %}{% row_count found %}|{{ found|bounded }}")


@pytest.mark.parametrize(("found", "shown"), [(0, "0"), (7, "7"), (1000, "1000"), (1001, "1,000+")])
def test_a_count_past_a_thousand_reads_1000_plus(found, shown):
    rendered = COUNTED.render(Context({"found": found}))
    assert f'data-count="{shown}"' in rendered and rendered.endswith(f"|{shown}")


def test_the_rows_made_to_tie_share_one_moment(world):
    """The tests above tie rows on their timestamp; they would not if the clock were not held."""
    grow_warnings(world, 3)
    grow_events(world, 2)
    assert EarlyWarning.objects.filter(raised_at=MOMENT).count() == 3
    assert SecurityEvent.objects.filter(at=MOMENT).count() == 2
    assert timezone.now() != MOMENT
