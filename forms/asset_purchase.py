from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from organizations.amounts import AmountField

from .application import CompositeApplicationForm


class AssetPurchaseForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    funding_source = forms.CharField(label=_("Funding source"), max_length=100)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
    chosen_supplier = forms.CharField(label=_("Chosen supplier"), max_length=100)
    total = AmountField(label=_("Total (yuan)"), max_digits=14, decimal_places=2, min_value=Decimal("0.01"))


class PurchaseItemForm(forms.Form):
    name = forms.CharField(label=_("Item"), max_length=100)
    category = forms.CharField(label=_("Category"), max_length=50)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1)
    unit_price = AmountField(label=_("Unit price (yuan)"), max_digits=14, decimal_places=2, min_value=Decimal("0.01"))


class QuotationForm(forms.Form):
    supplier = forms.CharField(label=_("Supplier"), max_length=100)
    amount = AmountField(label=_("Quoted total (yuan)"), max_digits=14, decimal_places=2, min_value=Decimal("0.01"))


PurchaseItemFormSet = forms.formset_factory(PurchaseItemForm, extra=3, min_num=1, validate_min=True)
QuotationFormSet = forms.formset_factory(QuotationForm, extra=3)


class AssetPurchaseApplicationForm(CompositeApplicationForm):
    main_form_class = AssetPurchaseForm
    formset_classes = {"items": PurchaseItemFormSet, "quotations": QuotationFormSet}
    formset_labels = {"items": _("Items"), "quotations": _("Quotations")}
