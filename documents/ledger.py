"""The tamper-evident log: append to the hash chain, seal it with Merkle checkpoints, verify it.

Each entry's hash covers its seq, kind, object, the SHA-256 of its canonical payload and the previous
entry's hash, so changing, deleting or reordering any row breaks the chain from that row on. A checkpoint
stores the Merkle root over entries 1..n: even a chain recomputed from some row onwards to hide an edit no
longer matches the roots taken before (documents/merkle.py has the tree rule).
"""

import datetime
import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from flows.models import StepRecord

from .merkle import prefix_roots
from .models import Checkpoint, Evidence, LedgerEntry, LedgerKind, RenderedDocument

GENESIS_HASH = "0" * 64
# Two appends racing for the same seq: the loser retries with the winner's entry as its predecessor.
APPEND_ATTEMPTS = 10
# The register rows whose every change (through django-simple-history) is logged.
REGISTER_MODELS = (
    "registers.Asset",
    "registers.Member",
    "registers.FundAccount",
    "registers.FundMovement",
    "registers.Resource",
    "registers.Contract",
    "registers.ContractPayment",
    "registers.ShareCertificate",
)
# Append-only rows with no history of their own: logged once, when they are written.
APPEND_ONLY_REGISTER_MODELS = ("registers.ShareLedgerEntry",)
# Payload keys naming a person: kept for the reader, but people are compared by id (a username may change).
NAME_KEYS = frozenset({"actor", "uploaded_by", "history_user"})


# --- canonical form ----------------------------------------------------------------


def _plain(value):
    """JSON for what json cannot write itself: the same value always gives the same text."""
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = value.astimezone(datetime.UTC)
        return value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID | Promise):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} cannot go into a ledger payload")


def canonical_json(payload: dict) -> str:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_plain)


