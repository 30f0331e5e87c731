"""The early-warning pages (监督预警): the list by colour and place with filters, and a page per warning
where a township officer or leader records how it was handled.

Everyone with a post sees the warnings of their own jurisdiction only (the village its own, the
township its villages, inspectors and the county everything below them); only the township acts.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from listing.keyset import Sorting, SortKey, bounded_count, page_from_request
from organizations.jurisdiction import (
    TOWNSHIP_ROLES,
    business_posts,
    can_act,
    get_for_user,
    visible,
    visible_organizations,
)
from organizations.models import Organization, OrganizationKind

from .models import EarlyWarning, WarningLevel, WarningRule
from .warnings import RULE_EXPLANATIONS, WarningAlreadyHandled, warning_handle

PAGE_SIZE = 50
# Newest first, the primary key breaking ties (keyset pages: a deep page costs what the first does).
WARNING_SORTING = Sorting(keys=[SortKey("raised", "raised_at")], default="-raised")
OPEN, HANDLED, ALL = "open", "handled", "all"


class PlaceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, organization: Organization) -> str:
        return f"{organization.name}（{organization.code}）"


class WarningFilterForm(forms.Form):
    level = forms.ChoiceField(label=gettext_lazy("Colour"), choices=[("", "—"), *WarningLevel.choices], required=False)
    rule = forms.ChoiceField(label=gettext_lazy("Rule"), choices=[("", "—"), *WarningRule.choices], required=False)
    place = PlaceChoiceField(
        label=gettext_lazy("Township or village"), queryset=Organization.objects.none(), required=False
    )
    state = forms.ChoiceField(
        label=gettext_lazy("State"),
        choices=[
            (OPEN, pgettext_lazy("warning state", "Open")),
            (HANDLED, gettext_lazy("Handled")),
            (ALL, gettext_lazy("All")),
        ],
        required=False,
    )
    date_from = forms.DateField(
        label=gettext_lazy("Raised from"), widget=forms.DateInput(attrs={"type": "date"}), required=False
    )
    date_to = forms.DateField(
        label=gettext_lazy("Raised until"), widget=forms.DateInput(attrs={"type": "date"}), required=False
    )

    def __init__(self, *args, places: QuerySet, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def filter(self, warnings: QuerySet) -> QuerySet:
        """Every filter but the colour, so the counts per colour can be read before it."""
        data = self.cleaned_data
        state = data["state"] or OPEN
        if state == OPEN:
            warnings = warnings.filter(handled_at__isnull=True)
        elif state == HANDLED:
            warnings = warnings.filter(handled_at__isnull=False)
        if data["rule"]:
            warnings = warnings.filter(rule=data["rule"])
        if data["place"] is not None:
            warnings = warnings.filter(organization__path__startswith=data["place"].path)
        if data["date_from"]:
            warnings = warnings.filter(raised_at__date__gte=data["date_from"])
        if data["date_to"]:
            warnings = warnings.filter(raised_at__date__lte=data["date_to"])
        return warnings


class HandlingForm(forms.Form):
    handling = forms.CharField(
        label=gettext_lazy("How it was handled"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("What was checked, what was done and by whom; the village and the inspector read it."),
    )


def _require_post_holder(user) -> None:
    # Only people holding a post have a jurisdiction to read warnings in.
    if not business_posts(user):
        raise PermissionDenied


def _warnings_for(user) -> QuerySet:
    return visible(
        user, EarlyWarning.objects.select_related("organization__parent__parent", "matter", "handled_by")
    ).order_by("-raised_at", "-pk")


def _safe_next(request) -> str:
    """The page to go back to, if it is one of ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return ""


def _rule_list() -> list[tuple[str, str, str]]:
    """Every warning rule with what it watches: (value, name, explanation)."""
    return [(value, label, RULE_EXPLANATIONS[value]) for value, label in WarningRule.choices]


@login_required
def warning_list(request):
    """Warnings of the user's jurisdiction by colour and place, open ones first unless asked."""
    _require_post_holder(request.user)
    places = visible_organizations(request.user).filter(kind__in=[OrganizationKind.TOWNSHIP, OrganizationKind.VILLAGE])
    form = WarningFilterForm(request.GET, places=places.only("pk", "name", "code", "path"))
    if not form.is_valid():
        context = {"form": form, "page": None, "counts": [], "state": OPEN, "rules": _rule_list()}
        return render(request, "registers/warning_list.html", context, status=400)
    warnings = form.filter(_warnings_for(request.user))
    # One bounded count per colour ("1,000+"): no count reads every warning of a province.
    counts = [(value, label, bounded_count(warnings.filter(level=value))) for value, label in WarningLevel.choices]
    level = form.cleaned_data["level"]
    if level:
        warnings = warnings.filter(level=level)
    page = page_from_request(request, warnings.order_by(), sorting=WARNING_SORTING, size=PAGE_SIZE)
    # The colours' counts add up to the list's: past the limit whenever one of them is.
    page.extra["found"] = sum(count for value, _label, count in counts if not level or value == level)
    context = {
        "form": form,
        "page": page,
        "counts": counts,
        "rules": _rule_list(),
        "state": form.cleaned_data["state"] or OPEN,
        "level": form.cleaned_data["level"],
    }
    return render(request, "registers/warning_list.html", context)


def _detail(request, warning: EarlyWarning, form: HandlingForm | None = None, status: int = 200):
    can_handle = warning.is_open and can_act(request.user, warning.organization, TOWNSHIP_ROLES)
    context = {
        "warning": warning,
        "explanation": RULE_EXPLANATIONS.get(warning.rule, ""),
        "form": form or HandlingForm(),
        "can_handle": can_handle,
        "next": _safe_next(request),
    }
    return render(request, "registers/warning_detail.html", context, status=status)


@login_required
def warning_detail(request, pk: int):
    warning = get_for_user(request.user, _warnings_for(request.user), pk)
    return _detail(request, warning)


@login_required
def warning_handle_view(request, pk: int):
    """The township records how the warning was handled; an empty answer saves nothing."""
    warning = get_for_user(request.user, _warnings_for(request.user), pk)
    if not can_act(request.user, warning.organization, TOWNSHIP_ROLES):
        raise PermissionDenied
    if request.method != "POST":
        return redirect(reverse("registers:warning_detail", args=[warning.pk]))
    form = HandlingForm(request.POST)
    if form.is_valid():
        try:
            warning_handle(user=request.user, warning_id=warning.pk, handling=form.cleaned_data["handling"])
        except WarningAlreadyHandled as error:
            return render(request, "flows/conflict.html", {"message": str(error)}, status=409)
        except ValidationError as error:
            form.add_error("handling" if hasattr(error, "error_dict") else None, error.messages)
        else:
            messages.success(request, _("The handling was recorded; the warning is closed."))
            return redirect(_safe_next(request) or reverse("registers:warning_list"))
    return _detail(request, warning, form=form, status=400)
