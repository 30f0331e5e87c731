from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import ImportKind

IMPORT_MAX_BYTES = getattr(settings, "IMPORT_MAX_BYTES", 50 * 1024 * 1024)


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the workbook holds"), choices=ImportKind.choices)
    scope = forms.TypedChoiceField(label=pgettext_lazy("import scope", "For"), coerce=int)
    file = forms.FileField(label=_("Workbook (.xlsx)"), widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}))

    def __init__(self, *args, scopes, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(kind, ImportKind(kind).label) for kind in kinds]
        self.scopes = {scope.pk: scope for scope in scopes}
        self.fields["scope"].choices = [(scope.pk, scope.name) for scope in scopes]
        if len(scopes) == 1:
            self.fields["scope"].initial = scopes[0].pk

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        if uploaded.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The workbook is larger than %(size)s MB: split it.") % {"size": IMPORT_MAX_BYTES // (1024 * 1024)}
            )
        return uploaded

    def clean_scope(self):
        return self.scopes[self.cleaned_data["scope"]]


class PasswordsAgainForm(forms.Form):
    confirm = forms.BooleanField(
        label=_(
            "Reset the passwords again: the sheet given before stops working for every account that has not yet "
            "chosen its own password."
        ),
        error_messages={"required": _("Tick the box to reset the passwords again.")},
    )
