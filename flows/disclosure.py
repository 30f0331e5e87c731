"""Full personal numbers on the matter page: shown only to the posts whose work needs them, each showing logged.

Everywhere else ID and phone numbers are masked on the server (protection/masking.py). The township's
officer and leader check a member confirmation's ID numbers against the person's papers while the matter
waits for them; the village supervisor calls back whoever raised an objection. Either asks for the full
numbers with ``?reveal=1``, and the security log records who saw which matter's numbers.
"""

from django.utils.translation import gettext as _

from organizations.jurisdiction import TOWNSHIP_ROLES, can_act
from organizations.models import Role, TransactionType
from organizations.signals import security_event

from .models import Matter, Step

ID_CHECK_STEPS = frozenset({Step.CHECK_BY_TOWNSHIP, Step.APPROVE_BY_TOWNSHIP})


def may_reveal_id_numbers(user, matter: Matter) -> bool:
    return (
        matter.transaction_type == TransactionType.MEMBER_CONFIRMATION
        and matter.next_step in ID_CHECK_STEPS
        and can_act(user, matter.organization, TOWNSHIP_ROLES)
    )


def may_reveal_phones(user, matter: Matter) -> bool:
    return can_act(user, matter.organization, {Role.VILLAGE_SUPERVISOR})


def disclosure_for(request, matter: Matter) -> dict:
    """What the page may show in full, and the log entry for each full showing."""
    may_ids = may_reveal_id_numbers(request.user, matter)
    may_phones = may_reveal_phones(request.user, matter) and matter.notices.filter(objections__isnull=False).exists()
    wanted = request.GET.get("reveal") == "1"
    shown = {"reveal_ids": wanted and may_ids, "reveal_phones": wanted and may_phones}
    if shown["reveal_ids"]:
        _logged(request, matter, _("ID numbers of the persons to confirm in matter #%(pk)s shown in full."))
    if shown["reveal_phones"]:
        _logged(request, matter, _("Phone numbers of the objections to matter #%(pk)s shown in full."))
    return {**shown, "can_reveal": (may_ids or may_phones) and not wanted}


def _logged(request, matter: Matter, text: str) -> None:
    security_event.send(
        sender=Matter,
        kind="reveal",
        description=text % {"pk": matter.pk},
        actor=request.user,
        obj=matter,
        request=request,
    )
