"""The change history of a matter in words ("下一步：由「决议公开」改为「乡镇初审」"), not field names and codes.

``selectors.matter_history`` gives django-simple-history rows with their field diffs; this module says
what each row did to which record and turns every changed value into what a person reads on the page:
choices by their label, steps by their name, links by the object they name, yes/no, dates. Bookkeeping
fields (timestamps, the viewflow process, internal keys) are left out.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from .models import END, Step

# Fields whose change is bookkeeping, not something a person did.
HIDDEN_FIELDS = frozenset(
    {"id", "updated_at", "created_at", "process", "step_since", "client_key", "task", "history_id", "thumbnail"}
)
ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


@dataclass
class HistoryLine:
    when: datetime.datetime
    who: object
    what: str
    changes: list[Change] = field(default_factory=list)


def _step_name(value) -> str:
    if value == END:
        return _("ended")
    return str(Step(value).label) if value in Step.values else str(value)


class _Related:
    """Objects named by foreign keys in the diffs, fetched once per model and key."""

    def __init__(self):
        self.cache: dict[tuple[type, object], str] = {}

    def name(self, model_field, value) -> str:
        key = (model_field.related_model, value)
        if key not in self.cache:
            related = model_field.related_model._default_manager.filter(pk=value).first()
            self.cache[key] = str(related) if related is not None else "—"
        return self.cache[key]


def _value(model_field, value, related: _Related) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if model_field.name in ("next_step", "return_to", "step"):
        return _step_name(value)
    if model_field.name == "required_steps" and isinstance(value, list):
        return "、".join(_step_name(step) for step in value)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(model_field, models.ForeignKey):
        return related.name(model_field, value)
    if isinstance(model_field, models.BooleanField) or isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime.datetime):
        return date_format(timezone.localtime(value) if timezone.is_aware(value) else value, "Y-m-d H:i")
    if isinstance(value, datetime.date):
        return date_format(value, "Y-m-d")
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return str(value)


def _field(model, name: str):
    try:
        return model._meta.get_field(name)
    except Exception:  # a field since removed from the model: no label to give it
        return None


def history_lines(entries) -> list[HistoryLine]:
    """Each history row as a sentence with its changed fields, for the matter page (newest first)."""
    related = _Related()
    lines = []
    for entry in entries:
        model = entry.instance_type
        noun = str(model._meta.verbose_name)
        action = ACTIONS.get(entry.history_type, "changed")
        # A sub-row (a purchase line, a quotation, a candidate) is named; the matter and its one-to-one
        # application are the page's subject already.
        one_to_one = any(isinstance(f, models.OneToOneField) for f in model._meta.concrete_fields)
        subject = "" if model._meta.model_name == "matter" or one_to_one else str(entry.instance)
        if action == "created":
            what = _("Created the %(record)s") % {"record": noun}
        elif action == "deleted":
            what = _("Removed the %(record)s") % {"record": noun}
        else:
            what = _("Changed the %(record)s") % {"record": noun}
        if subject and subject != noun:
            what = f"{what}：{subject}"
        changes = []
        for change in getattr(entry, "changes", []):
            model_field = _field(model, change.field)
            if model_field is None or change.field in HIDDEN_FIELDS:
                continue
            changes.append(
                Change(
                    label=capfirst(str(model_field.verbose_name)),
                    old=_value(model_field, change.old, related),
                    new=_value(model_field, change.new, related),
                )
            )
        if action == "changed" and not changes:
            continue  # only bookkeeping changed: nothing a person would call a change
        lines.append(HistoryLine(when=entry.history_date, who=entry.history_user, what=what, changes=changes))
    return lines
