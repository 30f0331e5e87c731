"""The public board (阳光公开): each village's notices, readable on a phone, without login."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from forms.steps import ObjectionForm
from organizations.models import Organization, OrganizationKind
from protection.addresses import client_address

from . import services
from .models import Notice


def board_index(request):
    villages = Organization.objects.filter(kind=OrganizationKind.VILLAGE).select_related("parent")
    return render(request, "board/index.html", {"villages": villages})


def board_village(request, pk: int):
    village = get_object_or_404(Organization, pk=pk, kind=OrganizationKind.VILLAGE)
    notices = Notice.objects.filter(organization__path__startswith=village.path).select_related("matter")[:100]
    return render(request, "board/village.html", {"village": village, "notices": notices, "now": timezone.now()})


def notice_detail(request, pk: int):
    notice = get_object_or_404(Notice.objects.select_related("organization__parent", "matter"), pk=pk)
    form = ObjectionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.objection_submit(
                    notice=notice,
                    client_key=services.client_key_for(client_address(request)),
                    **form.cleaned_data,
                )
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                messages.success(request, _("Your objection was received. The village supervisor will handle it."))
                return redirect("board:notice", pk=notice.pk)
        status = 400
    is_open = notice.closed_at is None and notice.published_at <= timezone.now() < notice.ends_at
    return render(
        request,
        "board/notice.html",
        {"notice": notice, "form": form, "is_open": is_open, "village": notice.organization.parent},
        status=status,
    )
