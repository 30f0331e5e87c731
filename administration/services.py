"""The work of the three administrators (三员分立), each confined to their own part of the tree.

- system administrator: organisations, accounts and business posts, within their subtree, never a post
  above or outside it, never for themselves or another administrator's account;
- security administrator: the security policy, lifting lockouts, ending sessions, resetting two-factor
  login and (for business accounts) setting an initial password;
- audit administrator: reads, exports and (past the retention period) purges the security log.

An administrator's post is made only on the command line (``manage.py administrator_create``).
Changes of posts, accounts and organisations are logged by the receivers; the actions below that no
model signal sees log themselves.
"""

import datetime
import secrets
import string

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher, get_hasher, make_password
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from organizations.jurisdiction import user_posts
from organizations.models import ADMINISTRATOR_ROLES, Organization, OrganizationKind, Post, Role

from .log import security_log
from .models import (
    AccountProfile,
    EventKind,
    Outcome,
    PasswordHistory,
    SecurityEvent,
    SecurityPolicy,
    TrackedSession,
    validate_retention,
)
from .passwords import character_classes

User = get_user_model()
BUSINESS_ROLES = frozenset(Role.values) - ADMINISTRATOR_ROLES
# Which kind of place lies directly below which.
CHILD_KIND = {
    OrganizationKind.PROVINCE: OrganizationKind.CITY,
    OrganizationKind.CITY: OrganizationKind.COUNTY,
    OrganizationKind.COUNTY: OrganizationKind.TOWNSHIP,
    OrganizationKind.TOWNSHIP: OrganizationKind.VILLAGE,
    OrganizationKind.VILLAGE: OrganizationKind.COLLECTIVE,
}
# Roles a post may hold at each kind of place.
ROLES_AT = {
    OrganizationKind.VILLAGE: {Role.VILLAGE_SECRETARY, Role.VILLAGE_CASHIER, Role.VILLAGE_SUPERVISOR},
    OrganizationKind.TOWNSHIP: {Role.TOWNSHIP_OFFICER, Role.TOWNSHIP_LEADER, Role.DISCIPLINE_INSPECTOR},
    OrganizationKind.COUNTY: {Role.COUNTY_ADMIN, Role.DISCIPLINE_INSPECTOR},
    # The levels above the county (five levels): their administrators and inspectors see everything below.
    OrganizationKind.CITY: {Role.COUNTY_ADMIN, Role.DISCIPLINE_INSPECTOR},
    OrganizationKind.PROVINCE: {Role.COUNTY_ADMIN, Role.DISCIPLINE_INSPECTOR},
}
INITIAL_PASSWORD_LENGTH = 14
# Iterations of PBKDF2 for a batch of one-time passwords (a county's import: hundreds at once). Stretching
# guards passwords people choose; these are 14 random characters of 67 (about 85 bits), so 20,000 rounds
# (about 14 bits more) leave them as hard to guess, and a batch of 300 hashes in seconds, not the two
# minutes the default million rounds take. Django rehashes with the default at the first login, which must
# choose a new password anyway.
BATCH_PASSWORD_ITERATIONS = 20_000


# --- who administers what ---------------------------------------------------------------------


def administrator_post(user, role: str) -> Post | None:
    """The user's post as this kind of administrator, or None."""
    return next((post for post in user_posts(user) if post.role == role), None)


def require_administrator(user, role: str) -> Post:
    post = administrator_post(user, role)
    if post is None:
        raise PermissionDenied
    return post


def within(organization: Organization, post: Post) -> bool:
    return organization.path.startswith(post.organization.path)


def is_administrator(user) -> bool:
    return Post.objects.filter(user=user, role__in=ADMINISTRATOR_ROLES).exists()


def administrators_among(user_ids) -> set[int]:
    """Which of these accounts hold an administrator's post (one query)."""
    return set(
        Post.objects.filter(user_id__in=user_ids, role__in=ADMINISTRATOR_ROLES).values_list("user_id", flat=True)
    )


