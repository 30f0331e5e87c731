"""Pages of the inspector review: archive search, flags, corrections of archived matters, and the access log."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from flows.models import Matter, MatterStatus
from listing.keyset import COUNT_LIMIT, Sorting, SortKey, bounded_count, page_from_request
from organizations.amounts import AmountField
from organizations.jurisdiction import TOWNSHIP_ROLES, can_act, get_for_user
from organizations.models import Organization, TransactionType

from . import review
from .models import AccessAction, CorrectionRequest, CorrectionStatus, InspectorFlag

SEARCH_PAGE_SIZE = 20
LIST_PAGE_SIZE = 50


def conflict(request, message: str):
    return render(request, "flows/conflict.html", {"message": message}, status=409)


def _date_input():
    return forms.DateInput(attrs={"type": "date"})


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, field_messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, field_messages)
    else:
        form.add_error(None, error.messages)


def _back_to(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def _review_anchor(matter: Matter) -> str:
    return f"{matter.get_absolute_url()}#review"


# --- archive search -------------------------------------------------------------------

# Newest applications first, as before; the primary key breaks ties (listing.keyset).
SEARCH_SORTING = Sorting(keys=[SortKey("applied", "created_at", gettext_lazy("Applied at"))], default="-applied")


class PlaceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, organization: Organization) -> str:
        return f"{organization.name}（{organization.code}）"


class ArchiveSearchForm(forms.Form):
    place = PlaceChoiceField(
        label=gettext_lazy("Village or collective"), queryset=Organization.objects.none(), required=False
    )
    type = forms.ChoiceField(
        label=gettext_lazy("Transaction type"), choices=[("", "—"), *TransactionType.choices], required=False
    )
    amount_min = AmountField(
        label=gettext_lazy("Amount from (yuan)"), min_value=0, max_digits=14, decimal_places=2, required=False
    )
    amount_max = AmountField(
        label=gettext_lazy("Amount up to (yuan)"), min_value=0, max_digits=14, decimal_places=2, required=False
    )
    date_field = forms.ChoiceField(
        label=gettext_lazy("Date"),
        choices=[("archived", gettext_lazy("Archived on")), ("applied", gettext_lazy("Applied on"))],
        required=False,
    )
    date_from = forms.DateField(label=gettext_lazy("From"), widget=_date_input(), required=False)
    date_to = forms.DateField(label=gettext_lazy("Until"), widget=_date_input(), required=False)
    party = forms.CharField(
        label=gettext_lazy("Party"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Applicant, supplier, payee, contractor, lessee, buyer or member."),
    )
    text = forms.CharField(
        label=gettext_lazy("Text"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Words in the title or in any step's opinion; every word must appear."),
    )
    all = forms.BooleanField(
        label=gettext_lazy("Also matters not archived (running, rejected, withdrawn)"), required=False
    )

    def __init__(self, *args, places, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("amount_min"), cleaned.get("amount_max")
        if low is not None and high is not None and low > high:
            self.add_error("amount_max", _("The upper amount is below the lower one."))
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def to_query(self) -> review.ArchiveQuery:
        data = self.cleaned_data
        return review.ArchiveQuery(
            place=data["place"],
            transaction_type=data["type"],
            amount_min=data["amount_min"],
            amount_max=data["amount_max"],
            date_field=data["date_field"] or "archived",
            date_from=data["date_from"],
            date_to=data["date_to"],
            party=data["party"].strip(),
            text=data["text"].strip(),
            include_unarchived=data["all"],
        )

    def describe(self, page: str = "", *, later: bool = False) -> str:
        """The query in words, in the site's language, as the access log keeps it for whoever reads it later."""
        data = self.cleaned_data
        with translation.override(settings.LANGUAGE_CODE):
            parts = []
            if data["place"] is not None:
                parts.append(_("place: %(place)s") % {"place": f"{data['place'].name}（{data['place'].code}）"})
            if data["type"]:
                parts.append(_("type: %(type)s") % {"type": TransactionType(data["type"]).label})
            if data["amount_min"] is not None:
                parts.append(_("amount from %(amount)s yuan") % {"amount": data["amount_min"]})
            if data["amount_max"] is not None:
                parts.append(_("amount up to %(amount)s yuan") % {"amount": data["amount_max"]})
            if data["date_from"] or data["date_to"]:
                which = _("applied") if data["date_field"] == "applied" else _("archived")
                parts.append(
                    _("%(which)s from %(start)s to %(end)s")
                    % {"which": which, "start": data["date_from"] or "…", "end": data["date_to"] or "…"}
                )
            if data["party"].strip():
                parts.append(_("party: %(party)s") % {"party": data["party"].strip()})
            if data["text"].strip():
                parts.append(_("words: %(text)s") % {"text": data["text"].strip()})
            if data["all"]:
                parts.append(_("matters not archived too"))
            if page:
                parts.append(_("page %(page)s") % {"page": page})
            if later:
                parts.append(_("a later page of results"))
            return _("; ").join(parts) if parts else _("every archived matter")


