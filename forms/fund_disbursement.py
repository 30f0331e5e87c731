from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.amounts import AmountField
from registers.funds import fund_balance
from registers.models import FundAccount

from .application import CompositeApplicationForm


class FundAccountChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return _("%(account)s (balance %(balance)s yuan)") % {"account": obj, "balance": fund_balance(obj)}


class FundDisbursementForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    account = FundAccountChoiceField(label=_("Pay from account"), queryset=FundAccount.objects.none())
    payee = forms.CharField(label=_("Payee"), max_length=100)
    # Shorter than the register's 200 characters: the voucher reference is appended when the payment is recorded.
    purpose = forms.CharField(label=_("Purpose"), max_length=150)
    budget_line = forms.CharField(label=_("Budget line"), max_length=100)
    amount = AmountField(label=_("Amount (yuan)"), max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, organization=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the applying collective's own accounts can be paid from.
        if organization is not None:
            self.fields["account"].queryset = FundAccount.objects.filter(organization=organization)


class FundPaymentForm(forms.Form):
    """What the cashier records when the approved payment is made."""

    paid_on = forms.DateField(
        label=_("Paid on"), initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )
    reference = forms.CharField(label=_("Voucher or bank reference"), max_length=40)

    def __init__(self, *args, organization=None, **kwargs):
        # The matter page hands every form of a transaction the same kwargs; this one needs none.
        super().__init__(*args, **kwargs)

    def clean_paid_on(self):
        paid_on = self.cleaned_data["paid_on"]
        if paid_on > timezone.localdate():
            raise forms.ValidationError(_("A payment cannot be recorded before it is made."))
        return paid_on


class FundDisbursementApplicationForm(CompositeApplicationForm):
    main_form_class = FundDisbursementForm
    formset_classes = {}


class FundPaymentRecordForm(CompositeApplicationForm):
    main_form_class = FundPaymentForm
    formset_classes = {}
