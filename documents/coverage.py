"""What the log covers: every record a decision rests on, one line per model, payloads derived from the model.

``cover("app.Model", matter="path__to__matter")`` is all a new model needs. Every save and delete of a
covered row writes a leaf, inside the writer's transaction, whose payload is the row as the database
holds it (read back, so the writer and the whole-log check derive it the same way): every concrete
field and many-to-many field, and for file fields the SHA-256 and SM3 of the stored content. A field
added to a model later is covered without any change here. The whole-log check (documents/ledger_verify.py)
derives the same payload from every covered row and compares it with the row's latest leaf.

Edits that bypass ``save()`` (``QuerySet.update``, raw SQL) are exactly what the log is there to catch:
code that changes a covered row must save it.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.db.models.signals import m2m_changed, post_delete, post_save
from simple_history.models import HistoricalRecords

from protection.fields import SealedCharField, index_of

from . import ledger
from .digests import fingerprint_field_file
from .models import LedgerKind

# The kind of a leaf, from the row's values, for models whose rows are of different kinds.
KindOf = Callable[[dict], str]


@dataclass(frozen=True)
class Coverage:
    label: str
    kind: str | KindOf
    # ORM path from the row to its matter's id ("pk" for the matter itself), or None.
    matter: str | None
    # Only these concrete fields (attnames), when the others change by design outside save().
    only: tuple[str, ...] = ()
    # File fields whose stored content is fingerprinted.
    files: tuple[str, ...] = ()
    m2m: tuple[str, ...] = field(default=())
    # Rows that are never deleted: a deletion, even one through the ORM (and so logged), is tampering.
    append_only: bool = False

    @property
    def model(self):
        return apps.get_model(self.label)  # the app registry caches it

    @property
    def sealed(self) -> frozenset[str]:
        """Fields holding a sealed personal number (ID, phone)."""
        return frozenset(
            model_field.attname
            for model_field in self.model._meta.concrete_fields
            if isinstance(model_field, SealedCharField)
        )

    @property
    def object_type(self) -> str:
        return self.model._meta.object_name

    @property
    def attnames(self) -> list[str]:
        names = [model_field.attname for model_field in self.model._meta.concrete_fields]
        return [name for name in names if not self.only or name in self.only or name == "id"]

    def kind_of(self, values: dict) -> str:
        return self.kind(values) if callable(self.kind) else self.kind

    def kinds(self) -> list[str]:
        if callable(self.kind):
            return [LedgerKind.DOSSIER, LedgerKind.DOCUMENT]
        return [self.kind]


REGISTRY: dict[str, Coverage] = {}


def cover(
    label: str,
    *,
    kind: str | KindOf = LedgerKind.RECORD,
    matter: str | None = "matter",
    only: Iterable[str] = (),
    files: Iterable[str] = (),
    append_only: bool = False,
) -> None:
    """Log every save and delete of this model's rows (see the module docstring)."""
    model = apps.get_model(label)
    m2m = tuple(sorted(relation.name for relation in model._meta.many_to_many))
    coverage = Coverage(
        label=label, kind=kind, matter=matter, only=tuple(only), files=tuple(files), m2m=m2m, append_only=append_only
    )
    clash = [other for other in REGISTRY.values() if other.object_type == coverage.object_type and other.label != label]
    if clash:
        raise ValueError(f"{label} and {clash[0].label} share the object name the log files them under")
    REGISTRY[label] = coverage
    uid = f"ledger_cover_{label}"
    post_save.connect(_saved, sender=model, dispatch_uid=uid, weak=False)
    post_delete.connect(_deleted, sender=model, dispatch_uid=uid, weak=False)
    for name in m2m:
        m2m_changed.connect(_m2m_changed, sender=getattr(model, name).through, dispatch_uid=f"{uid}_{name}", weak=False)


def coverage_of(model) -> Coverage | None:
    return REGISTRY.get(model._meta.label)


# --- payloads -----------------------------------------------------------------------------------


