"""A rule table as plain values: a version's days and limits, its ladders of bands, its meeting rules.

The version in force and a draft being edited take the same shape, so that one set of checks
(rulebook/checks.py) and one difference (``table_diff``) serve both. The fields come from the models:
a field added to RuleVersion, RuleBand or MeetingRule is edited, checked by the model and compared
without any change here.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from organizations.amounts import band_range_label, yuan_short
from organizations.models import MeetingBody, MeetingRule, RuleBand, RuleVersion, TransactionType
from organizations.rules import DEFAULT_BANDS, DEFAULT_MEETING_RULES


def _editable(model, leave_out: set[str]) -> list[str]:
    return [
        model_field.name
        for model_field in model._meta.concrete_fields
        if model_field.editable and not model_field.primary_key and model_field.name not in leave_out
    ]


# Who keeps the table, its number and when it takes effect are not "the rules" being compared.
VERSION_FIELDS = _editable(RuleVersion, {"county", "number", "effective_from", "note", "created_at"})
BAND_FIELDS = _editable(RuleBand, {"rule_version", "transaction_type"})
STEP_FIELDS = [name for name in BAND_FIELDS if name not in ("min_amount", "max_amount")]
MEETING_FIELDS = _editable(MeetingRule, {"rule_version", "body"})


@dataclass
class Table:
    values: dict
    # transaction type → bands (each a dict of BAND_FIELDS), ordered by their lower amount
    bands: dict[str, list[dict]] = field(default_factory=dict)
    # meeting body → its rule (a dict of MEETING_FIELDS)
    meeting_rules: dict[str, dict] = field(default_factory=dict)


def _defaults(model, names: list[str]) -> dict:
    return {name: model._meta.get_field(name).get_default() for name in names}


def default_table() -> Table:
    """The table of the law's defaults (organizations.rules), for a place that has none yet."""
    bands = {
        transaction_type: [
            {**_defaults(RuleBand, BAND_FIELDS), "min_amount": low, "max_amount": high, **steps}
            for low, high, steps in ladder_of_type
        ]
        for transaction_type, ladder_of_type in DEFAULT_BANDS.items()
    }
    meeting_rules = {
        body: {**_defaults(MeetingRule, MEETING_FIELDS), **options} for body, options in DEFAULT_MEETING_RULES.items()
    }
    return Table(values=_defaults(RuleVersion, VERSION_FIELDS), bands=bands, meeting_rules=meeting_rules)


def table_of(version: RuleVersion) -> Table:
    """The table a saved version holds."""
    bands: dict[str, list[dict]] = {}
    for band in version.bands.order_by("transaction_type", "min_amount", "pk"):
        bands.setdefault(band.transaction_type, []).append({name: getattr(band, name) for name in BAND_FIELDS})
    return Table(
        values={name: getattr(version, name) for name in VERSION_FIELDS},
        bands=bands,
        meeting_rules={
            rule.body: {name: getattr(rule, name) for name in MEETING_FIELDS} for rule in version.meeting_rules.all()
        },
    )


def ordered_bands(bands: list[dict]) -> list[dict]:
    return sorted(bands, key=lambda band: (band["min_amount"], _top(band)))


def _top(band: dict) -> Decimal:
    return band["max_amount"] if band["max_amount"] is not None else Decimal("Infinity")


# --- words -------------------------------------------------------------------------------------


def shown(model, name: str, value) -> str:
    """A value as the page shows it: amounts in words, yes or no, the label of a choice."""
    model_field = model._meta.get_field(name)
    if value is None or value == "":
        return "—"
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(model_field, models.BooleanField):
        return pgettext("a rule's value", "yes") if value else pgettext("a rule's value", "no")
    if isinstance(model_field, models.DecimalField):
        return yuan_short(value)
    return str(value)


def label_of(model, name: str) -> str:
    try:
        return capfirst(str(model._meta.get_field(name).verbose_name))
    except FieldDoesNotExist:
        return name


def steps_in_words(band: dict) -> list[str]:
    """What a band needs, in words: each optional step it requires and its member meeting."""
    words = []
    for name in STEP_FIELDS:
        model_field = RuleBand._meta.get_field(name)
        value = band.get(name)
        if isinstance(model_field, models.BooleanField):
            if value:
                words.append(label_of(RuleBand, name))
        elif value not in (None, ""):
            words.append(f"{label_of(RuleBand, name)}：{shown(RuleBand, name, value)}")
    return words


@dataclass(frozen=True)
class Rung:
    """One band of a ladder, in words."""

    range_label: str
    steps: list[str]


