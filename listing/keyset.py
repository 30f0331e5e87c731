"""Keyset pagination: a page costs the same one query at the first row and at the millionth.

A list names the columns it may be sorted by (``SortKey``); the URL says which one and which way
(``?sort=amount`` or ``?sort=-amount``) and carries an opaque cursor (``?after=…`` or ``?before=…``)
holding the sort values of the last (or first) row shown. The next page is then "the rows after these
values" in the same order, with the primary key as the tiebreak, so the order is total and stable:
no row is shown twice or skipped when rows arrive meanwhile, and no OFFSET makes the database count
its way to a deep page. There is no page number and no total: both need a count of every row.

A column may sort by several expressions at once (a compound key, such as a register's collective, then
household, then name): ``SortKey("household", ("organization_id", "household", "name"))``; an element
written ``"-start_date"`` runs the other way from the rest, as in a model's ``Meta.ordering``. A page's
rows may be model instances or the dicts of a ``values()`` query (then the tiebreak names a value).

Sort expressions must not be NULL (wrap a nullable column in ``Coalesce``): SQL compares NULL with
nothing, so a row with a NULL key would fall out of every page after the first.
"""

import base64
import binascii
import datetime
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Expression, F, Q, QuerySet
from django.utils.functional import Promise

SORT_PARAM, AFTER_PARAM, BEFORE_PARAM = "sort", "after", "before"
CURSOR_PARAMS = (AFTER_PARAM, BEFORE_PARAM)
DEFAULT_PAGE_SIZE = 50
# Annotation names the page adds to the queryset for its sort values.
_ALIAS = "keyset_{}"


class InvalidCursor(ValueError):
    """A cursor that was not made by this module for this sort (edited, truncated or stale)."""


@dataclass(frozen=True)
class SortKey:
    """One sortable column: its name in the URL, the expression it sorts by, and its header."""

    name: str
    expression: str | Expression | tuple[str | Expression, ...]
    label: str | Promise = ""

    def as_expressions(self) -> list[tuple[Expression, bool]]:
        """(expression, reversed) for each part of the key; a reversed part sorts against the key's direction."""
        parts = self.expression if isinstance(self.expression, tuple) else (self.expression,)
        expressions = []
        for part in parts:
            if isinstance(part, str):
                expressions.append((F(part.removeprefix("-")), part.startswith("-")))
            else:
                expressions.append((part, False))
        return expressions


@dataclass(frozen=True)
class Sorting:
    """The columns a list may be sorted by, and its default (``"-created"``: newest first)."""

    keys: Sequence[SortKey]
    default: str
    tiebreak: str = "pk"

    def __post_init__(self):
        self.parse(self.default)  # a default naming no column is a programming error: fail at import

    def by_name(self, name: str) -> SortKey | None:
        return next((key for key in self.keys if key.name == name), None)

    def parse(self, value: str) -> tuple[SortKey, bool]:
        """(column, descending) for a ``sort`` parameter; anything unknown falls back to the default."""
        descending = value.startswith("-")
        key = self.by_name(value.removeprefix("-")) if value else None
        if key is None:
            if value == self.default:
                raise ValueError(f"default sort {self.default!r} names no column")
            return self.parse(self.default)
        return key, descending

    def normalise(self, value: str) -> str:
        key, descending = self.parse(value)
        return f"-{key.name}" if descending else key.name


@dataclass
class KeysetPage:
    """One page of rows and the cursors to its neighbours (None when there is no neighbour that way)."""

    rows: list
    sort: str
    next_cursor: str | None = None
    previous_cursor: str | None = None
    is_first: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    def __bool__(self):
        return bool(self.rows)

    @property
    def object_list(self) -> list:
        """The rows, under the name a Django Paginator page gives them."""
        return self.rows

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None


# --- cursors ---------------------------------------------------------------------------------------


def _encode_value(value) -> list:
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, int):
        return ["i", value]
    if isinstance(value, Decimal):
        return ["d", str(value)]
    if isinstance(value, datetime.datetime):
        return ["t", value.isoformat()]
    if isinstance(value, datetime.date):
        return ["D", value.isoformat()]
    if isinstance(value, str):
        return ["s", value]
    if isinstance(value, float):
        return ["f", value]
    raise TypeError(f"cannot put a {type(value).__name__} in a keyset cursor")


def _decode_value(item):
    try:
        tag, raw = item
        if tag == "b":
            return bool(raw)
        if tag == "i":
            return int(raw)
        if tag == "d":
            return Decimal(raw)
        if tag == "t":
            return datetime.datetime.fromisoformat(raw)
        if tag == "D":
            return datetime.date.fromisoformat(raw)
        if tag == "s":
            return str(raw)
        if tag == "f":
            return float(raw)
    except (TypeError, ValueError, InvalidOperation) as error:
        raise InvalidCursor(str(error)) from error
    raise InvalidCursor(f"unknown value tag {tag!r}")


