"""The public board (阳光公开): each village's notices, readable on a phone, without login.

A villager who objects gets a receipt number; with it and their phone number they follow the objection:
its state and the supervisor's answer. The notice itself shows that objections were raised and how each
was handled, never who raised them.
"""

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import F, Prefetch, Window
from django.db.models.functions import RowNumber
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from forms.steps import ObjectionForm
from organizations.models import Organization, OrganizationKind
from protection.addresses import client_address

from . import services
from .models import MeetingNotice, Notice, Objection

LATEST_PER_VILLAGE = 3
RECEIPT_SESSION_KEY = "board_objection_receipt"
# Lookups by receipt and phone from one address per hour: enough for a family, too few to guess receipts.
LOOKUPS_PER_HOUR = 20


def _latest_notices(villages) -> dict[int, list[Notice]]:
    """The newest notices of each village, in one query (a window ranks each village's notices)."""
    ranked = (
        Notice.objects.filter(organization__parent__in=villages)
        .annotate(
            village_id=F("organization__parent_id"),
            rank=Window(
                RowNumber(),
                partition_by=F("organization__parent_id"),
                order_by=[F("published_at").desc(), F("pk").desc()],
            ),
        )
        .filter(rank__lte=LATEST_PER_VILLAGE)
        .order_by("village_id", "rank")
    )
    latest: dict[int, list[Notice]] = {}
    for notice in ranked:
        latest.setdefault(notice.village_id, []).append(notice)
    return latest


def board_index(request):
    """Every township by county, and one township's villages with their latest notices (``?township=``).

    One township a page, whatever the size of the province: the villages and notices read are those of the
    township shown, found through the tree's path index.
    """
    townships = list(
        Organization.objects.filter(kind=OrganizationKind.TOWNSHIP)
        .select_related("parent")
        .order_by("parent__code", "code", "pk")
    )
    chosen = request.GET.get("township", "")
    township = next((town for town in townships if str(town.pk) == chosen), townships[0] if townships else None)
    villages = []
    if township is not None:
        villages = list(
            Organization.objects.filter(kind=OrganizationKind.VILLAGE, parent=township).order_by("code", "pk")
        )
        latest = _latest_notices(villages)
        for village in villages:
            village.parent = township
            village.latest_notices = latest.get(village.pk, [])
    counties: dict = {}
    for town in townships:
        counties.setdefault(town.parent, []).append(town)
    return render(
        request,
        "board/index.html",
        {
            "townships": [(township, villages)] if township is not None else [],
            "township": township,
            "counties": list(counties.items()),
            "now": timezone.now(),
        },
    )


def board_village(request, pk: int):
    village = get_object_or_404(Organization.objects.select_related("parent"), pk=pk, kind=OrganizationKind.VILLAGE)
    notices = Notice.objects.filter(organization__path__startswith=village.path).select_related("matter")[:100]
    now = timezone.now()
    # Meetings still to come first, soonest first; then the latest held (a notice stays up as their record).
    meeting_notices = MeetingNotice.objects.filter(organization__path__startswith=village.path).select_related(
        "organization"
    )
    upcoming = list(meeting_notices.filter(meets_at__gte=now).order_by("meets_at", "pk")[:20])
    past = list(meeting_notices.filter(meets_at__lt=now).order_by("-meets_at", "-pk")[:10])
    return render(
        request,
        "board/village.html",
        {"village": village, "notices": notices, "now": now, "upcoming_meetings": upcoming, "past_meetings": past},
    )


def meeting_notice_detail(request, pk: int):
    """The notice of a meeting as the board shows it: body, time, place and agenda."""
    notice = get_object_or_404(
        MeetingNotice.objects.select_related("organization__parent").prefetch_related("matters"), pk=pk
    )
    return render(
        request,
        "board/meeting_notice.html",
        {"notice": notice, "village": notice.organization.parent, "now": timezone.now()},
    )


def notice_detail(request, pk: int):
    notice = get_object_or_404(
        Notice.objects.select_related("organization__parent", "matter").prefetch_related(
            Prefetch("objections", queryset=Objection.objects.order_by("submitted_at", "pk"))
        ),
        pk=pk,
    )
    form = ObjectionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                objection = services.objection_submit(
                    notice=notice,
                    client_key=services.client_key_for(client_address(request)),
                    **form.cleaned_data,
                )
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                request.session[RECEIPT_SESSION_KEY] = objection.receipt
                messages.success(request, _("Your objection was received. The village supervisor will handle it."))
                return redirect("board:objection_received")
        status = 400
    is_open = notice.closed_at is None and notice.published_at <= timezone.now() < notice.ends_at
    return render(
        request,
        "board/notice.html",
        {"notice": notice, "form": form, "is_open": is_open, "village": notice.organization.parent},
        status=status,
    )


def objection_received(request):
    """Right after objecting: the receipt number to keep, once (it is not in the address)."""
    receipt = request.session.pop(RECEIPT_SESSION_KEY, "")
    if not receipt:
        return redirect("board:objection_lookup")
    objection = Objection.objects.select_related("notice").filter(receipt=receipt).first()
    return render(request, "board/objection_received.html", {"receipt": receipt, "objection": objection})


class ObjectionLookupForm(forms.Form):
    receipt = forms.CharField(
        label=gettext_lazy("Receipt number"),
        max_length=30,
        help_text=gettext_lazy("As given when you sent the objection, e.g. 260501-K7QF-9XMR."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )
    phone = forms.CharField(
        label=gettext_lazy("Phone number you gave"),
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )


def lookup_counter_key(address: str) -> str:
    return "board:lookups:" + services.client_key_for(address)


def _lookup_allowed(request) -> bool:
    key = lookup_counter_key(request.META.get("REMOTE_ADDR", ""))
    if cache.add(key, 1, timeout=3600):
        return True
    try:
        return cache.incr(key) <= LOOKUPS_PER_HOUR
    except ValueError:  # expired between the two calls
        return cache.add(key, 1, timeout=3600)


def objection_lookup(request):
    """A villager follows their objection with its receipt number and their phone number.

    POST only, so neither number lands in an address bar, a history or a server log."""
    form = ObjectionLookupForm(request.POST or None)
    objection = None
    status = 200
    if request.method == "POST":
        status = 400
        if not _lookup_allowed(request):
            form.add_error(None, _("Too many lookups from this device; try again in an hour."))
        elif form.is_valid():
            objection = services.objection_find(receipt=form.cleaned_data["receipt"], phone=form.cleaned_data["phone"])
            if objection is None:
                form.add_error(None, _("No objection has this receipt number and phone number; check both."))
            else:
                status = 200
    return render(request, "board/objection_lookup.html", {"form": form, "objection": objection}, status=status)