def normalised(value):
    """The value as the log stores it (what a JSON round trip of the canonical form gives back)."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=_plain))


def payload_hash_of(payload: dict) -> str:
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def entry_hash_of(*, seq: int, kind: str, object_type: str, object_id: str, payload_hash: str, prev_hash: str) -> str:
    return hashlib.sha256(f"{seq}|{kind}|{object_type}|{object_id}|{payload_hash}|{prev_hash}".encode()).hexdigest()


def sha256_of_chunks(chunks: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


# --- what the log records of each row ------------------------------------------------


def _username(user) -> str | None:
    return user.get_username() if user is not None else None


def decision_payload(record: StepRecord) -> dict:
    return {
        "matter": record.matter_id,
        "step": record.step,
        "decision": record.decision,
        "opinion": record.opinion,
        "return_to": record.return_to,
        "actor": _username(record.actor) if record.actor_id else None,
        "actor_id": record.actor_id,
        "acted_at": record.acted_at,
        "meeting": record.meeting_id,
    }


def evidence_payload(evidence: Evidence) -> dict:
    return {
        "matter": evidence.matter_id,
        "step": evidence.step,
        "step_record": evidence.step_record_id,
        "meeting": evidence.meeting_id,
        "sha256": evidence.sha256,
        "size": evidence.size,
        "name": evidence.original_name,
        "uploaded_by": _username(evidence.uploaded_by),
        "uploaded_by_id": evidence.uploaded_by_id,
    }


def _tracked_fields(model) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def _field_values(row, attnames: Iterable[str]) -> dict:
    return {name: normalised(getattr(row, name)) for name in attnames}


def register_matter_id(instance) -> int | None:
    """The matter a register row belongs to, where it has one."""
    for attname in ("matter_id", "source_matter_id"):
        if hasattr(instance, attname):
            return getattr(instance, attname)
    if instance._meta.label == "registers.ContractPayment":
        contract_model = apps.get_model("registers", "Contract")
        return contract_model.objects.filter(pk=instance.contract_id).values_list("matter_id", flat=True).first()
    return None


def register_payload(*, instance, history_instance, history_user) -> dict:
    """A register change as django-simple-history recorded it: on an update, only the fields that changed."""
    attnames = _tracked_fields(type(instance))
    values = _field_values(history_instance, attnames)
    if history_instance.history_type == "~":
        previous = (
            type(history_instance)
            ._default_manager.filter(id=instance.pk, history_id__lt=history_instance.history_id)
            .order_by("-history_id")
            .first()
        )
        if previous is not None:
            before = _field_values(previous, attnames)
            values = {name: value for name, value in values.items() if before[name] != value}
    return {
        "model": instance._meta.label,
        "pk": instance.pk,
        "history_type": history_instance.history_type,
        "history_id": history_instance.history_id,
        "fields": values,
        "history_user": _username(history_user),
        "history_user_id": getattr(history_user, "pk", None),
        "matter": register_matter_id(instance),
    }


def append_only_payload(instance) -> dict:
    return {
        "model": instance._meta.label,
        "pk": instance.pk,
        "history_type": "+",
        "history_id": None,
        "fields": _field_values(instance, _tracked_fields(type(instance))),
        "history_user": None,
        "history_user_id": None,
        "matter": register_matter_id(instance),
    }


# --- appending ---------------------------------------------------------------------


# Any fixed number, the same in every process: the key of the ledger's PostgreSQL advisory lock.
LEDGER_LOCK_KEY = 0x5A4E_1ED6


def ledger_append(
    *, kind: str, obj=None, object_type: str = "", object_id: str = "", matter=None, payload: dict
) -> LedgerEntry:
    """Append one entry at the end of the chain, inside the caller's transaction.

    A savepoint, not a transaction of its own: a step that rolls back takes its entry with it.
    """
    if kind not in LedgerKind.values:
        raise ValueError(f"unknown ledger kind {kind!r}")
    if obj is not None:
        object_type = object_type or obj._meta.object_name
        object_id = object_id or str(obj.pk)
    object_id = str(object_id)
    canonical = canonical_json(payload)
    stored = json.loads(canonical)
    payload_hash = hashlib.sha256(canonical.encode()).hexdigest()
    matter_id = getattr(matter, "pk", matter)
    for attempt in range(1, APPEND_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                # One appender at a time until its transaction ends. On PostgreSQL an advisory lock: a
                # row lock on the last entry would let the waiter read that same row again once it is
                # free, and collide on its seq. SQLite's IMMEDIATE transactions serialise anyway.
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LEDGER_LOCK_KEY])
                last = LedgerEntry.objects.only("seq", "entry_hash").order_by("-seq").first()
                seq = last.seq + 1 if last else 1
                prev_hash = last.entry_hash if last else GENESIS_HASH
                entry = LedgerEntry(
                    seq=seq,
                    kind=kind,
                    object_type=object_type,
                    object_id=object_id,
                    matter_id=matter_id,
                    payload=stored,
                    payload_hash=payload_hash,
                    prev_hash=prev_hash,
                    entry_hash=entry_hash_of(
                        seq=seq,
                        kind=kind,
                        object_type=object_type,
                        object_id=object_id,
                        payload_hash=payload_hash,
                        prev_hash=prev_hash,
                    ),
                    recorded_at=timezone.now(),
                )
                # The matter is left out: its existence check would cost a query per entry.
                entry.full_clean(exclude=["matter"], validate_unique=False, validate_constraints=False)
                entry.save()
            return entry
        except IntegrityError:
            # Someone else took this seq (the unique constraint caught it): read the new end and retry.
            if attempt == APPEND_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


# --- verifying ---------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None
    reason: str
    # What a dossier or file check reached: the entry, and the matter and document it names.
    entry: LedgerEntry | None = None
    matter: object = None
    document: object = None
    sha256: str = ""


def _chain_problem(entry: LedgerEntry, *, expected_seq: int, previous: str) -> str:
    """Why this entry cannot be the next link of the chain, or "" when it can."""
    if entry.seq != expected_seq:
        return _("Entry #%(seq)s is missing: the log jumps from #%(before)s to #%(after)s.") % {
            "seq": expected_seq,
            "before": expected_seq - 1,
            "after": entry.seq,
        }
    if entry.prev_hash != previous:
        return _(
            "Entry #%(seq)s does not follow entry #%(before)s: entries were reordered or the one before was replaced."
        ) % {"seq": entry.seq, "before": entry.seq - 1}
    if payload_hash_of(entry.payload) != entry.payload_hash:
        return _("Entry #%(seq)s was changed: its content no longer matches its fingerprint.") % {"seq": entry.seq}
    logged_matter = entry.payload.get("matter") if isinstance(entry.payload, dict) else None
    if logged_matter is not None and logged_matter != entry.matter_id:
        return _("Entry #%(seq)s was changed: it is filed under another matter than the one it records.") % {
            "seq": entry.seq
        }
    computed = entry_hash_of(
        seq=entry.seq,
        kind=entry.kind,
        object_type=entry.object_type,
        object_id=entry.object_id,
        payload_hash=entry.payload_hash,
        prev_hash=entry.prev_hash,
    )
    if computed != entry.entry_hash:
        return _("Entry #%(seq)s was changed: its hash does not match its fields.") % {"seq": entry.seq}
    return ""


def _entries(upto: int | None = None):
    entries = LedgerEntry.objects.order_by("seq")
    if upto is not None:
        entries = entries.filter(seq__lte=upto)
    return entries.iterator(chunk_size=2000)


def _checkpoints(upto: int | None = None) -> list[Checkpoint]:
    checkpoints = Checkpoint.objects.order_by("last_seq")
    if upto is not None:
        checkpoints = checkpoints.filter(last_seq__lte=upto)
    return list(checkpoints)


def _verify(
    *, entries: Iterable[LedgerEntry], checkpoints: list[Checkpoint], whole: bool, extra_sizes: Iterable[int] = ()
) -> tuple[VerifyResult, dict[int, bytes]]:
    """Walk the chain once, taking the Merkle roots of every checkpointed prefix on the way."""
    sizes = {checkpoint.last_seq for checkpoint in checkpoints} | set(extra_sizes)
    walk = {"checked": 0, "problem": None, "hashes": {}}

    def leaves():
        previous = GENESIS_HASH
        for entry in entries:
            problem = _chain_problem(entry, expected_seq=walk["checked"] + 1, previous=previous)
            if problem:
                walk["problem"] = (min(entry.seq, walk["checked"] + 1), problem)
                return
            walk["checked"] = entry.seq
            if entry.seq in sizes:
                walk["hashes"][entry.seq] = entry.entry_hash
            previous = entry.entry_hash
            yield bytes.fromhex(entry.entry_hash)

    roots = prefix_roots(leaves(), sizes)
    checked = walk["checked"]
    if walk["problem"]:
        seq, reason = walk["problem"]
        return VerifyResult(ok=False, checked=checked, first_bad_seq=seq, reason=reason), roots
    covered = 0
    for checkpoint in checkpoints:
        when = timezone.localtime(checkpoint.created_at).strftime("%Y-%m-%d %H:%M")
        if checkpoint.last_seq > checked:
            if not whole:
                break
            reason = _(
                "The log ends at entry #%(end)s, but the checkpoint of %(when)s covers entries up to #%(last)s: "
                "entries were deleted from the end."
            ) % {"end": checked, "when": when, "last": checkpoint.last_seq}
            return VerifyResult(ok=False, checked=checked, first_bad_seq=checked + 1, reason=reason), roots
        if (
            roots[checkpoint.last_seq].hex() != checkpoint.merkle_root
            or walk["hashes"][checkpoint.last_seq] != checkpoint.last_entry_hash
            or checkpoint.entry_count != checkpoint.last_seq
        ):
            reason = _(
                "Entries #%(first)s to #%(last)s no longer match the checkpoint of %(when)s: one of them was "
                "rewritten and the chain recomputed to hide it, or the checkpoint itself was changed."
            ) % {"first": covered + 1, "last": checkpoint.last_seq, "when": when}
            return VerifyResult(ok=False, checked=checked, first_bad_seq=covered + 1, reason=reason), roots
        covered = checkpoint.last_seq
    reason = _("The log is intact: %(count)s entries and %(checkpoints)s checkpoints check out.") % {
        "count": checked,
        "checkpoints": len([c for c in checkpoints if c.last_seq <= checked]),
    }
    return VerifyResult(ok=True, checked=checked, first_bad_seq=None, reason=reason), roots


def ledger_verify(*, entries: Iterable[LedgerEntry] | None = None) -> VerifyResult:
    """Verify the whole log (or the given entries, in seq order from #1) and every checkpoint over it."""
    if entries is None:
        result, _roots = _verify(entries=_entries(), checkpoints=_checkpoints(), whole=True)
    else:
        result, _roots = _verify(entries=entries, checkpoints=_checkpoints(), whole=False)
    return result


def ledger_verify_upto(*, seq: int) -> VerifyResult:
    """Verify the chain from #1 to #seq and the checkpoints within it: what an entry's trust rests on."""
    result, _roots = _verify(entries=_entries(upto=seq), checkpoints=_checkpoints(upto=seq), whole=False)
    if result.ok and result.checked < seq:
        return replace(
            result,
            ok=False,
            first_bad_seq=result.checked + 1,
            reason=_("Entry #%(seq)s is missing: the log ends at #%(end)s.")
            % {"seq": result.checked + 1, "end": result.checked},
        )
    return result


# --- a matter's records against the log ----------------------------------------------


def _differences(live: dict, logged: dict) -> list[str]:
    live = normalised(live)
    return sorted(
        key for key in live.keys() | logged.keys() if key not in NAME_KEYS and live.get(key) != logged.get(key)
    )


def _file_problem(entry: LedgerEntry, field_file) -> str:
    if not field_file:
        return ""
    try:
        with field_file.storage.open(field_file.name, "rb") as handle:
            digest = sha256_of_chunks(iter(lambda: handle.read(1 << 20), b""))
    except OSError:
        return _("Entry #%(seq)s: the stored file it fingerprints is missing.") % {"seq": entry.seq}
    if digest != entry.payload.get("sha256"):
        return _("Entry #%(seq)s: the stored file was replaced; its content no longer matches the log.") % {
            "seq": entry.seq
        }
    return ""


def _changed(entry: LedgerEntry, what: str, fields: list[str]) -> str:
    return _("Entry #%(seq)s: the %(what)s no longer matches the log (%(fields)s).") % {
        "seq": entry.seq,
        "what": what,
        "fields": ", ".join(fields),
    }


def _step_record_problem(entry: LedgerEntry) -> str:
    record = StepRecord.objects.select_related("actor").filter(pk=entry.object_id).first()
    if record is None:
        return _("Entry #%(seq)s: the step record it logs was deleted.") % {"seq": entry.seq}
    fields = _differences(decision_payload(record), entry.payload)
    return _changed(entry, _("step record"), fields) if fields else ""


def _evidence_problem(entry: LedgerEntry, check_files: bool) -> str:
    evidence = Evidence.objects.select_related("uploaded_by").filter(pk=entry.object_id).first()
    if evidence is None:
        return _("Entry #%(seq)s: the evidence file it logs was deleted.") % {"seq": entry.seq}
    fields = _differences(evidence_payload(evidence), entry.payload)
    if fields:
        return _changed(entry, _("evidence file"), fields)
    return _file_problem(entry, evidence.file) if check_files else ""


def _rendered_problem(entry: LedgerEntry, check_files: bool) -> str:
    document = RenderedDocument.objects.filter(pk=entry.object_id).first()
    if document is None:
        return _("Entry #%(seq)s: the document it logs was deleted.") % {"seq": entry.seq}
    if document.sha256 != entry.payload.get("sha256"):
        return _changed(entry, _("document"), ["sha256"])
    return _file_problem(entry, document.pdf) if check_files else ""


def _register_problem(entry: LedgerEntry) -> str:
    payload = entry.payload
    try:
        model = apps.get_model(payload["model"])
    except (KeyError, LookupError, ValueError):
        return ""
    if payload.get("history_id") is None:
        row = model._default_manager.filter(pk=payload.get("pk")).first()
    else:
        row = model.history.model._default_manager.filter(history_id=payload["history_id"]).first()
    if row is None:
        return _("Entry #%(seq)s: the register record it logs was deleted.") % {"seq": entry.seq}
    logged = payload.get("fields", {})
    fields = sorted(name for name, value in logged.items() if normalised(getattr(row, name, None)) != value)
    if fields:
        return _changed(entry, _("register record"), fields)
    if payload.get("history_id") is not None and payload.get("history_type") != "-":
        return _register_row_problem(entry, model, row)
    return ""


def _register_row_problem(entry: LedgerEntry, model, historical) -> str:
    """The live row must still be what its latest history says: an edit that bypassed the history shows here."""
    latest = model.history.model._default_manager.filter(id=historical.id).order_by("-history_id").first()
    if latest is None or latest.history_id != historical.history_id:
        return ""
    row = model._default_manager.filter(pk=historical.id).first()
    if row is None:
        return _("Entry #%(seq)s: the register record it logs was deleted.") % {"seq": entry.seq}
    attnames = _tracked_fields(model)
    fields = sorted(
        name for name, value in _field_values(row, attnames).items() if value != normalised(getattr(latest, name))
    )
    return _changed(entry, _("register record"), fields) if fields else ""


def _live_problem(entry: LedgerEntry, *, check_files: bool) -> str:
    """Why the live row an entry describes no longer matches it, or ""."""
    if entry.object_type == "StepRecord":
        return _step_record_problem(entry)
    if entry.object_type == "Evidence":
        return _evidence_problem(entry, check_files)
    if entry.object_type == "RenderedDocument":
        return _rendered_problem(entry, check_files)
    if entry.kind == LedgerKind.REGISTER and isinstance(entry.payload, dict):
        return _register_problem(entry)
    return ""


def _unlogged_problem(matter, entries: list[LedgerEntry]) -> str:
    """A step record or file of the matter that never went through the log was added behind its back."""
    logged = {(entry.object_type, entry.object_id) for entry in entries}
    for record in StepRecord.objects.filter(matter=matter).order_by("pk"):
        if ("StepRecord", str(record.pk)) not in logged:
            return _(
                "The step record “%(record)s” (no. %(pk)s) is not in the log: it was added outside the system."
            ) % {
                "record": record,
                "pk": record.pk,
            }
    for evidence in Evidence.objects.filter(matter=matter).order_by("pk"):
        if ("Evidence", str(evidence.pk)) not in logged:
            return _("The file “%(name)s” (no. %(pk)s) is not in the log: it was added outside the system.") % {
                "name": evidence.original_name,
                "pk": evidence.pk,
            }
    return ""


def ledger_verify_matter(*, matter, check_files: bool = True) -> VerifyResult:
    """Verify the chain up to the matter's last entry, then that its records still match their entries."""
    entries = list(LedgerEntry.objects.filter(matter=matter).order_by("seq"))
    if not entries:
        return VerifyResult(
            ok=False, checked=0, first_bad_seq=None, reason=_("Nothing of this matter is in the log."), matter=matter
        )
    chain = ledger_verify_upto(seq=entries[-1].seq)
    if not chain.ok:
        return replace(chain, matter=matter)
    for entry in entries:
        problem = _live_problem(entry, check_files=check_files)
        if problem:
            return VerifyResult(
                ok=False, checked=chain.checked, first_bad_seq=entry.seq, reason=problem, entry=entry, matter=matter
            )
    problem = _unlogged_problem(matter, entries)
    if problem:
        return VerifyResult(ok=False, checked=chain.checked, first_bad_seq=None, reason=problem, matter=matter)
    reason = _(
        "The matter's %(count)s log entries match its records, and the log up to them (%(checked)s entries) is intact."
    ) % {"count": len(entries), "checked": chain.checked}
    return VerifyResult(
        ok=True, checked=chain.checked, first_bad_seq=None, reason=reason, entry=entries[-1], matter=matter
    )


# --- a file against the log ----------------------------------------------------------


def logged_object(entry: LedgerEntry):
    """The document or evidence file an entry of kind dossier/file records, if it still exists."""
    model = {"RenderedDocument": RenderedDocument, "Evidence": Evidence}.get(entry.object_type)
    if model is None:
        return None
    return model.objects.filter(pk=entry.object_id).first()


def ledger_verify_digest(*, digest: str) -> VerifyResult:
    """Find the dossier or file with this SHA-256 in the log and verify the chain up to its entry."""
    entry = (
        LedgerEntry.objects.filter(kind__in=[LedgerKind.DOSSIER, LedgerKind.FILE], payload__sha256=digest)
        .select_related("matter")
        .order_by("seq")
        .first()
    )
    if entry is None:
        return VerifyResult(
            ok=False,
            checked=0,
            first_bad_seq=None,
            reason=_("This file is not in the log: it is not a document of this archive, or it was changed."),
            sha256=digest,
        )
    found = {"entry": entry, "matter": entry.matter, "document": logged_object(entry), "sha256": digest}
    chain = ledger_verify_upto(seq=entry.seq)
    if not chain.ok:
        return replace(chain, **found)
    reason = _("This file is recorded in the log as entry #%(seq)s, and the log up to it is intact.") % {
        "seq": entry.seq
    }
    return VerifyResult(ok=True, checked=chain.checked, first_bad_seq=None, reason=reason, **found)


def ledger_verify_pdf(*, data: bytes) -> VerifyResult:
    return ledger_verify_digest(digest=hashlib.sha256(data).hexdigest())


# --- checkpoints -------------------------------------------------------------------


def checkpoint_create() -> Checkpoint | None:
    """Seal entries 1..last with a Merkle root; None when nothing new was appended since the last one.

    A broken log is refused (ValidationError): a checkpoint over it would vouch for the tampering.
    """
    last = LedgerEntry.objects.only("seq", "entry_hash").order_by("-seq").first()
    if last is None:
        return None
    result, roots = _verify(entries=_entries(), checkpoints=_checkpoints(), whole=True, extra_sizes=[last.seq])
    if not result.ok:
        raise ValidationError(result.reason)
    latest = Checkpoint.objects.order_by("-last_seq").first()
    if (latest is not None and latest.last_seq >= last.seq) or last.seq not in roots:
        return None
    try:
        with transaction.atomic():
            return Checkpoint.objects.create(
                last_seq=last.seq,
                entry_count=last.seq,
                merkle_root=roots[last.seq].hex(),
                last_entry_hash=last.entry_hash,
            )
    except IntegrityError:
        # Another worker sealed the same entries a moment earlier.
        return None