def accounts_in_scope(post: Post):
    """Accounts whose every post lies under the administrator's place, or with no post and made there."""
    return accounts_under(post.organization)


def accounts_under(organization: Organization):
    """Accounts whose every post lies under the place, or with no post and made there."""
    path = organization.path
    outside = Post.objects.exclude(organization__path__startswith=path).values("user_id")
    inside = Post.objects.filter(organization__path__startswith=path).values("user_id")
    made_here = AccountProfile.objects.filter(home_organization__path__startswith=path).values("user_id")
    return (
        User.objects.filter(is_superuser=False)
        .filter(Q(pk__in=inside) | Q(pk__in=made_here))
        .exclude(pk__in=outside)
        .order_by("username")
    )


def require_in_scope(post: Post, account) -> None:
    if not accounts_in_scope(post).filter(pk=account.pk).exists():
        raise PermissionDenied


def initial_password() -> str:
    """A random password that meets the policy; the account must change it at its first login."""
    alphabet = string.ascii_letters + string.digits + "-_.@#"
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(INITIAL_PASSWORD_LENGTH))
        if character_classes(password) >= 3:
            return password


# --- system administrator ---------------------------------------------------------------------


def organization_create(*, actor, parent: Organization, name: str, code: str) -> Organization:
    post = require_administrator(actor, Role.SYSTEM_ADMIN)
    if not within(parent, post):
        raise PermissionDenied
    kind = CHILD_KIND.get(parent.kind)
    if kind is None:
        raise ValidationError(_("Nothing can be placed below a collective economic organisation."))
    organization = Organization(parent=parent, name=name.strip(), code=code.strip(), kind=kind)
    organization.full_clean()
    organization.save()
    return organization


@transaction.atomic
def account_create(*, actor, username: str, last_name: str, first_name: str) -> tuple:
    """A new business account with a one-time initial password, to be changed at its first login."""
    post = require_administrator(actor, Role.SYSTEM_ADMIN)
    password = initial_password()
    user = account_open(
        username=username,
        last_name=last_name,
        first_name=first_name,
        home=post.organization,
        created_by=actor,
        password=password,
    )
    return user, password


def account_open(
    *, username: str, last_name: str, first_name: str, home: Organization, created_by, password: str | None
):
    """A new business account made at ``home``, owing a password change at its first login.

    Without a password (an imported account) it cannot log in until the security administrator sets
    its one-time initial password (``password_reset``)."""
    user = User(username=username.strip(), last_name=last_name.strip(), first_name=first_name.strip())
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.full_clean()
    user.save()
    AccountProfile.objects.create(user=user, home_organization=home, must_change_password=True, created_by=created_by)
    return user


def account_set_active(*, actor, account, active: bool):
    post = require_administrator(actor, Role.SYSTEM_ADMIN)
    if account.pk == actor.pk or is_administrator(account):
        raise PermissionDenied
    require_in_scope(post, account)
    account.is_active = active
    account.save(update_fields=["is_active"])
    return account


def post_grant(*, actor, account, organization: Organization, role: str) -> Post:
    """Give a business post under the administrator's place; never to themselves, never to an administrator."""
    post = require_administrator(actor, Role.SYSTEM_ADMIN)
    if role not in BUSINESS_ROLES or not within(organization, post):
        raise PermissionDenied
    if account.pk == actor.pk:
        raise PermissionDenied
    if role not in ROLES_AT.get(organization.kind, set()):
        raise ValidationError(
            {"role": _("This post cannot be held at a %(kind)s.") % {"kind": organization.get_kind_display()}}
        )
    with transaction.atomic():
        # Two grants for one account at once: the second waits and sees the first (an administrator's
        # account, or a duplicate).
        account = User.objects.select_for_update().get(pk=account.pk)
        require_in_scope(post, account)
        granted = Post(user=account, organization=organization, role=role)
        granted.full_clean()
        granted.save()
    return granted


