"""Reads of the registers that are more than a filter.

ID numbers are sealed at rest (protection/fields.py): every lookup by ID number goes through the
selectors here, which compare blind indexes. Importers (e.g. a sign-in sheet) use them too.
"""

from collections.abc import Iterable

from django.db.models import QuerySet

from protection.fields import index_of

from .models import ID_NUMBER_INDEX, Member


def id_number_index(id_number: str) -> str:
    """The blind index of an ID number (upper-case X, no spaces), as every ID number column stores it."""
    return index_of((id_number or "").strip().upper(), purpose=ID_NUMBER_INDEX)


def id_number_indexes(id_numbers: Iterable[str]) -> list[str]:
    return [id_number_index(id_number) for id_number in id_numbers]


def members_by_id_numbers(*, organization, id_numbers: Iterable[str]) -> QuerySet:
    """Roster rows of the collective, of any status, holding one of the ID numbers."""
    return Member.objects.filter(organization=organization, id_number_index__in=id_number_indexes(id_numbers))


def member_by_id_number(*, organization, id_number: str) -> Member | None:
    """The collective's roster row with this ID number, or None."""
    return members_by_id_numbers(organization=organization, id_numbers=[id_number]).first()
