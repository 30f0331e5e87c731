"""Forms for acting on a step, recording a meeting, objecting and handling objections."""

from django import forms
from django.conf import settings
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from documents.filetypes import ACCEPT_ATTRIBUTE, ACCEPTED_TYPES_TEXT
from flows.models import Decision, Step
from organizations.models import MeetingBody


def evidence_help_text() -> str:
    """The limits an evidence file must keep, said where the file is chosen."""
    return gettext("%(types)s; at most %(megabytes)s MB per file.") % {
        "types": ACCEPTED_TYPES_TEXT,
        "megabytes": settings.EVIDENCE_MAX_BYTES // (1024 * 1024),
    }


EVIDENCE_HELP_TEXT = lazy(evidence_help_text, str)()


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several evidence files in one input; each is checked by the documents service."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT_ATTRIBUTE}))
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", EVIDENCE_HELP_TEXT)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class StepActionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"))
    opinion = forms.CharField(label=_("Opinion"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    return_to = forms.ChoiceField(label=_("Return to"), required=False)
    files = MultipleFileField(label=_("Evidence files"))

    def __init__(self, *args, decisions=(), return_steps=(), confirm_without_evidence=False, **kwargs):
        super().__init__(*args, **kwargs)
        if confirm_without_evidence:
            # The county asks for an application file from this amount: approving without one is said aloud.
            self.fields["confirm_without_evidence"] = forms.BooleanField(
                label=_("I have checked this matter and approve it although its application carries no evidence file"),
                help_text=_(
                    "The county asks for an application file (a quotation, receipt or contract) from this amount. "
                    "Approving without one raises an early warning for the inspectors."
                ),
                required=False,
            )
        self.fields["decision"].choices = [(d, Decision(d).label) for d in decisions]
        self.fields["return_to"].choices = [("", "—")] + [(s, Step(s).label) for s in return_steps]
        if len(decisions) == 1:
            self.fields["decision"].initial = decisions[0]
        if not return_steps:
            del self.fields["return_to"]


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason for withdrawing"), widget=forms.Textarea(attrs={"rows": 2}))


class MeetingForm(forms.Form):
    body = forms.ChoiceField(label=_("Body"), choices=MeetingBody.choices)
    held_on = forms.DateField(label=_("Held on"), widget=forms.DateInput(attrs={"type": "date"}))
    place = forms.CharField(label=_("Place"), max_length=100)
    chair = forms.CharField(label=_("Chaired by"), max_length=50)
    minutes = forms.CharField(label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 4}))
    attendees = forms.MultipleChoiceField(label=_("Attended"), required=False, widget=forms.CheckboxSelectMultiple)
    files = MultipleFileField(label=_("Minutes and signed sign-in sheet (scans)"))

    def __init__(self, *args, roster=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendees"].choices = [(str(m.pk), f"{m.name}（{m.household}）") for m in roster]


class AgendaVoteForm(forms.Form):
    """The vote on one pending matter; leave it unticked to keep the matter off the agenda."""

    on_agenda = forms.BooleanField(label=_("On the agenda"), required=False)
    votes_for = forms.IntegerField(label=_("For"), min_value=0, required=False)
    votes_against = forms.IntegerField(label=_("Against"), min_value=0, required=False)
    votes_abstain = forms.IntegerField(label=_("Abstain"), min_value=0, required=False)


class ObjectionForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=50)
    phone = forms.RegexField(
        label=_("Phone"), regex=r"^\+?[0-9\- ]{5,20}$", error_messages={"invalid": _("Enter a phone number.")}
    )
    text = forms.CharField(label=_("Objection"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))


class ObjectionHandlingForm(forms.Form):
    handling = forms.CharField(label=_("How it was handled"), widget=forms.Textarea(attrs={"rows": 2}))