def record_payload(coverage: Coverage, values: dict, m2m: dict[str, list[int]], files: dict) -> dict:
    """The logged form of one row: the same whether built as it is saved or read back by the check."""
    return {
        "model": coverage.label,
        "pk": values["id"],
        "fields": ledger.normalised(_logged_fields(coverage, values)),
        "m2m": {name: sorted(m2m.get(name, [])) for name in coverage.m2m},
        "files": files,
        "deleted": False,
    }


def _logged_fields(coverage: Coverage, values: dict) -> dict:
    """A sealed personal number goes into the append-only log (never encrypted, never purged) as a keyed
    hash only: a changed number, even one edited in the database, still gives another hash."""
    sealed = coverage.sealed
    return {
        name: index_of(values[name], purpose=f"ledger.{coverage.label}.{name}") if name in sealed else values[name]
        for name in coverage.attnames
    }


def deletion_payload(coverage: Coverage, pk) -> dict:
    return {"model": coverage.label, "pk": pk, "fields": {}, "m2m": {}, "files": {}, "deleted": True}


def comparable(payload: dict) -> dict:
    """What of a payload the live row must match (who made the change is the leaf's, not the row's)."""
    return {key: payload.get(key) for key in ("model", "pk", "fields", "m2m", "files", "deleted")}


def as_logged_then(coverage: Coverage, live: dict, logged: dict) -> dict:
    """The live payload cut to the fields the model had when the leaf was written.

    A field added to a model later is not in the leaves written before its migration: it is compared
    from the row's next save on, and until then must still hold the value the migration gave it (its
    default). A field since removed from the model is no longer compared."""
    fields = dict(live["fields"])
    for name in list(fields):
        if name in logged["fields"]:
            continue
        model_field = next(
            (candidate for candidate in coverage.model._meta.concrete_fields if candidate.attname == name), None
        )
        default = ledger.normalised(model_field.get_default()) if model_field is not None else None
        if fields[name] == default:
            del fields[name]
    m2m = {name: value for name, value in live["m2m"].items() if name in logged["m2m"] or value}
    logged_fields = logged["fields"]
    removed = {name: value for name, value in logged_fields.items() if name not in live["fields"]}
    return {**live, "fields": {**fields, **removed}, "m2m": m2m}


def _file_fingerprints(coverage: Coverage, row) -> dict:
    fingerprints = {}
    for name in coverage.files:
        field_file = getattr(row, name)
        if not field_file:
            fingerprints[name] = None
            continue
        try:
            found = fingerprint_field_file(field_file)
        except OSError:
            fingerprints[name] = {"missing": True}
            continue
        fingerprints[name] = {"sha256": found.sha256, "sm3": found.sm3, "size": found.size}
    return fingerprints


def value_columns(coverage: Coverage) -> list[str]:
    columns = list(coverage.attnames)
    if coverage.matter and coverage.matter != "pk":
        columns.append(coverage.matter)
    return columns


def matter_of(coverage: Coverage, values: dict):
    if coverage.matter is None:
        return None
    return values["id"] if coverage.matter == "pk" else values.get(coverage.matter)


def m2m_of(coverage: Coverage, pks: list) -> dict:
    """{pk: {name: [related pks]}} for the given rows, one query per many-to-many field."""
    found: dict = {pk: {name: [] for name in coverage.m2m} for pk in pks}
    for name in coverage.m2m:
        relation = coverage.model._meta.get_field(name)
        through = relation.remote_field.through
        source = relation.m2m_field_name()
        target = relation.m2m_reverse_field_name()
        rows = through.objects.filter(**{f"{source}__in": pks}).values_list(f"{source}_id", f"{target}_id")
        for pk, related in rows:
            found[pk][name].append(related)
    return found


def live_payload(coverage: Coverage, values: dict, m2m: dict, row=None) -> dict:
    files = {}
    if coverage.files:
        row = row or coverage.model._base_manager.get(pk=values["id"])
        files = _file_fingerprints(coverage, row)
    return record_payload(coverage, values, m2m, files)


def _actor(instance):
    user = getattr(instance, "_history_user", None)
    if user is None:
        request = getattr(HistoricalRecords.context, "request", None)
        user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None, None
    return user.get_username(), user.pk


