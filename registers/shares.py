"""The share register: holdings as sums of an append-only ledger, transfers, and share certificates (股权证)."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from flows.models import EquityTransfer, EquityTransferKind

from .holdings import holdings, more_than_held_error
from .models import Member, MemberStatus, ShareCertificate, ShareKind, ShareLedgerEntry, ShareReason
from .tasks import render_certificate


def _lock(members: Iterable[Member]) -> dict[int, Member]:
    """Lock the members' rows in primary-key order, so two transfers between the same people cannot deadlock."""
    pks = sorted({member.pk for member in members})
    rows = Member.objects.select_for_update(of=("self",)).select_related("organization").filter(pk__in=pks)
    return {member.pk: member for member in rows.order_by("pk")}


def _entry(*, member: Member, kind: str, change: int, reason: str, counterpart=None, matter=None) -> ShareLedgerEntry:
    entry = ShareLedgerEntry(
        organization_id=member.organization_id,
        member=member,
        kind=kind,
        change=change,
        reason=reason,
        counterpart=counterpart,
        matter=matter,
    )
    entry.full_clean()
    entry.save()
    return entry


@transaction.atomic
def shares_allocate(*, member: Member, kind: str, shares: int) -> ShareLedgerEntry:
    """The initial allocation (配股) of shares to a member; certificates are issued separately."""
    member = _lock([member])[member.pk]
    if member.status != MemberStatus.ACTIVE:
        raise ValidationError(_("Shares are allocated only to active members."))
    if kind not in ShareKind.values:
        raise ValidationError({"share_kind": _("Choose a share kind.")})
    if shares < 1:
        raise ValidationError({"shares": _("Allocate at least one share.")})
    return _entry(member=member, kind=kind, change=shares, reason=ShareReason.ALLOCATION)


@transaction.atomic
def shares_transfer(*, transfer: EquityTransfer, matter) -> list[ShareLedgerEntry]:
    """Apply an approved transfer: two ledger entries (one for a redemption), then new certificates.

    The holder's row is locked first, and the holding recomputed under the lock: two transfers of
    the same holding implemented at once are serialised, and the second sees what the first took."""
    redemption = transfer.kind == EquityTransferKind.REDEMPTION
    parties = [transfer.from_member] if redemption else [transfer.from_member, transfer.to_member]
    locked = _lock(parties)
    holder = locked[transfer.from_member_id]
    receiver = None if redemption else locked[transfer.to_member_id]
    holder_statuses = {MemberStatus.ACTIVE}
    if transfer.kind == EquityTransferKind.INHERITANCE:
        holder_statuses.add(MemberStatus.DECEASED)
    if holder.organization_id != matter.organization_id or holder.status not in holder_statuses:
        raise ValidationError({"from_member": _("The holder must be an active member of this collective.")})
    if receiver is not None and (
        receiver.organization_id != matter.organization_id or receiver.status != MemberStatus.ACTIVE
    ):
        raise ValidationError(
            {"to_member": _("Shares can only be transferred to an active member of this collective.")}
        )
    held = holdings(holder)[transfer.share_kind]
    if transfer.shares > held:
        raise more_than_held_error(member=holder, kind=transfer.share_kind, held=held)
    reason = ShareReason(transfer.kind)
    entries = [
        _entry(
            member=holder,
            kind=transfer.share_kind,
            change=-transfer.shares,
            reason=reason,
            counterpart=receiver,
            matter=matter,
        )
    ]
    if receiver is not None:
        entries.append(
            _entry(
                member=receiver,
                kind=transfer.share_kind,
                change=transfer.shares,
                reason=reason,
                counterpart=holder,
                matter=matter,
            )
        )
    certificates_reissue(members=[entry.member for entry in entries], matter=matter)
    return entries


@transaction.atomic
def certificates_reissue(*, members: Iterable[Member], matter=None, render: bool = True) -> list[ShareCertificate]:
    """Supersede each member's current certificate and issue one showing what they hold now.

    A member left holding nothing gets no new certificate: the old one is simply superseded.
    The PDF is rendered by a worker once the certificate is committed; ``render=False`` (bulk seeding)
    leaves it to the certificate page, which queues it on first view."""
    locked = _lock(members)
    now = timezone.now()
    issued = []
    for member in locked.values():
        for current in ShareCertificate.objects.filter(member=member, superseded_at__isnull=True):
            current.superseded_at = now
            current.save(update_fields=["superseded_at"])
        held = {kind: shares for kind, shares in holdings(member).items() if shares}
        if not held:
            continue
        sequence = ShareCertificate.objects.filter(member=member).count() + 1
        certificate = ShareCertificate(
            member=member,
            number=f"{member.organization.code}-GQ{member.pk}-{sequence}",
            holdings=held,
            matter=matter,
        )
        certificate.full_clean()
        certificate.save()
        if render:
            transaction.on_commit(lambda pk=certificate.pk: render_certificate.delay(pk), robust=True)
        issued.append(certificate)
    return issued
