from django import forms
from django.utils.translation import gettext_lazy as _

from registers.identity import validate_id_number
from registers.models import MembershipBasis

from .application import CompositeApplicationForm


class MemberConfirmationForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)


class MemberCandidateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    id_number = forms.CharField(label=_("ID number"), max_length=18)
    household = forms.CharField(label=_("Household"), max_length=40)
    basis = forms.ChoiceField(label=_("Basis"), choices=MembershipBasis.choices)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def clean_id_number(self) -> str:
        # People type the check character as a lower-case x; the standard writes it upper-case.
        value = self.cleaned_data["id_number"].strip().upper()
        validate_id_number(value)
        return value


MemberCandidateFormSet = forms.formset_factory(MemberCandidateForm, extra=3, min_num=1, validate_min=True)


class MemberConfirmationApplicationForm(CompositeApplicationForm):
    main_form_class = MemberConfirmationForm
    formset_classes = {"candidates": MemberCandidateFormSet}
    formset_labels = {"candidates": _("Persons to confirm")}
