"""The rule table pages of the county administrator (and of a city's or province's): read the table in force
as ladders of amounts, make a new version from it, check it, see what it changes, save it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from organizations.jurisdiction import business_posts, visible_organizations
from organizations.models import RULE_TABLE_KINDS, MeetingBody, Organization, RuleVersion, TransactionType
from organizations.rules import own_version_in_force, rule_floors
from organizations.signals import jurisdiction_refused

from .checks import level_name
from .forms import RuleTableForm
from .services import (
    baseline_of,
    in_line,
    looser_than_floors,
    may_edit,
    may_read,
    places_looser_than,
    rule_version_check,
    rule_version_create,
)
from .tables import VERSION_FIELDS, default_table, label_of, ladder, meeting_in_words, shown, table_diff, table_of


def _place_for(user, pk: int) -> Organization:
    """A place whose rule table the user reads: outside their jurisdiction a 404, a place they only work in a 403."""
    place = Organization.objects.filter(pk=pk, kind__in=RULE_TABLE_KINDS).first()
    if place is None or not in_line(user, place):
        jurisdiction_refused.send(sender=Organization, user=user, outcome="not_found", what=f"rule table {pk}")
        raise Http404
    if not may_read(user, place):
        jurisdiction_refused.send(sender=Organization, user=user, outcome="not_allowed", what=str(place))
        raise PermissionDenied
    return place


def _places(user) -> list[Organization]:
    """The tables the user reads: at and below their posts, and the levels above them."""
    above = {pk for post in business_posts(user) for pk in post.organization.ancestor_ids()}
    places = Organization.objects.filter(
        Q(pk__in=above) | Q(pk__in=visible_organizations(user).values("pk")), kind__in=RULE_TABLE_KINDS
    ).order_by("path")
    return [place for place in places if may_read(user, place)]


def table_context(version: RuleVersion) -> dict:
    """A version in words: its days and limits, a ladder per transaction type, its meeting rules."""
    table = table_of(version)
    return {
        "values": [
            (label_of(RuleVersion, name), shown(RuleVersion, name, table.values[name])) for name in VERSION_FIELDS
        ],
        "ladders": [(label, ladder(table.bands.get(value, []))) for value, label in TransactionType.choices],
        "meetings": [
            (label, meeting_in_words(table.meeting_rules[value]))
            for value, label in MeetingBody.choices
            if value in table.meeting_rules
        ],
    }


@login_required
def index(request):
    places = _places(request.user)
    if not places:
        raise PermissionDenied
    own = [place for place in places if may_edit(request.user, place)]
    if len(own) == 1 or len(places) == 1:
        # An administrator starts at the table they keep; its page links the levels above and below.
        return redirect("rulebook:place", pk=(own or places)[0].pk)
    today = timezone.localdate()
    rows = []
    for place in places:
        version = baseline_of(place, today)
        rows.append((place, version, version is not None and version.county_id != place.pk))
    return render(request, "rulebook/index.html", {"rows": rows})


@login_required
def place(request, pk: int):
    place = _place_for(request.user, pk)
    today = timezone.localdate()
    in_force = baseline_of(place, today)
    versions = list(place.rule_versions.order_by("-number"))
    own = own_version_in_force(place=place, on_date=today)
    context = {
        "place": place,
        "in_force": in_force,
        "inherited": in_force is not None and in_force.county_id != place.pk,
        "versions": versions,
        "coming": [version for version in versions if version.effective_from > today],
        "floors": [(floor, level_name(floor)) for floor in rule_floors(place=place, on_date=today)],
        "looser": looser_than_floors(place, table_of(own), today) if own else [],
        "may_edit": may_edit(request.user, place),
        "below": [
            child for child in _places(request.user) if child.pk != place.pk and child.path.startswith(place.path)
        ],
    }
    if in_force is not None:
        context.update(table_context(in_force))
    return render(request, "rulebook/place.html", context)


@login_required
def version(request, pk: int, number: int):
    place = _place_for(request.user, pk)
    version = get_object_or_404(RuleVersion, county=place, number=number)
    previous = RuleVersion.objects.filter(county=place, number__lt=number).order_by("-number").first()
    diff = table_diff(table_of(previous) if previous else None, table_of(version))
    history = version.history.select_related("history_user").order_by("history_date")
    context = {
        "place": place,
        "version": version,
        "previous": previous,
        "diff": diff,
        "history": history,
        "matters": version.matters.count(),
        **table_context(version),
    }
    return render(request, "rulebook/version.html", context)


def _draft_key(place: Organization) -> str:
    return f"rulebook-draft-{place.pk}"


def _stored(request, place: Organization, baseline: RuleVersion | None) -> QueryDict | None:
    """The draft last checked, unless the version it was made from is no longer the one in force."""
    stored = request.session.get(_draft_key(place))
    if not isinstance(stored, dict) or stored.get("baseline") != (baseline.pk if baseline else None):
        return None
    data = QueryDict(mutable=True)
    for key, values in stored.get("data", {}).items():
        data.setlist(key, values)
    return data


@login_required
@require_http_methods(["GET", "POST"])
def edit(request, pk: int):
    """Make a new version from the one in force: edit, check, see the difference, save."""
    place = _place_for(request.user, pk)
    if not may_edit(request.user, place):
        jurisdiction_refused.send(sender=Organization, user=request.user, outcome="not_allowed", what=str(place))
        raise PermissionDenied
    baseline = baseline_of(place)
    start = table_of(baseline) if baseline else default_table()
    action = request.POST.get("action", "check")
    if request.method == "GET":
        return _edit_page(request, place, baseline, RuleTableForm(table=start))
    if action in ("back", "save"):
        data = _stored(request, place, baseline)
        if data is None:
            messages.error(
                request,
                _("The checked draft was not found, or the version in force changed meanwhile; check it again."),
            )
            return redirect("rulebook:edit", pk=place.pk)
    else:
        request.session.pop(_draft_key(place), None)  # a new check replaces the draft checked before
        data = request.POST
    form = RuleTableForm(data, table=start)
    if action == "back" or not form.is_valid():
        return _edit_page(request, place, baseline, form)
    draft = form.draft()
    try:
        if action == "save":
            version = rule_version_create(user=request.user, place=place, draft=draft)
        else:
            diff = rule_version_check(user=request.user, place=place, draft=draft)
    except ValidationError as error:
        return _edit_page(request, place, baseline, form, problems=error.messages)
    if action == "save":
        request.session.pop(_draft_key(place), None)
        messages.success(
            request,
            _("Version %(number)s of the rule table is saved; it takes effect on %(day)s.")
            % {"number": version.number, "day": version.effective_from.isoformat()},
        )
        return redirect("rulebook:version", pk=place.pk, number=version.number)
    request.session[_draft_key(place)] = {
        "baseline": baseline.pk if baseline else None,
        "data": {key: data.getlist(key) for key in data if key != "csrfmiddlewaretoken"},
    }
    return render(
        request,
        "rulebook/review.html",
        {
            "place": place,
            "baseline": baseline,
            "diff": diff,
            "draft": draft,
            "looser_below": places_looser_than(place, draft.table, draft.effective_from),
        },
    )


def _edit_page(request, place, baseline, form, problems=()):
    status = 400 if request.method == "POST" and (problems or form_has_errors(form)) else 200
    return render(
        request,
        "rulebook/edit.html",
        {"place": place, "baseline": baseline, "form": form, "problems": problems},
        status=status,
    )


def form_has_errors(form: RuleTableForm) -> bool:
    if not form.version.is_bound:
        return False
    return bool(
        form.version.errors
        or form.meetings.total_error_count()
        or any(formset.total_error_count() for _value, _label, formset, _words in form.ladders)
    )
