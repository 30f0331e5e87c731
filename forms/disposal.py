from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from flows.models import DisposalMethod
from organizations.amounts import AmountField
from registers.models import Asset, AssetStatus, FundAccount

from .application import CompositeApplicationForm


class DisposalForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    asset = forms.ModelChoiceField(label=_("Asset"), queryset=Asset.objects.none())
    method = forms.ChoiceField(label=_("Method"), choices=DisposalMethod.choices)
    appraisal_value = AmountField(
        label=_("Appraised value (yuan)"), max_digits=14, decimal_places=2, min_value=Decimal("0")
    )
    appraiser = forms.CharField(label=_("Appraiser"), max_length=100)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
    counterparty = forms.CharField(
        label=_("Buyer or counterparty"),
        max_length=100,
        required=False,
        help_text=_("Required for a transfer, an auction or an exchange."),
    )
    proceeds_account = forms.ModelChoiceField(
        label=_("Account receiving the proceeds"),
        queryset=FundAccount.objects.none(),
        required=False,
        help_text=_("Required for a transfer or an auction."),
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["asset"].queryset = Asset.objects.filter(organization=organization).exclude(
            status=AssetStatus.DISPOSED
        )
        self.fields["proceeds_account"].queryset = FundAccount.objects.filter(organization=organization)


class DisposalApplicationForm(CompositeApplicationForm):
    main_form_class = DisposalForm


class DisposalOutcomeForm(forms.Form):
    proceeds = AmountField(label=_("Actual proceeds (yuan)"), max_digits=14, decimal_places=2, min_value=Decimal("0"))
    disposed_on = forms.DateField(
        label=_("Disposed on"), initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, organization, **kwargs):
        # The flow's form kwargs reach the implementation form too; it offers no register choices.
        super().__init__(*args, **kwargs)


class DisposalImplementationForm(CompositeApplicationForm):
    main_form_class = DisposalOutcomeForm
