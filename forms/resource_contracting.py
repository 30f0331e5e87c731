from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from flows.models import ContractingMethod
from organizations.amounts import AmountField
from registers.models import Resource

from .application import CompositeApplicationForm


class ResourceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return _("%(resource)s, %(area)s mu, %(status)s") % {
            "resource": obj,
            "area": obj.area_mu,
            "status": obj.get_status_display(),
        }


class ResourceContractingForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    resource = ResourceChoiceField(label=_("Resource"), queryset=Resource.objects.none())
    contractor = forms.CharField(label=_("Contractor"), max_length=100)
    start_date = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(label=_("Until (inclusive)"), widget=forms.DateInput(attrs={"type": "date"}))
    reserve_price = AmountField(
        label=_("Reserve price per year (yuan)"), max_digits=14, decimal_places=2, min_value=Decimal("0.01")
    )
    annual_fee = AmountField(label=_("Annual fee (yuan)"), max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    method = forms.ChoiceField(label=_("Method"), choices=ContractingMethod.choices)
    trading_reference = forms.CharField(label=_("Trading platform reference"), max_length=60, required=False)

    def __init__(self, *args, organization=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the applying collective's own resources can be contracted out.
        if organization is not None:
            self.fields["resource"].queryset = Resource.objects.filter(organization=organization)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end <= start:
            self.add_error("end_date", _("The term must end after it starts."))
        return cleaned


class ResourceContractingApplicationForm(CompositeApplicationForm):
    main_form_class = ResourceContractingForm
    formset_classes = {}
