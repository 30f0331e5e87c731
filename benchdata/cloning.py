"""Copy the rows the services wrote for one template, many times over, through bulk inserts.

A template (a matter, a collective's member roll) is first made by the real services. ``capture`` notes
every row they wrote (the rows above each table's highest primary key before they ran), and ``Cloner``
writes each copy with ``bulk_create``: same tables, same columns, foreign keys between captured rows
pointing at the copy's own rows, the template's places and people replaced by the target's, unique
values made unique, and the copy's ledger leaves given fresh uids and their hashes computed again.
"""

import datetime
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable

from django.apps import apps
from django.db import models

from documents import ledger
from documents.models import LedgerEntry

# A matter's rows live in these apps; everything else (sessions, counters, summary tables) is not its own.
CAPTURED_APPS = {"flows", "documents", "registers", "viewflow"}
# …and of those, the log's tree and its signed heads are the sequencer's, not a matter's.
SKIPPED_TABLES = {
    "documents_treenode",
    "documents_treehead",
    "documents_witness",
    "documents_witnesscosignature",
    "documents_checkpoint",
}


def _models() -> list[type[models.Model]]:
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed
        and not model._meta.proxy
        and model._meta.app_label in CAPTURED_APPS
        and model._meta.db_table not in SKIPPED_TABLES
    ]


def high_water() -> dict[type[models.Model], int]:
    """The highest primary key of every table with a numeric key (0 when empty)."""
    marks = {}
    for model in _models():
        pk = model._meta.pk
        if isinstance(pk, (models.AutoField, models.BigAutoField, models.IntegerField)) and not pk.is_relation:
            marks[model] = model.objects.aggregate(top=models.Max("pk"))["top"] or 0
    return marks


def capture(marks: dict[type[models.Model], int]) -> dict[type[models.Model], list[models.Model]]:
    """Rows written since ``marks`` were taken, by table (rows keyed by a relation follow their owner)."""
    rows: dict[type[models.Model], list[models.Model]] = {}
    for model, mark in marks.items():
        found = list(model.objects.filter(pk__gt=mark).order_by("pk"))
        if found:
            rows[model] = found
    captured_pks = {model: {row.pk for row in found} for model, found in rows.items()}
    for model in _models():
        pk = model._meta.pk
        if pk.is_relation and pk.related_model in captured_pks:
            found = list(model.objects.filter(pk__in=captured_pks[pk.related_model]).order_by("pk"))
            if found:
                rows[model] = found
    return rows


def _order(tables: Iterable[type[models.Model]]) -> list[type[models.Model]]:
    """Tables so that every captured row's foreign keys point at tables written before it.

    A cycle (viewflow's process → parent task → process) is broken at a nullable key, which the captured
    rows leave empty or which points outside the template.
    """
    tables = list(tables)
    pending, ordered = set(tables), []

    def waits_for(model, strict: bool) -> bool:
        if _historical_of(model) in pending:  # a version row names its object's new pk
            return True
        return any(
            field.related_model in pending and field.related_model is not model and (strict or not field.null)
            for field in model._meta.concrete_fields
            if field.is_relation
        )

    while pending:
        ready = [model for model in tables if model in pending and not waits_for(model, strict=True)]
        if not ready:
            ready = [model for model in tables if model in pending and not waits_for(model, strict=False)][:1]
        if not ready:
            raise ValueError(f"cannot order {sorted(m._meta.db_table for m in pending)}")
        for model in ready:
            ordered.append(model)
            pending.discard(model)
    return ordered


def _unique_columns(model) -> set[str]:
    """Columns that must differ between rows: unique fields and one-column unique constraints."""
    columns = {field.attname for field in model._meta.concrete_fields if field.unique and not field.primary_key}
    for constraint in model._meta.constraints:
        fields = getattr(constraint, "fields", ())
        if isinstance(constraint, models.UniqueConstraint) and len(fields) == 1:
            columns.add(model._meta.get_field(fields[0]).attname)
    return columns


def _historical_of(model) -> type[models.Model] | None:
    """The model a simple-history table keeps the versions of (None for any other table)."""
    original = model.__dict__.get("instance_type")
    return original if isinstance(original, type) else None