def _column_value(model_field, value):
    """A value of the instance as the database gives it back (the type its column returns)."""
    if value is None:
        return None
    value = model_field.to_python(value)
    if isinstance(value, Decimal) and getattr(model_field, "decimal_places", None) is not None:
        value = value.quantize(Decimal(1).scaleb(-model_field.decimal_places))
    return value


def values_in_hand(coverage: Coverage, instance) -> dict | None:
    """The row's values from the instance just saved in full, or None when only the database can tell.

    A full save sends every concrete field of the instance to the database, so they are what it now
    holds (in the types its columns give back); a save of some fields, or a matter reached through a
    relation, is read back instead."""
    matter_id = None
    if coverage.matter and coverage.matter != "pk":
        matter_id = _matter_id_in_hand(instance, coverage.matter)
        if matter_id is _UNKNOWN:
            return None
    values = {}
    for model_field in coverage.model._meta.concrete_fields:
        if model_field.attname in coverage.attnames:
            values[model_field.attname] = _column_value(model_field, getattr(instance, model_field.attname))
    if coverage.matter and coverage.matter != "pk":
        values[coverage.matter] = matter_id
    return values


_UNKNOWN = object()


def _matter_id_in_hand(instance, path: str):
    """The id at the end of ``path`` ("matter", "purchase__matter") through relations already in hand, or _UNKNOWN."""
    *through, last = path.split("__")
    row = instance
    for name in through:
        relation = row._meta.get_field(name)
        if not relation.is_cached(row):
            return _UNKNOWN
        row = relation.get_cached_value(row)
        if row is None:
            return None
    return getattr(row, f"{last}_id")


def _read_values(coverage: Coverage, pk) -> dict | None:
    return coverage.model._base_manager.filter(pk=pk).values(*value_columns(coverage)).first()


def _m2m_name(coverage: Coverage, through) -> str | None:
    for name in coverage.m2m:
        if coverage.model._meta.get_field(name).remote_field.through is through:
            return name
    return None


def log_row(coverage: Coverage, instance, *, in_hand: bool = False, created: bool = False) -> None:
    """Write the leaf of a covered row as the database now holds it.

    ``in_hand``: the instance was just saved in full, so its values are the row's and need no read back
    (``LEDGER_CHECK_VALUES_IN_HAND`` reads back anyway and fails on a difference, as the tests run)."""
    values = values_in_hand(coverage, instance) if in_hand else None
    if values is None:
        values = _read_values(coverage, instance.pk)
        if values is None:  # saved and deleted again within the same transaction
            return
    # A row just created has no many-to-many rows yet: they are logged as they are added.
    m2m = {} if not coverage.m2m else {name: [] for name in coverage.m2m} if created else None
    if m2m is None:
        m2m = m2m_of(coverage, [instance.pk])[instance.pk]
    # Kept on an instance saved in full: its next change of a many-to-many field is logged without a read.
    instance._ledger_in_hand = (values, m2m) if in_hand and coverage.m2m else None
    log_values(coverage, instance, values, m2m)


def log_values(coverage: Coverage, instance, values: dict, m2m: dict) -> None:
    if settings.LEDGER_CHECK_VALUES_IN_HAND:
        stored = _read_values(coverage, instance.pk)
        stored_m2m = m2m_of(coverage, [instance.pk])[instance.pk] if coverage.m2m else {}
        if ledger.normalised(_logged_fields(coverage, stored)) != ledger.normalised(
            _logged_fields(coverage, values)
        ) or {name: sorted(ids) for name, ids in stored_m2m.items()} != {
            name: sorted(ids) for name, ids in m2m.items()
        }:
            raise AssertionError(
                f"{coverage.label} #{instance.pk}: values in hand {values} {m2m} "
                f"are not the row's {stored} {stored_m2m}"
            )
    payload = live_payload(coverage, values, m2m, row=instance)
    payload["actor"], payload["actor_id"] = _actor(instance)
    ledger.ledger_append(
        kind=coverage.kind_of(values),
        object_type=coverage.object_type,
        object_id=str(instance.pk),
        matter=matter_of(coverage, values),
        payload=payload,
    )


