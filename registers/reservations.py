"""Reservations: what a running matter has promised away, held from its application to its end.

An application reserves what it commits (shares of a holding, an asset, a resource for a term) under the
holding's row lock, and checks what is free under the same lock: of two applications for one holding sent
at the same moment, the second waits for the first to commit, then sees its reservation and is refused.
The asset's reservation is also unique in the database. A reservation is released when its matter is
withdrawn, rejected or stopped, and consumed when the matter is implemented.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from .contracts import overlapping_contracts, resource_taken_message
from .holdings import holdings, more_than_held_error
from .models import Asset, Member, Reservation, ReservationKind, ReservationState, Resource


def held_reservations() -> QuerySet:
    return Reservation.objects.filter(state=ReservationState.HELD)


def shares_reserved(*, member: Member, kind: str, excluding=None) -> int:
    """Shares of this holder and kind held by running matters (but the matter ``excluding``)."""
    reservations = held_reservations().filter(kind=ReservationKind.SHARES, member=member, share_kind=kind)
    if excluding is not None:
        reservations = reservations.exclude(matter=excluding)
    return reservations.aggregate(total=Sum("shares"))["total"] or 0


def asset_reservation(asset: Asset, *, excluding=None) -> Reservation | None:
    """The running matter's reservation of this asset (but the matter ``excluding``'s), if any."""
    reservations = held_reservations().filter(kind=ReservationKind.ASSET, asset=asset).select_related("matter")
    if excluding is not None:
        reservations = reservations.exclude(matter=excluding)
    return reservations.first()


def asset_reserved_message(reservation: Reservation) -> str:
    return _(
        "%(asset)s is reserved by the running matter “%(title)s”; it is free again once that matter is "
        "withdrawn, rejected or stopped."
    ) % {"asset": reservation.asset, "title": reservation.matter.title}


def resource_reservations(resource: Resource, start: datetime.date, end: datetime.date, *, excluding=None) -> QuerySet:
    """Held reservations of the resource for a term overlapping ``start``–``end`` (but ``excluding``'s)."""
    reservations = held_reservations().filter(
        kind=ReservationKind.RESOURCE_TERM, resource=resource, start_date__lte=end, end_date__gte=start
    )
    if excluding is not None:
        reservations = reservations.exclude(matter=excluding)
    return reservations.select_related("matter")


def resource_reserved_message(reservation: Reservation) -> str:
    return _(
        "%(resource)s is reserved from %(start)s to %(end)s by the running matter “%(title)s”; choose a term "
        "that does not overlap it."
    ) % {
        "resource": reservation.resource,
        "start": reservation.start_date,
        "end": reservation.end_date,
        "title": reservation.matter.title,
    }


def _current(matter) -> Reservation | None:
    return held_reservations().filter(matter=matter).first()


def _same(reservation: Reservation | None, **spec) -> bool:
    return reservation is not None and all(getattr(reservation, name) == value for name, value in spec.items())


def _end(reservation: Reservation, state: str) -> None:
    reservation.state = state
    reservation.ended_at = timezone.now()
    reservation.full_clean()
    reservation.save(update_fields=["state", "ended_at"])


def _hold(*, matter, current: Reservation | None, **spec) -> Reservation:
    """Replace the matter's current reservation (a revised application) by one for ``spec``."""
    if current is not None:
        _end(current, ReservationState.RELEASED)
    reservation = Reservation(organization_id=matter.organization_id, matter=matter, **spec)
    reservation.full_clean()
    reservation.save()
    return reservation


@transaction.atomic
def shares_reserve(*, matter, member: Member, kind: str, shares: int) -> Reservation:
    """Reserve ``shares`` of the holder's ``kind`` for the matter, or refuse when fewer are free.

    Free is what the share ledger says is held, less what running matters hold, counted under the
    holder's row lock (no key: rows that refer to the holder keep being written)."""
    spec = {"kind": ReservationKind.SHARES, "member": member, "share_kind": kind, "shares": shares}
    holder = Member.objects.select_for_update(no_key=True, of=("self",)).get(pk=member.pk)
    current = _current(matter)
    if _same(current, **spec):
        return current
    held = holdings(holder)[kind]
    reserved = shares_reserved(member=holder, kind=kind, excluding=matter)
    if shares > held - reserved:
        raise more_than_held_error(member=holder, kind=kind, held=held, committed=reserved)
    return _hold(matter=matter, current=current, **{**spec, "member": holder})


@transaction.atomic
def asset_reserve(*, matter, asset: Asset) -> Reservation:
    """Reserve the asset for the matter's lease or disposal, or refuse when another running matter holds it."""
    locked = Asset.objects.select_for_update(no_key=True).get(pk=asset.pk)
    current = _current(matter)
    spec = {"kind": ReservationKind.ASSET, "asset": locked}
    if _same(current, **spec):
        return current
    if (other := asset_reservation(locked, excluding=matter)) is not None:
        raise ValidationError({"asset": asset_reserved_message(other)})
    return _hold(matter=matter, current=current, **spec)


@transaction.atomic
def resource_term_reserve(*, matter, resource: Resource, start_date: datetime.date, end_date: datetime.date):
    """Reserve the resource from ``start_date`` to ``end_date``, or refuse when a contract or another running
    matter holds it for an overlapping term."""
    locked = Resource.objects.select_for_update(no_key=True).get(pk=resource.pk)
    current = _current(matter)
    spec = {"kind": ReservationKind.RESOURCE_TERM, "resource": locked, "start_date": start_date, "end_date": end_date}
    if _same(current, **spec):
        return current
    if (contract := overlapping_contracts(locked, start_date, end_date).first()) is not None:
        raise ValidationError({"resource": resource_taken_message(contract)})
    if (other := resource_reservations(locked, start_date, end_date, excluding=matter).first()) is not None:
        raise ValidationError({"resource": resource_reserved_message(other)})
    return _hold(matter=matter, current=current, **spec)


def _finish(matter, state: str) -> int:
    # Inside the step that ends the matter without a savepoint of its own: an error undoes the whole step.
    ended = 0
    for reservation in held_reservations().filter(matter=matter).select_for_update():
        _end(reservation, state)
        ended += 1
    return ended


@transaction.atomic(savepoint=False)
def reservations_release(*, matter) -> int:
    """The matter was withdrawn, rejected or stopped: what it reserved is free again. Returns how many."""
    return _finish(matter, ReservationState.RELEASED)


@transaction.atomic(savepoint=False)
def reservations_consume(*, matter) -> int:
    """The matter was implemented: its reservations became the register's own change. Returns how many."""
    return _finish(matter, ReservationState.CONSUMED)