class Cloner:
    """Writes copies of captured rows.

    Each target is a dict ``{"organizations.Organization": {template pk: copy's pk}, "auth.User": …}``: the
    rows outside the template (places, people, rule versions) that a copy points at instead.
    """

    def __init__(self, rows: dict[type[models.Model], list[models.Model]]):
        self.rows = rows
        self.order = _order(rows)
        self.by_name = {model._meta.object_name: model for model in rows}
        self.serial = 0
        self.unique = {model: _unique_columns(model) for model in rows}

    def clone(
        self,
        targets: list[dict[str, dict]],
        *,
        shift: Callable[[int], datetime.timedelta] = lambda index: datetime.timedelta(0),
        batch_size: int = 2000,
    ) -> dict[type[models.Model], int]:
        """One copy per target; returns the rows written per table."""
        maps: list[dict[type[models.Model], dict]] = [defaultdict(dict) for _ in targets]
        written: dict[type[models.Model], int] = {}
        for model in self.order:
            objects, owners = [], []
            for index, fixed in enumerate(targets):
                for row in self.rows[model]:
                    objects.append(self._copy(model, row, maps[index], fixed, shift(index)))
                    owners.append((index, row.pk))
            with _no_auto_dates(model):
                model.objects.bulk_create(objects, batch_size=batch_size)
            for obj, (index, old_pk) in zip(objects, owners, strict=True):
                maps[index][model][old_pk] = obj.pk
            written[model] = len(objects)
        return written

    def _mapped(self, field, value, mapping, fixed):
        if value is None:
            return None
        related = field.related_model
        if value in mapping.get(related, {}):
            return mapping[related][value]
        return fixed.get(related._meta.label, {}).get(value, value)

    def _copy(self, model, row, mapping, fixed, delta):
        copy = model()
        original_of_history = _historical_of(model)
        self.serial += 1
        for field in model._meta.concrete_fields:
            value = getattr(row, field.attname)
            if field.primary_key and not field.is_relation:
                value = None
            elif field.is_relation:
                value = self._mapped(field, value, mapping, fixed)
            elif original_of_history is not None and field.attname == original_of_history._meta.pk.attname:
                value = mapping.get(original_of_history, {}).get(value, value)
            elif isinstance(field, models.UUIDField) and value is not None:
                value = uuid.uuid4()
            elif isinstance(field, models.DateTimeField) and value is not None:
                value = value - delta
            elif field.attname in self.unique[model] and isinstance(value, str) and value:
                suffix = f"-{self.serial}"
                value = value[: (field.max_length or 255) - len(suffix)] + suffix
            setattr(copy, field.attname, value)
        if model is LedgerEntry:
            self._fresh_leaf(copy, mapping)
        return copy

    def _fresh_leaf(self, entry: LedgerEntry, mapping) -> None:
        """A copied leaf names the copy's object and is a leaf of its own, waiting for the sequencer."""
        target = self.by_name.get(entry.object_type)
        if target is not None and entry.object_pk is not None:
            new_pk = mapping.get(target, {}).get(entry.object_pk)
            if new_pk is not None:
                entry.object_pk, entry.object_id = new_pk, str(new_pk)
        entry.seq = entry.entry_hash = entry.sequenced_at = None
        entry.prev_hash = ""
        entry.leaf_hash, entry.leaf_sm3 = ledger.leaf_hashes_of(entry)


class _no_auto_dates:
    """Keep the template's (shifted) dates: auto_now / auto_now_add would stamp every copy with now."""

    def __init__(self, model):
        self.fields = [
            field
            for field in model._meta.concrete_fields
            if isinstance(field, models.DateField) and (field.auto_now or field.auto_now_add)
        ]

    def __enter__(self):
        self.saved = [(field, field.auto_now, field.auto_now_add) for field in self.fields]
        for field in self.fields:
            field.auto_now = field.auto_now_add = False

    def __exit__(self, *exc):
        for field, auto_now, auto_now_add in self.saved:
            field.auto_now, field.auto_now_add = auto_now, auto_now_add
