from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from flows.models import EquityTransferKind
from organizations.amounts import AmountField
from registers.models import Member, MemberStatus, ShareKind

from .application import CompositeApplicationForm


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, member):
        return f"{member.name}（{member.household}）"


class EquityTransferForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind of transfer"), choices=EquityTransferKind.choices)
    from_member = MemberChoiceField(label=_("Transferring holder"), queryset=Member.objects.none())
    to_member = MemberChoiceField(
        label=_("Receiving member"),
        queryset=Member.objects.none(),
        required=False,
        help_text=_("Leave empty for a collective redemption."),
    )
    share_kind = forms.ChoiceField(label=_("Share kind"), choices=ShareKind.choices)
    shares = forms.IntegerField(label=_("Shares"), min_value=1)
    price = AmountField(
        label=_("Price (yuan)"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        initial=Decimal("0"),
        help_text=_("Only an internal transfer or a redemption carries a price."),
    )
    reason = forms.CharField(label=_("Reason and basis"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, organization=None, **kwargs):
        super().__init__(*args, **kwargs)
        members = Member.objects.filter(organization=organization) if organization else Member.objects.none()
        # Only members are offered: a deceased holder's shares pass by inheritance, the receiver must be active.
        self.fields["from_member"].queryset = members.filter(status__in=[MemberStatus.ACTIVE, MemberStatus.DECEASED])
        self.fields["to_member"].queryset = members.filter(status=MemberStatus.ACTIVE)

    def clean_price(self):
        return self.cleaned_data["price"] or Decimal("0")


class EquityTransferApplicationForm(CompositeApplicationForm):
    main_form_class = EquityTransferForm
    formset_classes = {}