def ladder(bands: list[dict]) -> list[Rung]:
    return [
        Rung(band_range_label(band["min_amount"], band["max_amount"]), steps_in_words(band))
        for band in ordered_bands(bands)
    ]


def listed(words: list[str]) -> str:
    """Words in a list: "a、b、c" in Chinese, "a, b, c" in English."""
    return _(", ").join(words)


def type_label(transaction_type: str) -> str:
    return str(dict(TransactionType.choices).get(transaction_type, transaction_type))


def body_label(body: str) -> str:
    return str(dict(MeetingBody.choices).get(body, body))


QUORUM_FIELDS = (
    "quorum_numerator",
    "quorum_denominator",
    "quorum_inclusive",
    "household_quorum_numerator",
    "household_quorum_denominator",
)
PASS_FIELDS = ("pass_numerator", "pass_denominator", "pass_inclusive", "pass_of_expected")


def meeting_in_words(rule: dict) -> list[tuple[str, str]]:
    """A meeting rule as people read it: "at least 2/3 of those who should attend", then its other rules."""
    fraction = f"{rule['quorum_numerator']}/{rule['quorum_denominator']}"
    if rule.get("quorum_inclusive"):
        quorum = _("attendance of at least %(fraction)s of those who should attend") % {"fraction": fraction}
    else:
        quorum = _("attendance of more than %(fraction)s of those who should attend") % {"fraction": fraction}
    if rule.get("household_quorum_numerator") and rule.get("household_quorum_denominator"):
        households = f"{rule['household_quorum_numerator']}/{rule['household_quorum_denominator']}"
        quorum += _(", or at least %(fraction)s of the households") % {"fraction": households}
    words = [(_("Quorum"), quorum)]
    in_words = set(QUORUM_FIELDS)
    if rule.get("pass_numerator") and rule.get("pass_denominator"):
        words.append((_("Pass rule"), _pass_in_words(rule)))
        in_words |= set(PASS_FIELDS)
    words += [
        (label_of(MeetingRule, name), shown(MeetingRule, name, rule.get(name)))
        for name in MEETING_FIELDS
        if name not in in_words
    ]
    return words


def _pass_in_words(rule: dict) -> str:
    values = {"fraction": f"{rule['pass_numerator']}/{rule['pass_denominator']}"}
    if rule.get("pass_of_expected"):
        if rule.get("pass_inclusive"):
            return _("at least %(fraction)s of those who should attend vote for") % values
        return _("more than %(fraction)s of those who should attend vote for") % values
    if rule.get("pass_inclusive"):
        return _("at least %(fraction)s of those who attend vote for") % values
    return _("more than %(fraction)s of those who attend vote for") % values


# --- the difference --------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class LadderChange:
    transaction_type: str
    label: str
    before: list[Rung]
    after: list[Rung]

    @property
    def before_marked(self) -> list[tuple[Rung, bool]]:
        """Each rung of the old ladder, and whether the new one lacks it."""
        return [(rung, rung not in self.after) for rung in self.before]

    @property
    def after_marked(self) -> list[tuple[Rung, bool]]:
        return [(rung, rung not in self.before) for rung in self.after]


@dataclass(frozen=True)
class MeetingChange:
    body: str
    label: str
    changes: list[Change]


@dataclass(frozen=True)
class Diff:
    values: list[Change]
    ladders: list[LadderChange]
    meetings: list[MeetingChange]

    @property
    def empty(self) -> bool:
        return not (self.values or self.ladders or self.meetings)


def table_diff(before: Table | None, after: Table) -> Diff:
    """What the new table changes against the one in force (everything, when there is none)."""
    before = before or Table(values={})
    values = [
        Change(
            label_of(RuleVersion, name),
            shown(RuleVersion, name, before.values.get(name)),
            shown(RuleVersion, name, value),
        )
        for name, value in after.values.items()
        if before.values.get(name) != value
    ]
    ladders = []
    for transaction_type in TransactionType.values:
        old, new = before.bands.get(transaction_type, []), after.bands.get(transaction_type, [])
        if ordered_bands(old) != ordered_bands(new):
            ladders.append(LadderChange(transaction_type, type_label(transaction_type), ladder(old), ladder(new)))
    meetings = []
    for body in MeetingBody.values:
        old, new = before.meeting_rules.get(body, {}), after.meeting_rules.get(body, {})
        changes = [
            Change(
                label_of(MeetingRule, name),
                shown(MeetingRule, name, old.get(name)),
                shown(MeetingRule, name, new.get(name)),
            )
            for name in MEETING_FIELDS
            if old.get(name) != new.get(name)
        ]
        if changes:
            meetings.append(MeetingChange(body, body_label(body), changes))
    return Diff(values, ladders, meetings)
