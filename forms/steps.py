"""Forms for acting on a step, recording a meeting, objecting and handling objections."""

from django import forms
from django.conf import settings
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from documents.filetypes import ACCEPT_ATTRIBUTE, ACCEPTED_TYPES_TEXT
from flows.models import AttendanceWay, Decision, Step
from flows.services import AttendanceInput
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
    """A meeting and its attendance: each member of the roster ticked, their way, and a proxy's holder and scan."""

    body = forms.ChoiceField(label=_("Body"), choices=MeetingBody.choices)
    notice = forms.ChoiceField(label=_("Meeting notice on the public board"), required=False)
    held_on = forms.DateField(label=_("Held on"), widget=forms.DateInput(attrs={"type": "date"}))
    place = forms.CharField(label=_("Place"), max_length=100)
    chair = forms.CharField(label=_("Chaired by"), max_length=50)
    minutes = forms.CharField(label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 4}))
    attendees = forms.MultipleChoiceField(label=_("Attended"), required=False, widget=forms.CheckboxSelectMultiple)
    files = MultipleFileField(label=_("Minutes and signed sign-in sheet (scans)"))
    sign_in_sheet = forms.FileField(
        label=_("Sign-in sheet (Excel)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
        help_text=_("Fill in the template of this roster, then import it: it ticks who attended and how."),
    )

    def __init__(self, *args, roster=(), notices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.roster = list(roster)
        self.fields["attendees"].choices = [(str(m.pk), f"{m.name}（{m.household}）") for m in self.roster]
        self.fields["notice"].choices = [("", _("— the notice of this meeting, found by its date —"))] + [
            (str(notice.pk), notice_label(notice)) for notice in notices
        ]
        households: dict[str, list] = {}
        for member in self.roster:
            households.setdefault(member.household, []).append(member)
        self.households = households
        for member in self.roster:
            mates = [(str(m.pk), m.name) for m in households[member.household] if m.pk != member.pk]
            self.fields[f"way_{member.pk}"] = forms.ChoiceField(
                label=_("Way"), choices=AttendanceWay.choices, required=False, initial=AttendanceWay.IN_PERSON
            )
            self.fields[f"holder_{member.pk}"] = forms.ChoiceField(
                label=_("Proxy carried by"), choices=[("", "—"), *mates], required=False
            )
            self.fields[f"scan_{member.pk}"] = forms.FileField(
                label=_("Scan of the written authorisation"),
                required=False,
                widget=forms.ClearableFileInput(attrs={"accept": ACCEPT_ATTRIBUTE}),
            )

    def meeting_fields(self) -> list:
        """The meeting's own fields, in order (the roster's controls are drawn by the page)."""
        return [self[name] for name in ("held_on", "place", "chair", "minutes", "files")]

    def roster_rows(self) -> list[tuple[str, list[tuple]]]:
        """(household, [(member, ticked, way, holder, household mates)]) for the roster table.

        The page writes these controls itself: at village scale (hundreds of members, three controls each)
        Django's widget templates would take most of the page's time."""
        ticked = set(self["attendees"].value() or [])
        rows = []
        for household, members in self.households.items():
            rows.append(
                (
                    household,
                    [
                        (
                            member,
                            str(member.pk) in ticked,
                            str(self[f"way_{member.pk}"].value() or AttendanceWay.IN_PERSON),
                            str(self[f"holder_{member.pk}"].value() or ""),
                            [mate for mate in members if mate.pk != member.pk],
                        )
                        for member in members
                    ],
                )
            )
        return rows

    def attendance_inputs(self) -> list[AttendanceInput]:
        entries = []
        for value in self.cleaned_data["attendees"]:
            pk = int(value)
            way = self.cleaned_data.get(f"way_{pk}") or AttendanceWay.IN_PERSON
            holder = self.cleaned_data.get(f"holder_{pk}")
            entries.append(
                AttendanceInput(
                    member_id=pk,
                    way=way,
                    proxy_holder_id=int(holder) if holder and way == AttendanceWay.PROXY else None,
                    authorisation=self.cleaned_data.get(f"scan_{pk}") if way == AttendanceWay.PROXY else None,
                )
            )
        return entries


def notice_label(notice) -> str:
    return gettext("Posted %(posted)s, for %(meets)s at %(place)s") % {
        "posted": notice.posted_on.isoformat(),
        "meets": notice.meets_on.isoformat(),
        "place": notice.place,
    }


class MeetingNoticeForm(forms.Form):
    """The notice of a meeting: time, place and agenda, posted on the public board."""

    body = forms.ChoiceField(label=_("Body"), choices=MeetingBody.choices)
    meets_at = forms.DateTimeField(
        label=_("Meets at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    place = forms.CharField(label=_("Place"), max_length=100)
    agenda = forms.CharField(label=_("Agenda"), widget=forms.Textarea(attrs={"rows": 4}))
    matters = forms.MultipleChoiceField(
        label=_("Matters on the agenda"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, matters=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["matters"].choices = [(str(m.pk), f"{m.title}（{m.amount}）") for m in matters]


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
