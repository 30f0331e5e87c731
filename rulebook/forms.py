"""The form of a new rule table version: its days and limits, one ladder of bands per transaction type,
one rule per meeting body. Plain forms built from the models' fields; the models validate the rows when
the service writes them (rulebook/services.py)."""

from django import forms
from django.db import models
from django.forms import formset_factory
from django.forms.models import fields_for_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.amounts import AmountField
from organizations.models import MeetingBody, MeetingRule, RuleBand, RuleVersion, TransactionType

from .services import Draft
from .tables import BAND_FIELDS, MEETING_FIELDS, VERSION_FIELDS, Table, ladder, ordered_bands


def _formfield(model_field, **kwargs):
    if isinstance(model_field, models.DecimalField):
        return AmountField(
            label=model_field.verbose_name,
            required=not model_field.blank,
            help_text=model_field.help_text,
            max_digits=model_field.max_digits,
            decimal_places=model_field.decimal_places,
            widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "amount"}),
        )
    return model_field.formfield(**kwargs)


def _form_class(name: str, model, fields: list[str], **extra) -> type[forms.Form]:
    return type(name, (forms.Form,), {**fields_for_model(model, fields=fields, formfield_callback=_formfield), **extra})


VersionForm = _form_class(
    "VersionForm",
    RuleVersion,
    ["effective_from", "note", *VERSION_FIELDS],
)
VersionForm.base_fields["effective_from"].widget = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
BandForm = _form_class("BandForm", RuleBand, BAND_FIELDS)
BandFormSet = formset_factory(BandForm, extra=1, can_delete=True)
MeetingRuleForm = _form_class(
    "MeetingRuleForm",
    MeetingRule,
    MEETING_FIELDS,
    body=forms.ChoiceField(choices=MeetingBody.choices, widget=forms.HiddenInput),
)


class BaseMeetingRuleFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        bodies = [form.cleaned_data.get("body") for form in self.forms]
        if sorted(bodies) != sorted(MeetingBody.values):
            raise forms.ValidationError(_("Every meeting body needs exactly one rule."))


MeetingRuleFormSet = formset_factory(MeetingRuleForm, formset=BaseMeetingRuleFormSet, extra=0)


class RuleTableForm:
    """The version form, a band formset per transaction type and the meeting rules, bound or not, as one."""

    def __init__(self, data=None, *, table: Table):
        initial = {**table.values, "effective_from": timezone.localdate()}
        self.version = VersionForm(data, initial=initial, prefix="version")
        self.ladders = [
            (
                value,
                label,
                BandFormSet(data, initial=ordered_bands(table.bands.get(value, [])), prefix=f"band-{value}"),
                " / ".join(rung.range_label for rung in ladder(table.bands.get(value, []))),
            )
            for value, label in TransactionType.choices
        ]
        rules = [
            {"body": body, **table.meeting_rules[body]} for body in MeetingBody.values if body in table.meeting_rules
        ]
        self.meetings = MeetingRuleFormSet(data, initial=rules, prefix="meeting")

    def is_valid(self) -> bool:
        results = [self.version.is_valid(), self.meetings.is_valid()]
        results += [formset.is_valid() for _value, _label, formset, _words in self.ladders]
        return all(results)

    @property
    def meeting_forms(self):
        labels = dict(MeetingBody.choices)
        return [(labels.get(form["body"].value(), ""), form) for form in self.meetings]

    def draft(self) -> Draft:
        values = dict(self.version.cleaned_data)
        effective_from, note = values.pop("effective_from"), values.pop("note") or ""
        bands = {}
        for value, _label, formset, _words in self.ladders:
            bands[value] = [
                {name: form.cleaned_data.get(name) for name in BAND_FIELDS}
                for form in formset.forms
                if form.cleaned_data and not form.cleaned_data.get("DELETE")
            ]
        meeting_rules = {
            form.cleaned_data["body"]: {name: form.cleaned_data.get(name) for name in MEETING_FIELDS}
            for form in self.meetings.forms
        }
        return Draft(
            effective_from=effective_from,
            note=note,
            table=Table(values=values, bands=bands, meeting_rules=meeting_rules),
        )
