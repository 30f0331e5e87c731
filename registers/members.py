"""Writes to the member roster; each is called by the matter that authorises it."""

from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from organizations.models import Organization
from protection.masking import mask_id_number

from .models import Member, MemberStatus
from .selectors import members_by_id_numbers


def members_on_roster(*, organization: Organization, id_numbers: Iterable[str]):
    """Roster rows of the collective, of any status, holding one of the ID numbers."""
    return members_by_id_numbers(organization=organization, id_numbers=id_numbers)


def on_roster_message(member: Member) -> str:
    # Masked, and without the name: the message goes to whoever typed the number, who may not know the holder.
    return _("%(id_number)s is already on the roster (%(status)s).") % {
        "id_number": mask_id_number(member.id_number),
        "status": member.get_status_display(),
    }


def repeated_id_numbers(id_numbers: Sequence[str]) -> list[str]:
    """ID numbers that appear more than once, in the order they first repeat."""
    seen: set[str] = set()
    repeated: list[str] = []
    for id_number in id_numbers:
        if id_number in seen and id_number not in repeated:
            repeated.append(id_number)
        seen.add(id_number)
    return repeated


def repeated_message(id_number: str) -> str:
    return _("%(id_number)s appears more than once in this confirmation.") % {"id_number": mask_id_number(id_number)}


@transaction.atomic
def members_confirm(*, organization: Organization, candidates: Iterable, matter) -> list[Member]:
    """Put the confirmed persons on the roster as active members, linked to the matter that confirmed them.

    ``candidates`` have name, id_number, household, basis and note (MemberCandidate rows). If any of them
    is already on the roster, or named twice, nobody is added."""
    candidates = list(candidates)
    if not candidates:
        raise ValidationError(_("Name at least one person to confirm."))
    # Two confirmations of one collective finishing at once: the second waits, then sees the first's members.
    Organization.objects.select_for_update(no_key=True).get(pk=organization.pk)
    id_numbers = [candidate.id_number for candidate in candidates]
    errors = [repeated_message(id_number) for id_number in repeated_id_numbers(id_numbers)]
    errors += [
        on_roster_message(member) for member in members_on_roster(organization=organization, id_numbers=id_numbers)
    ]
    if errors:
        raise ValidationError(errors)
    joined_on = timezone.localdate()
    members = []
    for candidate in candidates:
        member = Member(
            organization=organization,
            name=candidate.name,
            id_number=candidate.id_number,
            household=candidate.household,
            basis=candidate.basis,
            status=MemberStatus.ACTIVE,
            joined_on=joined_on,
            source_matter=matter,
        )
        member.full_clean()
        member.save()
        members.append(member)
    return members
