"""``{% evidence_list matter %}``: a matter's scans by step, with previews, pages, size, fingerprint and downloads."""

from django import template
from django.urls import reverse

from flows.models import SPINE, Step
from organizations.jurisdiction import can_see

from ..services import evidence_may_add

register = template.Library()

STEP_ORDER = {step.value: index for index, step in enumerate(SPINE)}


@register.inclusion_tag("documents/partials/evidence_list.html", takes_context=True)
def evidence_list(context, matter):
    user = context.get("user") or getattr(context.get("request"), "user", None)
    if user is None or not can_see(user, matter.organization):
        return {"groups": [], "visible": False}
    files = sorted(
        matter.evidence.select_related("uploaded_by"),
        key=lambda evidence: (STEP_ORDER.get(evidence.step, len(STEP_ORDER)), evidence.position, evidence.pk),
    )
    groups: list[dict] = []
    for evidence in files:
        if not groups or groups[-1]["step"] != evidence.step:
            label = Step(evidence.step).label if evidence.step in Step.values else evidence.step
            groups.append({"step": evidence.step, "label": label, "files": []})
        groups[-1]["files"].append(evidence)
    can_add = evidence_may_add(user=user, matter=matter)
    return {
        "visible": True,
        "matter": matter,
        "groups": groups,
        "can_add": can_add,
        "capture_url": reverse("documents:capture", args=[matter.pk]) if can_add else "",
    }