def log_rows(model, instances: list, *, in_hand: bool = False) -> None:
    """The leaves of many rows of one covered model written without ``save()`` (``bulk_create`` of an
    import): the same payloads as ``log_row``, read back in one query, inserted in one.

    ``in_hand``: the instances were just created in full with no many-to-many rows yet (``bulk_create`` of
    a step), so their values are the rows' and need no read back (``LEDGER_CHECK_VALUES_IN_HAND`` reads
    back anyway and fails on a difference, as the tests run)."""
    coverage = coverage_of(model)
    if coverage is None or not instances:
        return
    pks = [instance.pk for instance in instances]
    rows = {instance.pk: values_in_hand(coverage, instance) for instance in instances} if in_hand else {}
    if not in_hand or None in rows.values() or settings.LEDGER_CHECK_VALUES_IN_HAND:
        stored = {
            values["id"]: values
            for values in coverage.model._base_manager.filter(pk__in=pks).values(*value_columns(coverage))
        }
        for pk, values in rows.items():
            if values is not None and ledger.normalised(_logged_fields(coverage, values)) != ledger.normalised(
                _logged_fields(coverage, stored[pk])
            ):
                raise AssertionError(f"{coverage.label} #{pk}: values in hand {values} are not the row's {stored[pk]}")
        rows = {pk: rows.get(pk) or stored[pk] for pk in pks}
    if in_hand:
        related = {pk: {name: [] for name in coverage.m2m} for pk in pks}
        if settings.LEDGER_CHECK_VALUES_IN_HAND and coverage.m2m and m2m_of(coverage, pks) != related:
            raise AssertionError(f"{coverage.label}: rows logged as just created already have many-to-many rows")
    else:
        related = m2m_of(coverage, pks) if coverage.m2m else {}
    leaves = []
    for instance in instances:
        values = rows[instance.pk]
        payload = live_payload(coverage, values, related.get(instance.pk, {}), row=instance)
        payload["actor"], payload["actor_id"] = _actor(instance)
        leaves.append(
            ledger.ledger_leaf(
                kind=coverage.kind_of(values),
                object_type=coverage.object_type,
                object_id=str(instance.pk),
                matter=matter_of(coverage, values),
                payload=payload,
            )
        )
    ledger.ledger_append_many(leaves)


def _saved(sender, instance, created=False, raw=False, update_fields=None, **kwargs):
    if raw:  # fixtures being loaded are not business
        return
    log_row(REGISTRY[sender._meta.label], instance, in_hand=update_fields is None, created=created)


def _deleted(sender, instance, **kwargs):
    coverage = REGISTRY[sender._meta.label]
    matter = None
    if coverage.matter == "pk":
        matter = None  # the matter itself is gone: its leaves keep their own matter
    elif coverage.matter and "__" not in coverage.matter:
        matter = getattr(instance, f"{coverage.matter}_id", None)
    payload = deletion_payload(coverage, instance.pk)
    payload["actor"], payload["actor_id"] = _actor(instance)
    ledger.ledger_append(
        kind=coverage.kind_of({"kind": getattr(instance, "kind", "")}),
        object_type=coverage.object_type,
        object_id=str(instance.pk),
        matter=matter,
        payload=payload,
    )


def _m2m_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        coverage = coverage_of(type(instance))
        if coverage is None:
            return
        kept = getattr(instance, "_ledger_in_hand", None)
        name = _m2m_name(coverage, sender)
        if kept is None or name is None:
            log_row(coverage, instance)
            return
        values, m2m = kept
        ids = set(m2m[name])
        if action == "post_add":
            ids |= set(pk_set or ())
        elif action == "post_remove":
            ids -= set(pk_set or ())
        else:
            ids = set()
        m2m[name] = sorted(ids)
        log_values(coverage, instance, values, m2m)
        return
    # Changed from the other side: each row of the covered model that gained or lost a relation.
    coverage = coverage_of(model)
    if coverage is None:
        return
    for row in model._base_manager.filter(pk__in=pk_set or ()):
        log_row(coverage, row)