@login_required
def archive_search(request):
    """Matters of the user's jurisdiction, archived ones unless asked; every inspector's search is logged."""
    form = ArchiveSearchForm(request.GET, places=review.search_places(request.user))
    if not form.is_valid():
        return render(request, "documents/review/archive_search.html", {"form": form, "page": None}, status=400)
    matters = review.archive_search(request.user, form.to_query())
    # Keyset pages (no OFFSET) and a count that stops at COUNT_LIMIT: neither grows with the province.
    page = page_from_request(request, matters.order_by(), sorting=SEARCH_SORTING, size=SEARCH_PAGE_SIZE)
    found = bounded_count(matters)
    later_page = bool(request.GET.get("after") or request.GET.get("before"))
    if review.holds_role(request.user, review.INSPECTOR_ROLES):
        review.access_log_record(
            user=request.user,
            action=AccessAction.SEARCH,
            detail=form.describe(later=later_page),
            request=request,
        )
    context = {"form": form, "page": page, "found": found, "found_more": found > COUNT_LIMIT}
    return render(request, "documents/review/archive_search.html", context)


# --- flags ----------------------------------------------------------------------------


class FlagForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Problem"), widget=forms.Textarea(attrs={"rows": 3}))


class FlagAnswerForm(forms.Form):
    answer = forms.CharField(label=gettext_lazy("Answer"), widget=forms.Textarea(attrs={"rows": 3}))


@login_required
def flag_create(request, pk: int):
    """An inspector flags a problem on a matter: a page of its own, and the form of the matter page's panel."""
    matter = get_for_user(request.user, Matter.objects.select_related("organization"), pk)
    if not review.inspects(request.user, matter.organization):
        raise PermissionDenied
    form = FlagForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            review.flag_raise(user=request.user, matter=matter, note=form.cleaned_data["note"])
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The problem was flagged; the township will see it."))
            return redirect(_review_anchor(matter))
    status = 400 if request.method == "POST" else 200
    return render(request, "documents/review/flag_form.html", {"form": form, "matter": matter}, status=status)


