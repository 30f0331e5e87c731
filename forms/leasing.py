from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from flows.models import PaymentFrequency
from organizations.amounts import AmountField
from registers.models import Asset, AssetStatus

from .application import CompositeApplicationForm

LEASABLE = (AssetStatus.IN_USE, AssetStatus.IDLE)


class AssetChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return _("%(asset)s (%(status)s)") % {"asset": obj, "status": obj.get_status_display()}


class LeasingForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    asset = AssetChoiceField(label=_("Asset"), queryset=Asset.objects.none())
    lessee = forms.CharField(label=_("Lessee"), max_length=100)
    start_date = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(label=_("Until (inclusive)"), widget=forms.DateInput(attrs={"type": "date"}))
    annual_rent = AmountField(label=_("Annual rent (yuan)"), max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    frequency = forms.ChoiceField(label=_("Payment schedule"), choices=PaymentFrequency.choices)
    trading_reference = forms.CharField(label=_("Trading platform reference"), max_length=60, required=False)

    def __init__(self, *args, organization=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the applying collective's assets that are neither leased nor disposed can be leased out.
        if organization is not None:
            self.fields["asset"].queryset = Asset.objects.filter(organization=organization, status__in=LEASABLE)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end <= start:
            self.add_error("end_date", _("The term must end after it starts."))
        return cleaned


class LeasingApplicationForm(CompositeApplicationForm):
    main_form_class = LeasingForm
    formset_classes = {}