def rows_of_matter(matter_id: int) -> Iterable[tuple[Coverage, int]]:
    """(coverage, pk) of every covered row that belongs to the matter."""
    for coverage in REGISTRY.values():
        if coverage.matter is None:
            continue
        lookup = "pk" if coverage.matter == "pk" else coverage.matter
        for pk in (
            coverage.model._base_manager.filter(**{lookup: matter_id}).order_by("pk").values_list("pk", flat=True)
        ):
            yield coverage, pk


def _rendered_kind(values: dict) -> str:
    return LedgerKind.DOSSIER if values.get("kind") == "dossier" else LedgerKind.DOCUMENT


def cover_the_product() -> None:
    """The records of the product; the lead adds the models of other apps here (one line each)."""
    kept = {"append_only": True}  # records of what happened: never deleted
    cover("flows.Matter", matter="pk", **kept)
    cover("flows.StepRecord", kind=LedgerKind.DECISION, **kept)
    cover("flows.AssetPurchase", **kept)
    # Lines of an application are replaced when the applicant revises it (flows/asset_purchase.py).
    cover("flows.PurchaseItem", matter="purchase__matter")
    cover("flows.Quotation", matter="purchase__matter")
    cover("flows.FundDisbursement", **kept)
    cover("flows.ResourceContracting", **kept)
    cover("flows.Leasing", **kept)
    cover("flows.Disposal", **kept)
    cover("flows.MemberCandidate")
    cover("flows.EquityTransfer", **kept)
    cover("flows.Meeting", matter=None, **kept)
    cover("flows.MeetingAttendance", matter=None, **kept)
    cover("flows.MeetingNotice", matter=None, **kept)
    cover("flows.MeetingDecision", **kept)
    cover("flows.Notice", **kept)
    cover("flows.Objection", matter="notice__matter", **kept)
    cover("documents.Evidence", kind=LedgerKind.FILE, files=("file",), **kept)
    # Rendering moves status and progress outside save(); what a printed document is stays fixed.
    cover(
        "documents.RenderedDocument",
        kind=_rendered_kind,
        only=(
            "kind",
            "matter_id",
            "meeting_id",
            "notice_id",
            "pdf",
            "sha256",
            "sm3",
            "page_count",
            "verification_code",
            "rendered_at",
            "language",
        ),
        files=("pdf",),
        **kept,
    )
    cover("documents.CorrectionRequest", **kept)
    cover("documents.ArchiveCheck", kind=LedgerKind.ARCHIVE_CHECK, **kept)
    register = {"kind": LedgerKind.REGISTER}
    cover("registers.Member", matter="source_matter", **register)
    cover("registers.Asset", matter="source_matter", **register)
    cover("registers.FundAccount", matter=None, **register)
    cover("registers.FundMovement", **register)
    cover("registers.Resource", matter=None, **register)
    cover("registers.Contract", **register)
    cover("registers.ContractPayment", matter="contract__matter", **register)
    cover("registers.ShareLedgerEntry", **register, **kept)
    cover("registers.ShareCertificate", files=("pdf",), **register)
    # The county rule table a matter is decided under (bands, quorum and pass fractions); changed only by saving.
    cover("organizations.RuleVersion", matter=None)
    cover("organizations.RuleBand", matter=None)
    cover("organizations.MeetingRule", matter=None)
    # What a running matter holds (shares, an asset, a resource's term): a refusal rests on it.
    cover("registers.Reservation", **register, **kept)
    cover("registers.ShareSetup", matter=None, **register)
    # An import's workbook is evidence of what was loaded: its content and who confirmed it. The dry run's
    # status, progress and report move outside save() (imports/services.py).
    cover(
        "imports.ImportJob",
        kind=LedgerKind.FILE,
        matter=None,
        only=(
            "kind",
            "scope_id",
            "file",
            "original_name",
            "sha256",
            "created_by_id",
            "created_at",
            "applied_by_id",
            "applied_at",
        ),
        files=("file",),
        **kept,
    )
    cover("imports.RegisterBaseline", matter=None, **register, **kept)
