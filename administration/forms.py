from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from organizations.models import Role

from .models import EventKind, Outcome, SecurityPolicy
from .services import BUSINESS_ROLES, POLICY_FIELDS


class OrganizationForm(forms.Form):
    parent = forms.ModelChoiceField(label=_("Above it"), queryset=None)
    name = forms.CharField(label=_("Name"), max_length=100)
    code = forms.CharField(label=_("Code"), max_length=40)

    def __init__(self, *args, parents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = parents


class AccountForm(forms.Form):
    username = forms.RegexField(
        label=_("Username"),
        max_length=150,
        regex=r"^[\w.@+-]+$",
        error_messages={"invalid": _("Letters, digits and @ . + - _ only.")},
    )
    last_name = forms.CharField(label=_("Surname"), max_length=150)
    first_name = forms.CharField(label=_("Given name"), max_length=150)

    def clean_username(self):
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("This username is taken."))
        return username


class PostForm(forms.Form):
    organization = forms.ModelChoiceField(label=_("Organisation"), queryset=None)
    role = forms.ChoiceField(
        label=_("Post"), choices=[(role.value, role.label) for role in Role if role in BUSINESS_ROLES]
    )

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations


class PolicyForm(forms.ModelForm):
    class Meta:
        model = SecurityPolicy
        fields = POLICY_FIELDS


class UnlockForm(forms.Form):
    username = forms.CharField(label=_("Account"), max_length=150, required=False)
    address = forms.GenericIPAddressField(label=_("Address"), required=False)

    def clean(self):
        data = super().clean()
        if not data.get("username") and not data.get("address"):
            raise forms.ValidationError(_("Name the account or the address to unlock."))
        return data


class SecurityLogForm(forms.Form):
    q = forms.CharField(label=_("Account or text"), max_length=100, required=False)
    kind = forms.ChoiceField(label=_("Type"), choices=[("", "—"), *EventKind.choices], required=False)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[("", "—"), *Outcome.choices], required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class PurgeForm(forms.Form):
    before = forms.DateField(label=_("Purge entries older than"), widget=forms.DateInput(attrs={"type": "date"}))


class TokenForm(forms.Form):
    token = forms.RegexField(
        label=_("Six-digit code"),
        regex=r"^\d{6}$",
        max_length=6,
        error_messages={"invalid": _("Enter the six digits your authenticator app shows.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
