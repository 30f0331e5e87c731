"""Writing a new version of a rule table: checked as a whole, saved as a whole, logged row by row.

A version is never edited once saved (matters keep the version they started under); the county
administrator makes a new one from the version in force, and it takes effect on a day of their
choosing, today or later. ``rule_version_check`` runs every check and writes the rows in a transaction
it then undoes, so that the models' own validation (the law's floor) speaks in the check as in the save.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from organizations.amounts import band_range_label
from organizations.jurisdiction import business_posts
from organizations.models import (
    RULE_TABLE_KINDS,
    MeetingRule,
    Organization,
    Role,
    RuleBand,
    RuleVersion,
)
from organizations.rules import own_version_in_force, rule_floors, rule_version_in_force
from organizations.signals import jurisdiction_refused

from .checks import ladder_problems, level_name, looser_than
from .tables import Diff, Table, body_label, label_of, ordered_bands, table_diff, table_of, type_label

RULE_READER_ROLES = frozenset({Role.COUNTY_ADMIN, Role.DISCIPLINE_INSPECTOR})
RULE_EDITOR_ROLES = frozenset({Role.COUNTY_ADMIN})


@dataclass(frozen=True)
class Draft:
    """A new version as the administrator wrote it, not yet saved."""

    effective_from: datetime.date
    note: str
    table: Table


# --- who may read and write --------------------------------------------------------------------


def _in_line(post, place: Organization) -> bool:
    """The place is the post's, below it, or above it (the levels whose tables bind the post's place)."""
    return place.path.startswith(post.organization.path) or post.organization.path.startswith(place.path)


def in_line(user, place: Organization) -> bool:
    return any(_in_line(post, place) for post in business_posts(user))


def may_read(user, place: Organization) -> bool:
    """Administrators and inspectors read the tables of their place, of every level below it, and of the
    levels above whose tables are its floor; never a table beside theirs (another county's)."""
    return place.kind in RULE_TABLE_KINDS and any(
        post.role in RULE_READER_ROLES and _in_line(post, place) for post in business_posts(user)
    )


def may_edit(user, place: Organization) -> bool:
    """Only the administrator of the place itself writes its table (a county's is its own, a city's the floor)."""
    return place.kind in RULE_TABLE_KINDS and any(
        post.organization_id == place.pk and post.role in RULE_EDITOR_ROLES for post in business_posts(user)
    )


def require_edit(user, place: Organization) -> None:
    if not may_edit(user, place):
        jurisdiction_refused.send(sender=Organization, user=user, outcome="not_allowed", what=str(place))
        raise PermissionDenied


# --- reading -------------------------------------------------------------------------------------


def baseline_of(place: Organization, on_date: datetime.date | None = None) -> RuleVersion | None:
    """The version in force for the place today: its own, or the one it inherits; a new version starts from it."""
    try:
        return rule_version_in_force(county=place, on_date=on_date or timezone.localdate())
    except ValidationError:
        return None


def looser_than_floors(place: Organization, table: Table, on_date: datetime.date) -> list[str]:
    problems = []
    for floor in rule_floors(place=place, on_date=on_date):
        problems += looser_than(table, table_of(floor), level_name(floor))
    return problems


def places_looser_than(place: Organization, table: Table, on_date: datetime.date) -> list[Organization]:
    """The places below whose own table in force on the day would be looser than this one: they must tighten theirs."""
    below = Organization.objects.filter(path__startswith=place.path, kind__in=RULE_TABLE_KINDS).exclude(pk=place.pk)
    looser = []
    for other in below.order_by("path"):
        own = own_version_in_force(place=other, on_date=on_date)
        if own is not None and looser_than(table_of(own), table, ""):
            looser.append(other)
    return looser


# --- writing -------------------------------------------------------------------------------------


class _DryRun(Exception):
    """Raised to undo the rows a check wrote."""


def rule_version_check(*, user, place: Organization, draft: Draft) -> Diff:
    """Every check a save makes, nothing saved; the difference against the version in force."""
    try:
        with transaction.atomic():
            _write(user=user, place=place, draft=draft)
            raise _DryRun
    except _DryRun:
        pass
    return table_diff(_table_or_none(baseline_of(place)), draft.table)


def rule_version_create(*, user, place: Organization, draft: Draft) -> RuleVersion:
    """Save the draft as the place's next version, after every check; raises ValidationError naming each problem."""
    with transaction.atomic():
        return _write(user=user, place=place, draft=draft)


def _table_or_none(version: RuleVersion | None) -> Table | None:
    return table_of(version) if version is not None else None


def _write(*, user, place: Organization, draft: Draft) -> RuleVersion:
    require_edit(user, place)
    # One new version of a place at a time: the second writer waits, then takes the next number.
    place = Organization.objects.select_for_update().get(pk=place.pk)
    problems = []
    if draft.effective_from < timezone.localdate():
        problems.append(_("A new version takes effect today or later, never on a day that has passed."))
    problems += ladder_problems(draft.table)
    problems += looser_than_floors(place, draft.table, draft.effective_from)
    baseline = own_version_in_force(place=place, on_date=timezone.localdate())
    if baseline is not None and table_diff(table_of(baseline), draft.table).empty:
        problems.append(_("Nothing differs from the version in force: there is nothing to save."))
    if problems:
        raise ValidationError(problems)
    last = RuleVersion.objects.filter(county=place).order_by("-number").first()
    version = RuleVersion(
        county=place,
        number=(last.number + 1) if last else 1,
        effective_from=draft.effective_from,
        note=draft.note,
        **draft.table.values,
    )
    _save(version, user, "", problems)
    if problems:
        raise ValidationError(problems)
    for transaction_type, bands in draft.table.bands.items():
        for values in ordered_bands(bands):
            band = RuleBand(rule_version=version, transaction_type=transaction_type, **values)
            where = f"{type_label(transaction_type)} {band_range_label(values['min_amount'], values['max_amount'])}："
            _save(band, user, where, problems)
    for body, values in draft.table.meeting_rules.items():
        _save(MeetingRule(rule_version=version, body=body, **values), user, f"{body_label(body)}：", problems)
    if problems:
        raise ValidationError(problems)
    return version


def _save(row, user, where: str, problems: list[str]) -> None:
    """Validate the row with its model (the law's floor lives there) and save it, or add what is wrong."""
    try:
        row.full_clean()
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            label = "" if name == NON_FIELD_ERRORS else f"{label_of(type(row), name)}："
            problems += [f"{where}{label}{message}" for message in messages]
        return
    row._history_user = user
    row.save()
