"""Model fields for personal data: sealed (encrypted) at rest, a plain ``str`` in Python, found by a blind index.

``SealedCharField`` stores a token (protection/crypto.py) and gives back the plaintext when a row is
loaded, so code reads ``member.id_number`` as before. It cannot be searched: every lookup but
``isnull`` is refused (a FieldError, not a silent miss). Searches go through the row's
``BlindIndexField``, kept in step with the sealed field on every save. ``QuerySet.update()`` of a
sealed field bypasses the index: set the value on the instance and save it instead.
"""

from django.core import validators
from django.db import models
from django.db.models.lookups import IsNull

from .crypto import blind_index, is_sealed, seal, unseal


def sealed_context(field) -> str:
    # Bound into each ciphertext: a value copied into another column does not open there. Historical
    # models (django-simple-history, also as migrations see them) use the tracked model's name, so a
    # history row's copy opens like the row's own value.
    model = field.model
    name = model._meta.object_name
    if name.startswith("Historical") and any(f.name == "history_id" for f in model._meta.fields):
        name = name.removeprefix("Historical")
    return f"{model._meta.app_label}.{name}.{field.name}"


class SealedCharField(models.TextField):
    """Text encrypted in the database; ``max_length`` limits the plaintext."""

    def __init__(self, *args, max_length=None, **kwargs):
        self.plain_max_length = max_length
        super().__init__(*args, **kwargs)
        if max_length is not None:
            self.validators.append(validators.MaxLengthValidator(max_length))

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.plain_max_length is not None:
            kwargs["max_length"] = self.plain_max_length
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        if value is None or not is_sealed(value):
            # Rows written before the column was sealed still read (the data migration seals them).
            return value
        return unseal(value, context=sealed_context(self))

    def to_python(self, value):
        if is_sealed(value):
            return unseal(value, context=sealed_context(self))
        return super().to_python(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, "") or is_sealed(value):
            return value
        return seal(value, context=sealed_context(self))

    def get_lookup(self, lookup_name):
        # Equal plaintexts never give equal ciphertexts: a lookup could only ever miss.
        return IsNull if lookup_name == "isnull" else None

    def formfield(self, **kwargs):
        return super().formfield(**{"max_length": self.plain_max_length, "widget": None, **kwargs})


class BlindIndexField(models.CharField):
    """The HMAC of another field of the row, kept in step on every save: what a search by value compares."""

    def __init__(self, *args, source: str, purpose: str = "", **kwargs):
        self.source = source
        self.purpose = purpose or source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        if self.purpose != self.source:
            kwargs["purpose"] = self.purpose
        for key, default in (("max_length", 64), ("editable", False), ("db_index", True), ("blank", True)):
            if kwargs.get(key) == default:
                kwargs.pop(key, None)
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.source)
        digest = index_of(value, purpose=self.purpose)
        setattr(model_instance, self.attname, digest)
        return digest


def index_of(value, *, purpose: str) -> str:
    """The blind index a search compares with: what ``BlindIndexField(purpose=...)`` stores for ``value``."""
    if value in (None, ""):
        return ""
    return blind_index(str(value), purpose=purpose)
