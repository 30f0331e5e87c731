"""An application form made of one main form and named formsets, validated together."""

from django import forms
from django.core.exceptions import ValidationError


class CompositeApplicationForm:
    """Subclasses name ``main_form_class``, ``formset_classes`` (name -> formset class) and the
    heading of each formset in ``formset_labels``."""

    main_form_class: type[forms.Form]
    formset_classes: dict = {}
    formset_labels: dict = {}
    template_name = ""

    def __init__(self, data=None, files=None, initial: dict | None = None, **form_kwargs):
        initial = initial or {}
        # form_kwargs reach the main form, e.g. the collective whose accounts or assets it offers.
        self.main = self.main_form_class(data=data, files=files, initial=initial, **form_kwargs)
        self.formsets = {
            name: formset_class(data=data, files=files, prefix=name, initial=initial.get(name))
            for name, formset_class in self.formset_classes.items()
        }
        self.non_field_errors_list: list[str] = []
        # Errors of the evidence files sent with the application, shown next to the file field.
        self.file_errors: list[str] = []

    @property
    def labelled_formsets(self) -> list:
        """(heading, formset) pairs for the template."""
        return [(self.formset_labels.get(name, name), formset) for name, formset in self.formsets.items()]

    def is_valid(self) -> bool:
        valid = self.main.is_valid()
        for formset in self.formsets.values():
            valid = formset.is_valid() and valid
        return valid

    def to_data(self) -> dict:
        data = dict(self.main.cleaned_data)
        for name, formset in self.formsets.items():
            data[name] = [
                form.cleaned_data for form in formset.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")
            ]
        return data

    def add_service_error(self, error: ValidationError) -> None:
        """Show a service's ValidationError on the field it names, or above the form."""
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                if field in self.main.fields:
                    self.main.add_error(field, messages)
                elif field == "files":
                    self.file_errors.extend(messages)
                else:
                    self.non_field_errors_list.extend(messages)
        else:
            self.non_field_errors_list.extend(error.messages)