def post_revoke(*, actor, post_id: int) -> None:
    admin_post = require_administrator(actor, Role.SYSTEM_ADMIN)
    post = Post.objects.select_related("organization", "user").get(pk=post_id)
    if post.role in ADMINISTRATOR_ROLES or not within(post.organization, admin_post) or post.user_id == actor.pk:
        raise PermissionDenied
    post.delete()


# --- security administrator -------------------------------------------------------------------


POLICY_FIELDS = (
    "min_password_length",
    "password_history",
    "failure_limit",
    "lockout_minutes",
    "idle_minutes",
    "absolute_hours",
)


@transaction.atomic
def policy_update(*, actor, **values) -> SecurityPolicy:
    require_administrator(actor, Role.SECURITY_ADMIN)
    policy = SecurityPolicy.objects.select_for_update().order_by("pk").first() or SecurityPolicy()
    before = {name: getattr(policy, name) for name in POLICY_FIELDS}
    for name in POLICY_FIELDS:
        if name in values:
            setattr(policy, name, values[name])
    policy.changed_by = actor
    policy.full_clean()
    policy.save()
    changes = [
        f"{name}: {before[name]} → {getattr(policy, name)}"
        for name in POLICY_FIELDS
        if before[name] != getattr(policy, name)
    ]
    security_log(
        kind=EventKind.POLICY_CHANGED, actor=actor, obj=policy, description="; ".join(changes) or _("No change.")
    )
    return policy


def lockout_release(*, actor, username: str = "", address: str = "") -> int:
    require_administrator(actor, Role.SECURITY_ADMIN)
    if not username and not address:
        raise ValidationError(_("Name the account or the address to unlock."))
    released = axes_reset(username=username or None, ip=address or None)
    security_log(
        kind=EventKind.UNLOCK,
        actor=actor,
        description=_("Lockout lifted for %(who)s (%(count)s records).")
        % {"who": username or address, "count": released},
    )
    return released


def session_end(*, actor, tracked_id: int) -> None:
    post = require_administrator(actor, Role.SECURITY_ADMIN)
    tracked = TrackedSession.objects.select_related("user").get(pk=tracked_id)
    if not is_administrator(tracked.user):
        require_in_scope(post, tracked.user)
    store: SessionBase = import_string(f"{settings.SESSION_ENGINE}.SessionStore")(session_key=tracked.session_key)
    store.delete()
    tracked.delete()
    security_log(
        kind=EventKind.SESSION_ENDED,
        actor=actor,
        description=_("Session of %(account)s ended.") % {"account": tracked.user.get_username()},
        obj=tracked.user,
    )


def mfa_reset(*, actor, account) -> int:
    post = require_administrator(actor, Role.SECURITY_ADMIN)
    if account.pk == actor.pk:
        raise PermissionDenied
    if not is_administrator(account):
        require_in_scope(post, account)
    deleted, _rows = TOTPDevice.objects.filter(user=account).delete()
    security_log(
        kind=EventKind.MFA_RESET,
        actor=actor,
        obj=account,
        description=_("Two-factor login of %(account)s reset; it sets it up again at the next login.")
        % {"account": account.get_username()},
    )
    return deleted


@transaction.atomic
def password_reset(*, actor, account) -> str:
    """A new initial password for a business account that lost its own (administrators: the command line)."""
    post = require_administrator(actor, Role.SECURITY_ADMIN)
    if account.pk == actor.pk or is_administrator(account):
        raise PermissionDenied
    require_in_scope(post, account)
    password = initial_password()
    account.set_password(password)
    account.save(update_fields=["password"])
    AccountProfile.objects.update_or_create(user=account, defaults={"must_change_password": True})
    security_log(
        kind=EventKind.PASSWORD_RESET,
        actor=actor,
        obj=account,
        description=_("Initial password set for %(account)s; it must be changed at the next login.")
        % {"account": account.get_username()},
    )
    return password


