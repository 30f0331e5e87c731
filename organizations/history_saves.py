"""History rows only where a value changed: a save of a row loaded and left as it was writes no history row.

simple-history writes a historical record on every save. For an update whose concrete values are the
ones the row was loaded with (or last saved with), that record would repeat the one before it; it is
skipped (simple-history's ``skip_history_when_saving``). The save itself still happens, and so does
its leaf in the tamper-evident log. Fields set automatically on save (``auto_now``) do not count as a change.

Only rows known to come from the database count as unchanged: a model built by hand with a primary key
has nothing to compare with and is recorded as before.
"""

import copy

from django.db.models.signals import post_init, post_save, pre_save
from simple_history.models import registered_models

SNAPSHOT = "_history_snapshot"


def _tracked_fields(model) -> list[str]:
    return [
        field.attname
        for field in model._meta.concrete_fields
        if not getattr(field, "auto_now", False) and not field.primary_key
    ]


def _values(instance, names) -> dict | None:
    values = instance.__dict__
    if any(name not in values for name in names):  # a deferred field: nothing reliable to compare with
        return None
    # Lists and dicts (JSON fields) are copied: a change made in place must not change the snapshot too.
    return {
        name: copy.deepcopy(values[name]) if isinstance(values[name], list | dict) else values[name] for name in names
    }


def _loaded(sender, instance, **kwargs) -> None:
    names = _TRACKED.get(sender)
    if names is not None and instance.pk is not None:
        instance.__dict__[SNAPSHOT] = _values(instance, names)


def _before_save(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    names = _TRACKED.get(sender)
    if names is None or raw or instance._state.adding or instance._state.db is None:
        return
    snapshot = instance.__dict__.get(SNAPSHOT)
    if snapshot is not None and _values(instance, names) == snapshot:
        instance.skip_history_when_saving = True


def _after_save(sender, instance, **kwargs) -> None:
    names = _TRACKED.get(sender)
    if names is None:
        return
    instance.__dict__.pop("skip_history_when_saving", None)  # this save only
    instance.__dict__[SNAPSHOT] = _values(instance, names)


_TRACKED: dict = {}


def connect() -> None:
    """Called once the models are loaded (OrganizationsConfig.ready): every model simple-history records."""
    for model in list(registered_models.values()):
        if model._meta.proxy or model in _TRACKED or not hasattr(model._meta, "simple_history_manager_attribute"):
            continue
        _TRACKED[model] = _tracked_fields(model)
        uid = f"history_saves_{model._meta.label}"
        post_init.connect(_loaded, sender=model, dispatch_uid=uid, weak=False)
        pre_save.connect(_before_save, sender=model, dispatch_uid=uid, weak=False)
        post_save.connect(_after_save, sender=model, dispatch_uid=uid, weak=False)