def encode_cursor(sort: str, values: Sequence) -> str:
    payload = json.dumps([sort, [_encode_value(value) for value in values]], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, sort: str, width: int) -> list:
    """The sort values a cursor holds; InvalidCursor unless it was made for this sort and width."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        made_for, items = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as error:
        raise InvalidCursor("not a cursor") from error
    if made_for != sort or not isinstance(items, list) or len(items) != width:
        raise InvalidCursor("cursor made for another sort")
    return [_decode_value(item) for item in items]


# --- the page --------------------------------------------------------------------------------------


def _beyond(aliases: Sequence[str], descending: Sequence[bool], values: Sequence) -> Q:
    """Rows strictly after ``values`` in the order (alias, descending)…: the usual expanded row comparison.

    (a, b, pk) after (x, y, z) is a > x, or a = x and b > y, or a = x and b = y and pk > z; a
    descending column compares the other way. Written out rather than as a row value, because a
    row comparison can only go one way for every column, and SQLite before 3.15 lacks it.
    """
    alternatives = []
    for position, alias in enumerate(aliases):
        lookup = "lt" if descending[position] else "gt"
        same_before = {aliases[earlier]: values[earlier] for earlier in range(position)}
        alternatives.append(Q(**same_before, **{f"{alias}__{lookup}": values[position]}))
    return reduce(or_, alternatives)


def keyset_page(
    queryset: QuerySet,
    *,
    sorting: Sorting,
    sort: str = "",
    after: str = "",
    before: str = "",
    size: int = DEFAULT_PAGE_SIZE,
) -> KeysetPage:
    """One page of ``queryset`` sorted by the ``sort`` column, after or before the row a cursor names.

    An invalid cursor gives the first page (an edited or outdated link still shows the list). Runs one
    query (plus the queryset's own prefetches), whatever the size of the table or the depth of the page.
    """
    sort = sorting.normalise(sort)
    key, descending = sorting.parse(sort)
    parts = key.as_expressions()
    aliases = [_ALIAS.format(position) for position in range(len(parts) + 1)]
    # Each part goes the column's direction (or against it, if reversed); the tiebreak follows the column.
    order = [descending != reversed_ for _expression, reversed_ in parts] + [descending]
    unsorted = queryset
    expressions = [expression for expression, _reversed in parts] + [F(sorting.tiebreak)]
    queryset = queryset.annotate(**dict(zip(aliases, expressions, strict=True)))

    backwards = bool(before) and not after
    cursor = before if backwards else after
    values = None
    if cursor:
        try:
            values = decode_cursor(cursor, sort=sort, width=len(aliases))
        except InvalidCursor:
            values, backwards = None, False
    fetch_order = [not flag for flag in order] if backwards else order
    if values is not None:
        queryset = queryset.filter(_beyond(aliases, fetch_order, values))
    ordering = [f"-{alias}" if flag else alias for alias, flag in zip(aliases, fetch_order, strict=True)]
    rows = list(queryset.order_by(*ordering)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()

    def cursor_of(row) -> str:
        if isinstance(row, dict):
            return encode_cursor(sort, [row[alias] for alias in aliases])
        return encode_cursor(sort, [getattr(row, alias) for alias in aliases])

    if backwards and not rows:
        # Nothing before the cursor any more (those rows went away): the list starts here.
        return keyset_page(unsorted, sorting=sorting, sort=sort, size=size)
    # An empty page after a cursor (its rows went away) is not the first: the template offers the way back.
    page = KeysetPage(rows=rows, sort=sort, is_first=values is None or (backwards and not more))
    if rows:
        if backwards:
            page.next_cursor = cursor_of(rows[-1])
            page.previous_cursor = cursor_of(rows[0]) if more else None
        else:
            page.next_cursor = cursor_of(rows[-1]) if more else None
            page.previous_cursor = cursor_of(rows[0]) if values is not None else None
    return page


def page_from_request(request, queryset: QuerySet, *, sorting: Sorting, size: int = DEFAULT_PAGE_SIZE) -> KeysetPage:
    """``keyset_page`` with the sort and cursor read from the request's query string."""
    return keyset_page(
        queryset,
        sorting=sorting,
        sort=request.GET.get(SORT_PARAM, ""),
        after=request.GET.get(AFTER_PARAM, ""),
        before=request.GET.get(BEFORE_PARAM, ""),
        size=size,
    )


# A list tells how many rows it has up to this many, then "1,000+": a count past it would read every row.
COUNT_LIMIT = 1000


def bounded_count(queryset: QuerySet, limit: int = COUNT_LIMIT) -> int:
    """The number of rows, counted no further than ``limit + 1`` (one query; the database stops there).

    A grouped query (a ``values()`` with sums, one row per group) is counted by its groups as it stands."""
    queryset = queryset.order_by().prefetch_related(None)
    if queryset.query.group_by is None:
        queryset = queryset.values("pk")
    return queryset[: limit + 1].count()