def _batch_hash(password: str) -> str:
    hasher = get_hasher("default")
    if isinstance(hasher, PBKDF2PasswordHasher):
        return hasher.encode(password, hasher.salt(), iterations=min(BATCH_PASSWORD_ITERATIONS, hasher.iterations))
    return make_password(password)


@transaction.atomic
def initial_passwords_issue(*, actor, accounts, source: str, again: bool = False) -> list[tuple]:
    """One-time initial passwords for many business accounts at once, each logged as ``password_reset`` logs one.

    First time (``again`` false): the accounts that have no usable password yet. Again: the accounts that
    still owe their first password change (the earlier passwords stop working); accounts that chose their
    own password are left alone. Returns (account, password) pairs, by username; nothing is kept."""
    post = require_administrator(actor, Role.SECURITY_ADMIN)
    ids = [account.pk for account in accounts]
    if actor.pk in ids or administrators_among(ids):
        raise PermissionDenied
    if accounts_in_scope(post).filter(pk__in=ids).count() != len(set(ids)):
        raise PermissionDenied
    # Two issues at once: the second waits here, then reads the passwords and profiles the first has set.
    locked = list(User.objects.select_for_update().filter(pk__in=ids).order_by("username"))
    owing = set(
        AccountProfile.objects.filter(user_id__in=ids, must_change_password=True).values_list("user_id", flat=True)
    )
    if again:
        chosen = [account for account in locked if account.pk in owing]
    else:
        chosen = [account for account in locked if not account.has_usable_password()]
    issued = []
    for account in chosen:
        password = initial_password()
        account.password = _batch_hash(password)
        issued.append((account, password))
    User.objects.bulk_update(chosen, ["password"])
    PasswordHistory.objects.bulk_create(
        [PasswordHistory(user=account, password=account.password) for account in chosen]
    )
    profiles = AccountProfile.objects.filter(user__in=chosen)
    profiles.update(must_change_password=True)
    missing = {account.pk for account in chosen} - set(profiles.values_list("user_id", flat=True))
    AccountProfile.objects.bulk_create([AccountProfile(user_id=pk, must_change_password=True) for pk in missing])
    if again:
        description = _(
            "Initial password set again for %(account)s (%(source)s): the earlier one no longer works; "
            "it must be changed at the next login."
        )
    else:
        description = _("Initial password set for %(account)s (%(source)s); it must be changed at the next login.")
    for account, _password in issued:
        security_log(
            kind=EventKind.PASSWORD_RESET,
            actor=actor,
            obj=account,
            description=description % {"account": account.get_username(), "source": source},
        )
    return issued


# --- audit administrator ----------------------------------------------------------------------


def security_log_purge(*, actor, before: datetime.date) -> int:
    """Delete entries older than ``before``, which must lie past the retention period (at least 180 days)."""
    require_administrator(actor, Role.AUDIT_ADMIN)
    validate_retention(settings.SECURITY_LOG_RETENTION_DAYS)
    oldest_allowed = timezone.localdate() - datetime.timedelta(days=settings.SECURITY_LOG_RETENTION_DAYS)
    if before > oldest_allowed:
        raise ValidationError(
            {
                "before": _("Entries are kept %(days)s days: choose a date on or before %(date)s.")
                % {"days": settings.SECURITY_LOG_RETENTION_DAYS, "date": oldest_allowed}
            }
        )
    cutoff = timezone.make_aware(datetime.datetime.combine(before, datetime.time.min))
    with transaction.atomic():
        purged = SecurityEvent.objects.filter(at__lt=cutoff).purge()[0]
    security_log(
        kind=EventKind.LOG_PURGED,
        actor=actor,
        outcome=Outcome.SUCCESS,
        description=_("%(count)s security log entries older than %(date)s purged.") % {"count": purged, "date": before},
    )
    return purged