@login_required
def flag_list(request):
    """Flags for the township officers and leaders who answer them and the inspectors who raised them."""
    if not review.holds_role(request.user, review.FLAG_READER_ROLES):
        raise PermissionDenied
    state = request.GET.get("state", "open")
    if state not in ("open", "answered", "all"):
        state = "open"
    page = Paginator(review.flags_for(request.user, state=state), LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    for flag in page:
        flag.can_answer = flag.answered_at is None and can_act(request.user, flag.matter.organization, TOWNSHIP_ROLES)
    states = [("open", pgettext("flag state", "Open")), ("answered", _("Answered")), ("all", _("All"))]
    return render(
        request,
        "documents/review/flag_list.html",
        {"page": page, "state": state, "states": states, "answer_form": FlagAnswerForm()},
    )


@login_required
def flag_answer(request, pk: int):
    flag = get_for_user(
        request.user,
        InspectorFlag.objects.select_related("matter__organization", "raised_by", "answered_by"),
        pk,
        "matter__organization",
    )
    if not can_act(request.user, flag.matter.organization, TOWNSHIP_ROLES):
        raise PermissionDenied
    form = FlagAnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            review.flag_answer(user=request.user, flag_id=flag.pk, answer=form.cleaned_data["answer"])
        except review.AlreadyDecided as error:
            return conflict(request, str(error))
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The answer was recorded; the inspector will see it."))
            return redirect(_back_to(request, reverse("documents:flag_list")))
    if request.method == "GET" and flag.answered_at is not None:
        return conflict(request, _("This flag has already been answered; nothing was changed."))
    status = 400 if request.method == "POST" else 200
    return render(request, "documents/review/flag_answer.html", {"form": form, "flag": flag}, status=status)


# --- corrections ----------------------------------------------------------------------


class CorrectionForm(forms.ModelForm):
    class Meta:
        model = CorrectionRequest
        fields = ["what", "correction", "reason"]
        widgets = {
            "correction": forms.Textarea(attrs={"rows": 3}),
            "reason": forms.Textarea(attrs={"rows": 3}),
        }


class CorrectionDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[("approve", gettext_lazy("Approve")), ("reject", gettext_lazy("Reject"))],
    )
    opinion = forms.CharField(
        label=gettext_lazy("Opinion"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Required when rejecting."),
    )


@login_required
def correction_create(request, pk: int):
    """The village secretary asks to correct an archived matter (Jilin measures art. 14)."""
    matter = get_for_user(request.user, Matter.objects.select_related("organization"), pk)
    if not can_act(request.user, matter.organization, review.CORRECTION_APPLICANT_ROLES):
        raise PermissionDenied
    if matter.status != MatterStatus.ARCHIVED:
        return conflict(request, _("Only an archived matter is corrected through a correction request."))
    form = CorrectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            review.correction_submit(user=request.user, matter=matter, **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The correction request was sent to the township."))
            return redirect(_review_anchor(matter))
    status = 400 if request.method == "POST" else 200
    return render(request, "documents/review/correction_form.html", {"form": form, "matter": matter}, status=status)


@login_required
def correction_list(request):
    """Correction requests in the user's jurisdiction; those waiting for this user come with their form."""
    status = request.GET.get("status", "")
    corrections = review.corrections_for(request.user, status=status)
    page = Paginator(corrections, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    for correction in page:
        correction.waiting_for_user = review.correction_waiting_for(request.user, correction)
    return render(
        request,
        "documents/review/correction_list.html",
        {"page": page, "status": status, "statuses": CorrectionStatus.choices},
    )


def _correction_decide(request, pk: int, *, level: str):
    correction = get_for_user(
        request.user,
        CorrectionRequest.objects.select_related("matter__organization", "requested_by", "township_by"),
        pk,
        "matter__organization",
    )
    roles = review.CORRECTION_TOWNSHIP_ROLES if level == "township" else review.CORRECTION_COUNTY_ROLES
    decide = review.correction_township_decide if level == "township" else review.correction_county_decide
    if not can_act(request.user, correction.matter.organization, roles):
        raise PermissionDenied
    form = CorrectionDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            decide(
                user=request.user,
                correction_id=correction.pk,
                approve=form.cleaned_data["decision"] == "approve",
                opinion=form.cleaned_data["opinion"],
            )
        except review.AlreadyDecided as error:
            return conflict(request, str(error))
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The decision was recorded."))
            return redirect(_back_to(request, _review_anchor(correction.matter)))
    if request.method == "GET" and review.correction_waiting_for(request.user, correction) != level:
        return conflict(request, _("This correction request is not waiting for your decision."))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "documents/review/correction_decide.html",
        {"form": form, "correction": correction, "matter": correction.matter, "level": level},
        status=status,
    )


@login_required
def correction_township_decide(request, pk: int):
    return _correction_decide(request, pk, level="township")


@login_required
def correction_county_decide(request, pk: int):
    return _correction_decide(request, pk, level="county")


# --- the access log -------------------------------------------------------------------


class AccessLogForm(forms.Form):
    user = forms.CharField(label=gettext_lazy("User"), max_length=150, required=False)
    action = forms.ChoiceField(label=gettext_lazy("Action"), choices=[("", "—"), *AccessAction.choices], required=False)
    date_from = forms.DateField(label=gettext_lazy("From"), widget=_date_input(), required=False)
    date_to = forms.DateField(label=gettext_lazy("Until"), widget=_date_input(), required=False)
    matter = forms.CharField(
        label=gettext_lazy("Matter"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Matter number, archive number or words of the title."),
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def to_query(self) -> review.AccessLogQuery:
        data = self.cleaned_data
        return review.AccessLogQuery(
            user=data["user"].strip(),
            action=data["action"],
            date_from=data["date_from"],
            date_to=data["date_to"],
            matter=data["matter"].strip(),
        )


@login_required
def access_log(request):
    """The audit administrator reads who opened or searched what (Jilin measures: the security log)."""
    if not review.holds_role(request.user, review.LOG_READER_ROLES):
        raise PermissionDenied
    form = AccessLogForm(request.GET)
    if not form.is_valid():
        return render(request, "documents/review/access_log.html", {"form": form, "page": None}, status=400)
    entries = review.access_log_for(request.user, form.to_query())
    page = Paginator(entries, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "documents/review/access_log.html", {"form": form, "page": page})
