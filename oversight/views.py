"""The statistics pages (综合查询、统计分析): one per township, county, city or province, in the viewer's jurisdiction.

Township leaders, county administrators and inspectors read them; the county administrator's and the
inspector's home page is their highest place's overview (flows.views.inbox sends them here).
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from organizations.jurisdiction import can_act, can_see, user_posts
from organizations.models import Organization, OrganizationKind, Role

from .exports import workbook_response
from .figures import child_kind, overview, years_with_figures

OVERSIGHT_ROLES = frozenset({Role.TOWNSHIP_LEADER, Role.COUNTY_ADMIN, Role.DISCIPLINE_INSPECTOR})
EARLIEST_YEAR = 2000


def oversight_places(user) -> list[Organization]:
    """The places whose statistics the user reads, the highest first."""
    places = {post.organization for post in user_posts(user) if post.role in OVERSIGHT_ROLES}
    return sorted(places, key=lambda organization: (organization.path.count("/"), organization.path))


def may_read_statistics(user) -> bool:
    return bool(oversight_places(user))


def _place_for(user, pk: int) -> Organization:
    organization = get_object_or_404(Organization.objects.exclude(kind=OrganizationKind.COLLECTIVE), pk=pk)
    if not can_see(user, organization):
        raise Http404
    if not can_act(user, organization, OVERSIGHT_ROLES):
        raise PermissionDenied
    return organization


def _year(request) -> int:
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year", today.year))
    except ValueError:
        return today.year
    return year if EARLIEST_YEAR <= year <= today.year + 1 else today.year


@login_required
def home(request):
    places = oversight_places(request.user)
    if not places:
        raise PermissionDenied
    return redirect("oversight:place", pk=places[0].pk)


@login_required
def place(request, pk: int):
    organization = _place_for(request.user, pk)
    year = _year(request)
    figures = overview(organization, year=year)
    ancestors = [
        ancestor
        for ancestor in Organization.objects.filter(pk__in=organization.ancestor_ids()).order_by("path")
        if ancestor.pk != organization.pk and can_act(request.user, ancestor, OVERSIGHT_ROLES)
    ]
    below = child_kind(organization.kind)
    context = {
        "organization": organization,
        "overview": figures,
        "year": year,
        "years": years_with_figures(organization),
        "ancestors": ancestors,
        "children_link": below not in (None, OrganizationKind.COLLECTIVE),
        "charts": {table.key: table.chart for table in figures.tables},
    }
    return render(request, "oversight/place.html", context)


@login_required
def export(request, pk: int):
    """The page's tables as Excel: all of them, or the one named by ``?table=``."""
    organization = _place_for(request.user, pk)
    year = _year(request)
    figures = overview(organization, year=year)
    key = request.GET.get("table", "")
    tables = [table for table in figures.tables if not key or table.key == key]
    if not tables:
        raise Http404
    heading = _("%(place)s, %(year)s") % {"place": organization.name, "year": year}
    suffix = f"-{key}" if key else ""
    return workbook_response(
        tables=tables, heading=heading, filename=f"statistics-{organization.code}-{year}{suffix}.xlsx"
    )
