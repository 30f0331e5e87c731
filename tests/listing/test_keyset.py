"""Keyset pages: every row once, in a total order, forwards and backwards, with one query per page."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, F
from django.test.utils import CaptureQueriesContext

from listing.keyset import (
    InvalidCursor,
    Sorting,
    SortKey,
    bounded_count,
    decode_cursor,
    encode_cursor,
    keyset_page,
)
from organizations.models import Organization, OrganizationKind
from registers.models import Member
from tests.factories import MemberFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

SORTING = Sorting(
    keys=[SortKey("name", "name", "Name"), SortKey("code", F("code"), "Code"), SortKey("joined", "joined_on")],
    default="name",
)


@pytest.fixture
def places():
    # Names repeat, so only the tiebreak (the primary key) makes the order total.
    return [OrganizationFactory(name=f"村{index % 4}", code=f"K{index:03d}") for index in range(23)]


def walk(queryset, sort: str, size: int, sorting: Sorting = SORTING) -> list:
    """Every row, following "next" from the first page."""
    rows, after = [], ""
    for _ in range(100):
        page = keyset_page(queryset, sorting=sorting, sort=sort, after=after, size=size)
        rows.extend(page.rows)
        if not page.has_next:
            return rows
        after = page.next_cursor
    raise AssertionError("never reached the last page")


def walk_back(queryset, sort: str, size: int, sorting: Sorting = SORTING) -> list:
    """Every row, from the last page back through "previous"."""
    pages = []
    page = keyset_page(queryset, sorting=sorting, sort=sort, size=size)
    while page.has_next:
        page = keyset_page(queryset, sorting=sorting, sort=sort, after=page.next_cursor, size=size)
    pages.append(page.rows)
    while page.has_previous:
        page = keyset_page(queryset, sorting=sorting, sort=sort, before=page.previous_cursor, size=size)
        pages.append(page.rows)
    assert page.is_first
    return [row for rows in reversed(pages) for row in rows]


@pytest.mark.parametrize("sort", ["name", "-name", "code", "-code"])
@pytest.mark.parametrize("size", [1, 5, 23, 50])
def test_walking_the_pages_shows_every_row_once_in_a_total_order(places, sort, size):
    queryset = Organization.objects.filter(code__startswith="K")
    field = sort.removeprefix("-")
    expected = sorted(places, key=lambda org: (getattr(org, field), org.pk), reverse=sort.startswith("-"))
    assert walk(queryset, sort, size) == expected
    assert walk_back(queryset, sort, size) == expected


def test_dates_sort_and_travel_in_the_cursor(db):
    collective = OrganizationFactory(kind=OrganizationKind.COLLECTIVE)
    members = [
        MemberFactory(organization=collective, joined_on=datetime.date(2020, 1, 1) + datetime.timedelta(days=n % 3))
        for n in range(10)
    ]
    expected = sorted(members, key=lambda member: (member.joined_on, member.pk), reverse=True)
    assert walk(Member.objects.filter(organization=collective), "-joined", 3) == expected


def test_a_page_is_one_query_at_any_depth(places):
    queryset = Organization.objects.filter(code__startswith="K")
    first = keyset_page(queryset, sorting=SORTING, sort="name", size=5)
    with CaptureQueriesContext(connection) as first_queries:
        keyset_page(queryset, sorting=SORTING, sort="name", size=5)
    deep = keyset_page(queryset, sorting=SORTING, sort="name", after=first.next_cursor, size=5)
    with CaptureQueriesContext(connection) as deep_queries:
        keyset_page(queryset, sorting=SORTING, sort="name", after=deep.next_cursor, size=5)
    assert len(first_queries) == len(deep_queries) == 1
    # No OFFSET and no COUNT: the database seeks to the cursor.
    sql = deep_queries.captured_queries[0]["sql"].upper()
    assert "OFFSET" not in sql and "COUNT(" not in sql


def test_the_first_page_has_no_way_back_and_the_last_none_forward(places):
    queryset = Organization.objects.filter(code__startswith="K")
    first = keyset_page(queryset, sorting=SORTING, sort="code", size=20)
    assert first.is_first and not first.has_previous and first.has_next
    last = keyset_page(queryset, sorting=SORTING, sort="code", after=first.next_cursor, size=20)
    assert [org.code for org in last] == ["K020", "K021", "K022"]
    assert last.has_previous and not last.has_next and not last.is_first


def test_rows_that_arrive_meanwhile_do_not_shift_the_next_page(places):
    queryset = Organization.objects.filter(code__startswith="K")
    first = keyset_page(queryset, sorting=SORTING, sort="code", size=10)
    OrganizationFactory(code="K000A")  # sorts inside the first page
    second = keyset_page(queryset, sorting=SORTING, sort="code", after=first.next_cursor, size=10)
    assert second.rows[0].code == "K010"


@pytest.mark.parametrize("cursor", ["not-a-cursor", "e30", encode_cursor("-name", ["村1", 3]), "!!!"])
def test_an_invalid_or_foreign_cursor_gives_the_first_page(places, cursor):
    queryset = Organization.objects.filter(code__startswith="K")
    page = keyset_page(queryset, sorting=SORTING, sort="name", after=cursor, size=5)
    assert page.is_first
    assert page.rows == keyset_page(queryset, sorting=SORTING, sort="name", size=5).rows


def test_an_unknown_sort_falls_back_to_the_default(places):
    page = keyset_page(Organization.objects.filter(code__startswith="K"), sorting=SORTING, sort="password", size=5)
    assert page.sort == "name"


def test_a_default_that_names_no_column_fails_at_once():
    with pytest.raises(ValueError):
        Sorting(keys=[SortKey("name", "name")], default="amount")


def test_a_cursor_keeps_each_kind_of_value():
    moment = datetime.datetime(2026, 5, 1, 8, 30, tzinfo=datetime.UTC)
    values = [Decimal("20000.50"), moment, datetime.date(2026, 5, 1), "东湖村", 7, True]
    cursor = encode_cursor("-amount", values)
    assert decode_cursor(cursor, sort="-amount", width=6) == values
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, sort="amount", width=6)
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, sort="-amount", width=2)


COMPOUND = Sorting(keys=[SortKey("household", ("organization_id", "-household", "name"))], default="household")


@pytest.mark.parametrize("sort", ["household", "-household"])
@pytest.mark.parametrize("size", [1, 4, 7])
def test_a_compound_key_sorts_by_each_part_a_reversed_part_the_other_way(db, sort, size):
    collectives = [OrganizationFactory(kind=OrganizationKind.COLLECTIVE) for _ in range(2)]
    members = [
        MemberFactory(organization=collectives[n % 2], household=f"H{n % 3}", name=f"N{n % 2}") for n in range(17)
    ]
    queryset = Member.objects.filter(organization__in=collectives)
    ascending = sorted(members, key=lambda m: (m.organization_id, m.pk))  # the first part and the tiebreak
    ascending = sorted(ascending, key=lambda m: m.name)
    ascending = sorted(ascending, key=lambda m: m.household, reverse=True)
    ascending = sorted(ascending, key=lambda m: m.organization_id)
    expected = ascending if sort == "household" else list(reversed(ascending))
    assert walk(queryset, sort, size, COMPOUND) == expected
    assert walk_back(queryset, sort, size, COMPOUND) == expected


def test_a_compound_cursor_does_not_fit_a_simple_key(db):
    collective = OrganizationFactory(kind=OrganizationKind.COLLECTIVE)
    for _ in range(4):
        MemberFactory(organization=collective)
    queryset = Member.objects.filter(organization=collective)
    first = keyset_page(queryset, sorting=COMPOUND, sort="household", size=2)
    assert len(decode_cursor(first.next_cursor, sort="household", width=4)) == 4  # three parts and the tiebreak
    second = keyset_page(queryset, sorting=COMPOUND, sort="household", after=first.next_cursor, size=2)
    assert not second.is_first and set(second.rows).isdisjoint(first.rows)
    page = keyset_page(queryset, sorting=SORTING, sort="name", after=encode_cursor("name", ["x", 1, 2, 3]), size=2)
    assert page.is_first


def test_grouped_rows_page_by_a_value_and_are_counted_by_group(db):
    collective = OrganizationFactory(kind=OrganizationKind.COLLECTIVE)
    for n in range(9):
        MemberFactory(organization=collective, household=f"H{n % 4}")
    grouped = (
        Member.objects.filter(organization=collective)
        .values("household")
        .annotate(people=Count("pk"))
        .order_by("household")
    )
    sorting = Sorting(keys=[SortKey("people", "people")], default="-people", tiebreak="household")
    rows, after = [], ""
    while True:
        page = keyset_page(grouped, sorting=sorting, sort="-people", after=after, size=1)
        rows.extend((row["household"], row["people"]) for row in page)
        if not page.has_next:
            break
        after = page.next_cursor
    assert rows == [("H0", 3), ("H3", 2), ("H2", 2), ("H1", 2)]
    assert bounded_count(grouped) == 4
    assert bounded_count(grouped, limit=2) == 3
