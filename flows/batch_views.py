"""The batch approval pages: the confirmation that lists each selected matter, and the batch itself."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .batch import batch_approve, batch_items
from .models import Step


class BatchOpinionForm(forms.Form):
    opinion = forms.CharField(
        label=gettext_lazy("Opinion, the same for every matter"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        initial=gettext_lazy("Agreed."),
    )


def _back(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse("flows:inbox")


@login_required
def batch_confirm(request):
    """GET: the selected tasks with amount, evidence and any reason one stays out. POST: agree them."""
    task_ids = request.POST.getlist("task") if request.method == "POST" else request.GET.getlist("task")
    back = _back(request)
    try:
        step, items = batch_items(user=request.user, task_ids=task_ids)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    form = BatchOpinionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = batch_approve(user=request.user, task_ids=task_ids, opinion=form.cleaned_data["opinion"])
        if outcome.done:
            messages.success(
                request,
                _("Agreed at %(step)s for %(count)s matters: %(titles)s.")
                % {
                    "step": Step(step).label,
                    "count": len(outcome.done),
                    "titles": "、".join(f"“{matter.title}”" for matter, _record in outcome.done),
                },
            )
        for matter, reason in outcome.failed:
            messages.error(
                request, _("“%(title)s” was not agreed: %(reason)s") % {"title": matter.title, "reason": reason}
            )
        return redirect(back)
    agreeable = [item for item in items if item.can_agree]
    context = {
        "step_label": Step(step).label,
        "items": items,
        "agreeable": agreeable,
        "form": form,
        "next": back,
    }
    return render(request, "flows/batch_confirm.html", context, status=400 if request.method == "POST" else 200)
