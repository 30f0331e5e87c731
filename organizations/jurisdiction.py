"""The one door for permission: what a user may see and what they may do, and where.

Every list, detail, download and task action asks here. A post covers its own
organisation and everything below it in the tree. Inspectors and county
administrators read; only village and township posts act, each in its own part.
The three administrators' posts (system, security, audit) open no business data at
all: they are left out here, and administration/ has doors of its own for them.
Every refusal is announced (organizations.signals.jurisdiction_refused) for the
security log.
"""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from .models import ADMINISTRATOR_ROLES, Organization, Post, Role
from .signals import jurisdiction_refused

READ_ONLY_ROLES = frozenset({Role.DISCIPLINE_INSPECTOR, Role.COUNTY_ADMIN})
VILLAGE_ROLES = frozenset({Role.VILLAGE_SECRETARY, Role.VILLAGE_CASHIER, Role.VILLAGE_SUPERVISOR})
TOWNSHIP_ROLES = frozenset({Role.TOWNSHIP_OFFICER, Role.TOWNSHIP_LEADER})


def user_posts(user) -> list[Post]:
    """The user's posts, fetched once per user object (requests reuse request.user)."""
    if user is None or not user.is_authenticated:
        return []
    cached = getattr(user, "_jurisdiction_posts", None)
    if cached is None:
        cached = list(Post.objects.filter(user=user).select_related("organization"))
        user._jurisdiction_posts = cached
    return cached


def business_posts(user) -> list[Post]:
    """The posts that open business data: every post but an administrator's."""
    return [post for post in user_posts(user) if post.role not in ADMINISTRATOR_ROLES]


def _covers(post: Post, organization: Organization) -> bool:
    return organization.path.startswith(post.organization.path)


def roles_over(user, organization: Organization) -> set[str]:
    """Business roles the user holds on posts at or above the organisation."""
    return {post.role for post in business_posts(user) if _covers(post, organization)}


def can_see(user, organization: Organization) -> bool:
    return bool(roles_over(user, organization))


def can_act(user, organization: Organization, roles: Iterable[str]) -> bool:
    """True when the user holds one of the roles on a post covering the organisation."""
    return bool(roles_over(user, organization) & set(roles))


def require_act(user, organization: Organization, roles: Iterable[str]) -> None:
    if not can_act(user, organization, roles):
        jurisdiction_refused.send(sender=Organization, user=user, outcome="not_allowed", what=str(organization))
        raise PermissionDenied


def scope_filter(user, field: str = "organization") -> Q:
    """A Q matching rows whose organisation lies under one of the user's posts."""
    return _path_filter(user, lookup=f"{field}__path__startswith")


def visible(user, queryset: QuerySet, field: str = "organization") -> QuerySet:
    """Restrict any queryset with an organisation foreign key to the user's jurisdiction."""
    return queryset.filter(scope_filter(user, field))


def visible_organizations(user, kind: str | None = None) -> QuerySet:
    organizations = Organization.objects.filter(_path_filter(user))
    if kind:
        organizations = organizations.filter(kind=kind)
    return organizations


def _path_filter(user, lookup: str = "path__startswith") -> Q:
    prefixes = {post.organization.path for post in business_posts(user)}
    if not prefixes:
        return Q(pk__in=[])
    condition = Q()
    for prefix in sorted(prefixes):
        condition |= Q(**{lookup: prefix})
    return condition


def get_for_user(user, queryset: QuerySet, pk, field: str = "organization"):
    """Fetch one object the user may see; anything outside their jurisdiction is a 404."""
    try:
        return visible(user, queryset, field).get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as error:
        what = f"{queryset.model._meta.object_name} {pk}"
        jurisdiction_refused.send(sender=queryset.model, user=user, outcome="not_found", what=what)
        raise Http404 from error


def users_holding(organization: Organization, roles: Iterable[str]) -> QuerySet:
    """Active users with one of the roles on a post at or above the organisation: who must hear of it."""
    from django.contrib.auth import get_user_model

    places = [*organization.ancestor_ids(), organization.pk]
    return (
        get_user_model()
        .objects.filter(is_active=True, posts__organization_id__in=places, posts__role__in=list(roles))
        .distinct()
        .order_by("pk")
    )
