"""Filters and sort columns of the inbox and the matter list; every filter lives in the URL's query string."""

from django import forms
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from listing.keyset import Sorting, SortKey
from organizations.amounts import AmountField
from organizations.jurisdiction import visible_organizations
from organizations.models import Organization, OrganizationKind, TransactionType

from .models import SPINE, MatterStatus, Step
from .selectors import OVERDUE_LEVELS, overdue_condition

STEP_POSITION = Case(
    *[When(next_step=step.value, then=Value(position)) for position, step in enumerate(SPINE)],
    default=Value(len(SPINE)),
    output_field=IntegerField(),
)

SORT_KEYS = {
    "title": SortKey("title", "title", gettext_lazy("Matter")),
    "village": SortKey("village", "organization__parent__name", gettext_lazy("Village")),
    "type": SortKey("type", "transaction_type", gettext_lazy("Type")),
    "amount": SortKey("amount", "amount", gettext_lazy("Amount (yuan)")),
    "step": SortKey("step", STEP_POSITION, gettext_lazy("Step")),
    "status": SortKey("status", "status", gettext_lazy("Status")),
    "waiting": SortKey("waiting", F("step_since"), gettext_lazy("Waiting since")),
    "applied": SortKey("applied", "created_at", gettext_lazy("Applied at")),
}
# The inbox shows first what has waited longest; the matter list the newest applications.
INBOX_SORTING = Sorting(
    keys=[SORT_KEYS[name] for name in ("title", "village", "type", "amount", "step", "waiting", "applied")],
    default="waiting",
)
MATTER_LIST_SORTING = Sorting(
    keys=[SORT_KEYS[name] for name in ("title", "village", "type", "amount", "step", "status", "waiting", "applied")],
    default="-applied",
)


class VillageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, organization: Organization) -> str:
        return f"{organization.parent.name} · {organization.name}" if organization.parent_id else organization.name


def _date_input():
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class MatterFilterForm(forms.Form):
    """What a list of matters can be narrowed to. Bound to ``request.GET``; every field is optional."""

    q = forms.CharField(
        label=gettext_lazy("Text"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Words of the title, an archive number or a matter number."),
    )
    village = VillageChoiceField(
        label=gettext_lazy("Village"), queryset=Organization.objects.none(), required=False, empty_label="—"
    )
    type = forms.ChoiceField(label=gettext_lazy("Type"), choices=[("", "—"), *TransactionType.choices], required=False)
    step = forms.ChoiceField(label=gettext_lazy("Step"), choices=[("", "—"), *Step.choices], required=False)
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=[("", "—"), *MatterStatus.choices], required=False)
    amount_min = AmountField(
        label=gettext_lazy("Amount from (yuan)"), min_value=0, max_digits=14, decimal_places=2, required=False
    )
    amount_max = AmountField(
        label=gettext_lazy("Amount up to (yuan)"), min_value=0, max_digits=14, decimal_places=2, required=False
    )
    date_from = forms.DateField(label=gettext_lazy("Applied from"), widget=_date_input(), required=False)
    date_to = forms.DateField(label=gettext_lazy("Applied until"), widget=_date_input(), required=False)
    overdue = forms.ChoiceField(
        label=gettext_lazy("Waiting"),
        choices=[("", "—"), *OVERDUE_LEVELS],
        required=False,
    )

    def __init__(self, *args, user, with_status: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = visible_organizations(user, kind=OrganizationKind.VILLAGE).select_related(
            "parent"
        )
        if not with_status:
            del self.fields["status"]

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("amount_min"), cleaned.get("amount_max")
        if low is not None and high is not None and low > high:
            self.add_error("amount_max", _("The upper amount is below the lower one."))
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    @property
    def is_filtering(self) -> bool:
        return (
            self.is_bound and self.is_valid() and any(value not in (None, "") for value in self.cleaned_data.values())
        )

    def apply(self, matters: QuerySet) -> QuerySet:
        """The matters that pass every filter given (call only when the form is valid)."""
        data = self.cleaned_data
        text = data["q"].strip()
        if text:
            condition = Q(title__icontains=text) | Q(archive_number__iexact=text)
            number = text.removeprefix("#")
            if number.isdigit():
                condition |= Q(pk=int(number))
            matters = matters.filter(condition)
        if data["village"] is not None:
            matters = matters.filter(organization__path__startswith=data["village"].path)
        if data["type"]:
            matters = matters.filter(transaction_type=data["type"])
        if data["step"]:
            matters = matters.filter(next_step=data["step"], status=MatterStatus.IN_PROGRESS)
        if data.get("status"):
            matters = matters.filter(status=data["status"])
        if data["amount_min"] is not None:
            matters = matters.filter(amount__gte=data["amount_min"])
        if data["amount_max"] is not None:
            matters = matters.filter(amount__lte=data["amount_max"])
        if data["date_from"]:
            matters = matters.filter(created_at__date__gte=data["date_from"])
        if data["date_to"]:
            matters = matters.filter(created_at__date__lte=data["date_to"])
        if data["overdue"]:
            matters = matters.filter(overdue_condition(data["overdue"]))
        return matters
