"""Member confirmation (成员身份确认): persons the member assembly confirms join the roster."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from viewflow.workflow import flow

from forms.member_confirmation import MemberConfirmationApplicationForm
from organizations.models import Organization, TransactionType
from protection.masking import mask_id_number
from registers.identity import validate_id_number
from registers.members import (
    members_confirm,
    members_on_roster,
    on_roster_message,
    repeated_id_numbers,
    repeated_message,
)
from registers.models import Member, MembershipBasis
from registers.selectors import id_number_indexes

from .models import MatterStatus, MemberCandidate
from .spine import Spine

CANDIDATE_FIELDS = ("name", "id_number", "household", "basis", "note")


def running_confirmation_messages(*, organization, id_numbers: list[str], matter) -> list[str]:
    """ID numbers already named in another running confirmation of the collective (but ``matter``)."""
    elsewhere = MemberCandidate.objects.filter(
        matter__organization=organization,
        matter__transaction_type=TransactionType.MEMBER_CONFIRMATION,
        matter__status=MatterStatus.IN_PROGRESS,
        id_number_index__in=id_number_indexes(id_numbers),
    ).select_related("matter")
    if matter is not None:
        elsewhere = elsewhere.exclude(matter=matter)
    return [
        _("%(id_number)s is already in the running confirmation “%(title)s”.")
        % {"id_number": mask_id_number(candidate.id_number), "title": candidate.matter.title}
        for candidate in elsewhere
    ]


class MemberConfirmationFlow(Spine, flow.Flow):
    """The village names the persons whose membership is to be confirmed; the member assembly
    resolves and the township approves; implementation puts them on the roster."""

    process_title = gettext_lazy("Member confirmation")
    transaction_type = TransactionType.MEMBER_CONFIRMATION
    application_form_class = MemberConfirmationApplicationForm
    detail_template = "flows/details/member_confirmation.html"

    def clean_application(self, *, organization, rule_version, data, matter=None) -> Decimal:
        candidates = data.get("candidates") or []
        if not candidates:
            raise ValidationError(_("Name at least one person to confirm."))
        errors = []
        for candidate in candidates:
            try:
                validate_id_number(candidate["id_number"])
            except ValidationError as error:
                errors.extend(
                    _("%(name)s: %(error)s") % {"name": candidate["name"], "error": message}
                    for message in error.messages
                )
            if candidate["basis"] not in MembershipBasis.values:
                errors.append(_("%(name)s: choose the basis of membership.") % {"name": candidate["name"]})
        id_numbers = [candidate["id_number"] for candidate in candidates]
        errors += [repeated_message(id_number) for id_number in repeated_id_numbers(id_numbers)]
        errors += [
            on_roster_message(member) for member in members_on_roster(organization=organization, id_numbers=id_numbers)
        ]
        errors += running_confirmation_messages(organization=organization, id_numbers=id_numbers, matter=matter)
        if errors:
            raise ValidationError(errors)
        # Membership has no amount; the rule table gives this type one band.
        return Decimal("0")

    def save_application(self, *, matter, data, new: bool = False) -> None:
        # Checked again under the collective's row lock: of two confirmations sent at once, the
        # second waits here for the first to commit, then sees its candidates.
        organization = Organization.objects.select_for_update(no_key=True).get(pk=matter.organization_id)
        id_numbers = [candidate["id_number"] for candidate in data["candidates"]]
        if messages := running_confirmation_messages(organization=organization, id_numbers=id_numbers, matter=matter):
            raise ValidationError(messages)
        if not new:
            matter.member_candidates.all().delete()
        for candidate in data["candidates"]:
            MemberCandidate.objects.create(
                matter=matter, **{field: candidate.get(field, "") for field in CANDIDATE_FIELDS}
            )

    def application_data(self, matter) -> dict:
        return {
            "title": matter.title,
            "candidates": [
                {field: getattr(candidate, field) for field in CANDIDATE_FIELDS}
                for candidate in matter.member_candidates.all()
            ],
        }

    def history_querysets(self, matter) -> list:
        """The candidates, including those a revision removed, and the roster rows the matter created."""
        return [
            MemberCandidate.history.filter(matter_id=matter.pk),
            Member.history.filter(source_matter_id=matter.pk),
        ]

    def register_effect(self, *, matter, user, data) -> None:
        members_confirm(
            organization=matter.organization, candidates=list(matter.member_candidates.all()), matter=matter
        )
