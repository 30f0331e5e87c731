"""Writing the security log: one function, used by every receiver and service here.

Each entry is chained into the tamper-evident ledger (documents.ledger) as a "security" entry whose
payload is the SHA-256 of the entry's fields, so the ledger vouches for the log without copying it
(a purged entry leaves its fingerprint behind, not its content).

An event that happens inside a transaction of the request (a refusal inside a service's atomic
block, which then rolls back) would vanish with it: during a request, events are held and written by
SecurityLogMiddleware once the view has returned. Outside a request they are written at once.
"""

import contextvars
import hashlib
import json
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from documents.ledger import ledger_append
from documents.models import LedgerKind
from organizations.jurisdiction import user_posts
from protection.addresses import client_address

from .models import EventKind, Outcome, SecurityEvent

DESCRIPTION_LENGTH = 500


@dataclass
class RequestContext:
    request: object
    pending: list = field(default_factory=list)
    refusal_logged: bool = False


current = contextvars.ContextVar("security_log_request", default=None)


def request_started(request) -> contextvars.Token:
    return current.set(RequestContext(request=request))


def request_finished(token: contextvars.Token) -> None:
    context = current.get()
    current.reset(token)
    if context is not None:
        for event in context.pending:
            _write(event)


def current_request():
    context = current.get()
    return context.request if context is not None else None


def mark_refusal_logged() -> None:
    context = current.get()
    if context is not None:
        context.refusal_logged = True


def refusal_logged() -> bool:
    context = current.get()
    return context is not None and context.refusal_logged


def event_digest(event: SecurityEvent) -> str:
    """The SHA-256 of an entry's fields, as the ledger holds it."""
    fields = {
        "pk": event.pk,
        "at": event.at.isoformat(),
        "actor": event.actor_id,
        "actor_name": event.actor_name,
        "kind": event.kind,
        "outcome": event.outcome,
        "description": event.description,
        "address": event.address,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "organization": event.organization_id,
    }
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _home(user):
    posts = user_posts(user)
    if posts:
        return posts[0].organization
    profile = getattr(user, "account_profile", None) if user is not None and user.pk else None
    return getattr(profile, "home_organization", None)


def security_log(
    *,
    kind: str,
    description: str,
    outcome: str = Outcome.SUCCESS,
    actor=None,
    actor_name: str = "",
    obj=None,
    organization=None,
    request=None,
    address: str | None = None,
) -> SecurityEvent:
    """Record one event. The actor defaults to the request's user, the address to the request's client."""
    request = request or current_request()
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if address is None and request is not None:
        address = client_address(request) or None
    event = SecurityEvent(
        at=timezone.now(),
        actor=actor,
        actor_name=(actor.get_username() if actor is not None else actor_name)[:150],
        kind=EventKind(kind).value,
        outcome=Outcome(outcome).value,
        description=str(description)[:DESCRIPTION_LENGTH],
        address=address or None,
        object_type=obj._meta.object_name if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        organization=organization or _home(actor),
    )
    context = current.get()
    if context is not None and transaction.get_connection().in_atomic_block:
        context.pending.append(event)
    else:
        _write(event)
    return event


def _write(event: SecurityEvent) -> None:
    with transaction.atomic():
        event.save()
        ledger_append(kind=LedgerKind.SECURITY, obj=event, payload={"event": event.pk, "sha256": event_digest(event)})
