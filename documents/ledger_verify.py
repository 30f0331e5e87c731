"""Verifying the transparency log: the whole of it, one matter, or one file.

The whole-log check streams, in O(log n) memory apart from the list of heads:
1. every leaf in position order: its payload against its SHA-256 and SM3, its leaf hash against its
   data, entries from before the tree against their hash chain and old checkpoints; the Merkle tree
   grown from the leaves against the stored nodes, and against every signed tree head, whose
   signatures are checked with the installation's keys (from its key files, not the database) and
   whose witness cosignatures are checked with the witnesses' keys;
2. leaves written but not yet placed: the same checks of their own content;
3. every covered record (documents/coverage.py) re-derived from the database, its stored files
   re-read through the storage, against its latest leaf, side by side in primary-key order.
It stops at the first problem and names it.
"""

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import coverage as covered
from .digests import sm3_hex
from .ledger import GENESIS_HASH, canonical_json, entry_hash_of, leaf_hashes_of, object_pk_of
from .merkle import StreamingTree, verify_inclusion
from .models import Checkpoint, LeafFormat, LedgerEntry, TreeHead, TreeNode, Witness, WitnessCosignature
from .sequencer import TreeIncomplete, inclusion_proof, latest_head, sequence_pending
from .signing import PublicKey, log_public_keys, parse_checkpoint, split_note, verify_cosignature, verify_note
from .timestamping import head_message, timestamp_verify

CHUNK = 2000


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
    head: TreeHead | None = None
    model: str = ""
    pk: int | None = None
    records: int = 0


@dataclass
class Proof:
    """A leaf's inclusion in a signed tree head, checked here the way an outside verifier would."""

    entry: LedgerEntry
    head: TreeHead
    path: list[bytes] = field(default_factory=list)
    ok: bool = False
    reason: str = ""
    witnesses: list[Witness] = field(default_factory=list)


class Broken(Exception):
    def __init__(self, seq: int | None, reason: str, **extra):
        super().__init__(reason)
        self.seq = seq
        self.reason = reason
        self.extra = extra


# --- one entry -----------------------------------------------------------------------------------


def entry_problem(entry: LedgerEntry) -> str:
    """Why an entry's stored fields no longer agree with its hashes, or ""."""
    label = f"#{entry.seq}" if entry.seq else _("(not yet placed, %(uid)s)") % {"uid": str(entry.uid)[:8]}
    canonical = canonical_json(entry.payload).encode()
    if hashlib.sha256(canonical).hexdigest() != entry.payload_hash:
        return _("Entry %(seq)s was changed: its content no longer matches its fingerprint.") % {"seq": label}
    if entry.format == LeafFormat.LEAF and sm3_hex(canonical) != entry.payload_sm3:
        return _("Entry %(seq)s was changed: its content no longer matches its SM3 fingerprint.") % {"seq": label}
    if object_pk_of(entry.object_id) != entry.object_pk:
        return _("Entry %(seq)s was changed: it no longer names the record it logs.") % {"seq": label}
    logged_matter = entry.payload.get("matter") if isinstance(entry.payload, dict) else None
    if entry.format == LeafFormat.CHAIN and logged_matter is not None and logged_matter != entry.matter_id:
        return _("Entry %(seq)s was changed: it is filed under another matter than the one it records.") % {
            "seq": label
        }
    leaf, leaf_sm3 = leaf_hashes_of(entry)
    if leaf != entry.leaf_hash or (entry.format == LeafFormat.LEAF and leaf_sm3 != entry.leaf_sm3):
        return _("Entry %(seq)s was changed: its hash does not match its fields.") % {"seq": label}
    return ""


def _chain_problem(entry: LedgerEntry, previous: str) -> str:
    if entry.prev_hash != previous:
        return _(
            "Entry #%(seq)s does not follow entry #%(before)s: entries were reordered or the one before was replaced."
        ) % {"seq": entry.seq, "before": entry.seq - 1}
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


# --- heads ---------------------------------------------------------------------------------------


def trusted_keys() -> list[PublicKey]:
    try:
        return log_public_keys()
    except ImproperlyConfigured as error:
        raise Broken(None, _("The log's signing key cannot be read: %(error)s") % {"error": error}) from error


def head_problem(head: TreeHead, keys: list[PublicKey]) -> str:
    """Why a stored head is not a checkpoint of this log, signed by its key, with the size and root it says."""
    try:
        body, verified = verify_note(head.note, keys)
        checkpoint = parse_checkpoint(body)
    except ValueError:
        verified, checkpoint = [], None
    if not verified or checkpoint is None:
        return _("The signed tree head of size %(size)s does not carry a valid signature of this log's key.") % {
            "size": head.size
        }
    if (
        checkpoint.origin != settings.LEDGER_ORIGIN
        or checkpoint.size != head.size
        or checkpoint.root.hex() != head.root_hash
    ):
        return _("The signed tree head of size %(size)s was changed: its fields differ from what was signed.") % {
            "size": head.size
        }
    return ""


def cosignature_problem(cosignature: WitnessCosignature) -> str:
    head = cosignature.head
    try:
        body, _signatures = split_note(head.note)
        _body, (signature,) = split_note(body + "\n" + cosignature.line)
        public_key = base64.b64decode(cosignature.witness.public_key)
    except ValueError:
        signature, public_key, body = None, b"", ""
    if (
        signature is None
        or verify_cosignature(name=cosignature.witness.name, public_key=public_key, body=body, signature=signature)
        is None
    ):
        return _("The cosignature of witness “%(witness)s” on the head of size %(size)s does not verify.") % {
            "witness": cosignature.witness,
            "size": head.size,
        }
    return ""


def witnesses_of(head: TreeHead) -> list[Witness]:
    """The witnesses whose cosignature on this head verifies."""
    return [
        cosignature.witness
        for cosignature in head.cosignatures.select_related("witness", "head")
        if not cosignature_problem(cosignature)
    ]


# --- 1. the log ----------------------------------------------------------------------------------


def _legacy_parent(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(left + right).digest()


class _LegacyRoots:
    """The root rule of the checkpoints taken before the tree: pairs left to right, an odd node promoted."""

    def __init__(self):
        self.frontier: list[tuple[int, bytes]] = []

    def append(self, leaf: bytes) -> None:
        node, height = leaf, 0
        while self.frontier and self.frontier[-1][0] == height:
            node = _legacy_parent(self.frontier.pop()[1], node)
            height += 1
        self.frontier.append((height, node))

    def root(self) -> bytes:
        root = self.frontier[-1][1]
        for _height, left in reversed(self.frontier[:-1]):
            root = _legacy_parent(left, root)
        return root


def _stored_nodes() -> Iterator[tuple[int, int, str]]:
    yield from (
        TreeNode.objects.order_by("last_leaf", "level")
        .values_list("level", "index", "hash")
        .iterator(chunk_size=CHUNK * 2)
    )


def _verify_log(keys: list[PublicKey]) -> tuple[int, int]:
    """Check every placed leaf, the stored tree and every head; (leaves, heads) checked, or Broken."""
    heads = list(TreeHead.objects.order_by("size"))
    checkpoints = list(Checkpoint.objects.order_by("last_seq"))
    stored = _stored_nodes()
    state = {"first_leaf": 1}

    def compare_node(level: int, index: int, value: bytes) -> None:
        expected = next(stored, None)
        if expected is None or expected[:2] != (level, index) or expected[2] != value.hex():
            first = (index << level) + 1
            raise Broken(
                first,
                _(
                    "The stored Merkle tree no longer matches the entries from #%(first)s on: an entry or a tree "
                    "node was changed, added or deleted."
                )
                % {"first": first},
            )

    tree = StreamingTree(on_node=compare_node)
    legacy = _LegacyRoots()
    previous_chain = GENESIS_HASH
    head_at = 0
    checkpoint_at = 0
    entries = LedgerEntry.objects.filter(seq__isnull=False).order_by("seq").iterator(chunk_size=CHUNK)
    for entry in entries:
        expected_seq = tree.size + 1
        if entry.seq != expected_seq:
            raise Broken(
                expected_seq,
                _("Entry #%(seq)s is missing: the log jumps from #%(before)s to #%(after)s.")
                % {"seq": expected_seq, "before": expected_seq - 1, "after": entry.seq},
            )
        if entry.format == LeafFormat.CHAIN:
            problem = _chain_problem(entry, previous_chain) or entry_problem(entry)
            previous_chain = entry.entry_hash
        else:
            problem = entry_problem(entry)
        if problem:
            raise Broken(entry.seq, problem)
        tree.append(bytes.fromhex(entry.leaf_hash))
        if entry.format == LeafFormat.CHAIN:
            legacy.append(bytes.fromhex(entry.entry_hash))
            while checkpoint_at < len(checkpoints) and checkpoints[checkpoint_at].last_seq == entry.seq:
                checkpoint = checkpoints[checkpoint_at]
                if checkpoint.merkle_root != legacy.root().hex() or checkpoint.last_entry_hash != entry.entry_hash:
                    raise Broken(
                        1,
                        _(
                            "Entries #1 to #%(last)s no longer match the checkpoint of %(when)s: one of them was "
                            "rewritten and the chain recomputed to hide it, or the checkpoint itself was changed."
                        )
                        % {"last": checkpoint.last_seq, "when": timezone.localtime(checkpoint.created_at)},
                    )
                checkpoint_at += 1
        while head_at < len(heads) and heads[head_at].size == tree.size:
            _check_head(heads[head_at], tree.root(), keys, state["first_leaf"])
            state["first_leaf"] = tree.size + 1
            head_at += 1
    if next(stored, None) is not None:
        raise Broken(
            tree.size + 1,
            _("The stored Merkle tree has nodes for entries after #%(end)s that are gone: entries were deleted.")
            % {"end": tree.size},
        )
    for head in heads[head_at:]:
        raise Broken(
            tree.size + 1,
            _(
                "The log ends at entry #%(end)s, but the signed tree head of %(when)s covers %(size)s entries: "
                "entries were deleted from the end."
            )
            % {"end": tree.size, "when": _when(head), "size": head.size},
        )
    if checkpoint_at < len(checkpoints):
        raise Broken(
            tree.size + 1,
            _(
                "The log ends at entry #%(end)s, but the checkpoint of %(when)s covers entries up to #%(last)s: "
                "entries were deleted from the end."
            )
            % {
                "end": tree.size,
                "when": timezone.localtime(checkpoints[checkpoint_at].created_at),
                "last": checkpoints[checkpoint_at].last_seq,
            },
        )
    return tree.size, len(heads)


def _when(head: TreeHead) -> str:
    return timezone.localtime(head.timestamp).strftime("%Y-%m-%d %H:%M:%S")


def _check_head(head: TreeHead, root: bytes, keys: list[PublicKey], first_leaf: int) -> None:
    problem = head_problem(head, keys)
    if problem:
        raise Broken(first_leaf, problem)
    if head.root_hash != root.hex():
        raise Broken(
            first_leaf,
            _(
                "Entries #%(first)s to #%(last)s no longer match the signed tree head of %(when)s: one of them "
                "was rewritten and the tree recomputed to hide it."
            )
            % {"first": first_leaf, "last": head.size, "when": _when(head)},
        )
    for cosignature in head.cosignatures.select_related("witness", "head"):
        problem = cosignature_problem(cosignature)
        if problem:
            raise Broken(head.size, problem)
    if head.tsa_token and settings.LEDGER_TSA_CERTIFICATE_FILE:
        if not timestamp_verify(token=head.tsa_token, message=head_message(head)):
            raise Broken(
                head.size,
                _("The RFC 3161 time-stamp of the signed tree head of size %(size)s does not verify.")
                % {"size": head.size},
            )


def _verify_unplaced() -> int:
    count = 0
    for entry in LedgerEntry.objects.filter(seq__isnull=True).order_by("id").iterator(chunk_size=CHUNK):
        problem = entry_problem(entry)
        if problem:
            raise Broken(None, problem)
        count += 1
    return count


# --- 3. the records ------------------------------------------------------------------------------


def _rows(coverage: covered.Coverage) -> Iterator[tuple[dict, dict]]:
    """(values, many-to-many) of every row, in primary-key order, a chunk at a time."""
    columns = covered.value_columns(coverage)
    manager = coverage.model._base_manager
    last = None
    while True:
        rows = manager.order_by("pk")
        if last is not None:
            rows = rows.filter(pk__gt=last)
        chunk = list(rows.values(*columns)[:CHUNK])
        if not chunk:
            return
        m2m = covered.m2m_of(coverage, [values["id"] for values in chunk]) if coverage.m2m else {}
        for values in chunk:
            yield values, m2m.get(values["id"], {})
        last = chunk[-1]["id"]


def _latest_leaves(coverage: covered.Coverage) -> Iterator[tuple[int, tuple]]:
    """(pk, (seq, payload, matter id)) of each logged row's latest leaf, in primary-key order."""
    leaves = (
        LedgerEntry.objects.filter(
            object_type=coverage.object_type, format=LeafFormat.LEAF, kind__in=coverage.kinds(), object_pk__isnull=False
        )
        .order_by("object_pk", F("seq").asc(nulls_last=True), "id")
        .values_list("object_pk", "seq", "payload", "matter_id")
        .iterator(chunk_size=CHUNK)
    )
    current = None
    for pk, seq, payload, matter_id in leaves:
        if current is not None and current[0] != pk:
            yield current
        current = (pk, (seq, payload, matter_id))
    if current is not None:
        yield current


def _name(coverage: covered.Coverage, pk) -> str:
    return _("%(what)s no. %(pk)s") % {"what": coverage.model._meta.verbose_name, "pk": pk}


def _at(seq) -> str:
    return f"#{seq}" if seq else _("(not yet placed)")


def record_problem(
    coverage: covered.Coverage, values: dict | None, m2m: dict, leaf: tuple | None, *, check_files: bool
):
    """Why a covered row and its latest leaf disagree: (seq, reason), or None."""
    pk = values["id"] if values is not None else None
    if leaf is None:
        return None, _("The %(record)s is not in the log: it was added outside the system.") % {
            "record": _name(coverage, pk)
        }
    seq, payload, matter_id = leaf
    if payload.get("deleted") and coverage.append_only:
        return seq, _("Entry %(seq)s logs the deletion of the %(record)s, but such records are never deleted.") % {
            "seq": _at(seq),
            "record": _name(coverage, payload.get("pk")),
        }
    if values is None:
        if payload.get("deleted"):
            return None
        return seq, _("Entry %(seq)s: the %(record)s it logs was deleted outside the system.") % {
            "seq": _at(seq),
            "record": _name(coverage, payload.get("pk")),
        }
    if payload.get("deleted"):
        return seq, _("Entry %(seq)s logs the deletion of the %(record)s, but it is back in the database.") % {
            "seq": _at(seq),
            "record": _name(coverage, pk),
        }
    if check_files or not coverage.files:
        live = covered.live_payload(coverage, values, m2m)
    else:
        live = covered.record_payload(coverage, values, m2m, payload.get("files", {}))
    live, logged = covered.comparable(live), covered.comparable(payload)
    live = covered.as_logged_then(coverage, live, logged)
    if live != logged:
        fields = sorted(
            name
            for name in live["fields"].keys() | logged["fields"].keys()
            if live["fields"].get(name) != logged["fields"].get(name)
        )
        fields += sorted(name for name in live["m2m"] if live["m2m"].get(name) != logged["m2m"].get(name))
        changed_files = sorted(name for name in live["files"] if live["files"].get(name) != logged["files"].get(name))
        gone = [name for name in changed_files if (live["files"].get(name) or {}).get("missing")]
        if gone and not fields:
            return seq, _(
                "Entry %(seq)s: the stored file of the %(record)s is missing from the storage (%(fields)s)."
            ) % {"seq": _at(seq), "record": _name(coverage, pk), "fields": ", ".join(gone)}
        if changed_files and not fields:
            return seq, _(
                "Entry %(seq)s: the stored file of the %(record)s was replaced or damaged; its content no longer "
                "matches the log (%(fields)s)."
            ) % {"seq": _at(seq), "record": _name(coverage, pk), "fields": ", ".join(changed_files)}
        return seq, _("Entry %(seq)s: the %(record)s no longer matches the log (%(fields)s).") % {
            "seq": _at(seq),
            "record": _name(coverage, pk),
            "fields": ", ".join(fields + changed_files) or "?",
        }
    if matter_id != covered.matter_of(coverage, values):
        return seq, _("Entry %(seq)s was changed: it is filed under another matter than the %(record)s.") % {
            "seq": _at(seq),
            "record": _name(coverage, pk),
        }
    return None


def _verify_records(check_files: bool) -> int:
    checked = 0
    for coverage in covered.REGISTRY.values():
        rows = _rows(coverage)
        leaves = _latest_leaves(coverage)
        row = next(rows, None)
        leaf = next(leaves, None)
        while row is not None or leaf is not None:
            row_pk = row[0]["id"] if row is not None else None
            leaf_pk = leaf[0] if leaf is not None else None
            if leaf_pk is None or (row_pk is not None and row_pk < leaf_pk):
                problem = record_problem(coverage, row[0], row[1], None, check_files=check_files)
                pk = row_pk
                row = next(rows, None)
            elif row_pk is None or leaf_pk < row_pk:
                problem = record_problem(coverage, None, {}, leaf[1], check_files=check_files)
                pk = leaf_pk
                leaf = next(leaves, None)
            else:
                problem = record_problem(coverage, row[0], row[1], leaf[1], check_files=check_files)
                pk = row_pk
                row, leaf = next(rows, None), next(leaves, None)
            checked += 1
            if problem:
                seq, reason = problem
                raise Broken(seq, reason, model=coverage.label, pk=pk, records=checked)
    return checked


def ledger_verify(*, check_files: bool = True, sequence: bool = True) -> VerifyResult:
    """Verify the whole log and every record it covers; names the first thing that no longer matches."""
    if sequence:
        sequence_pending()
    size = heads = unplaced = records = 0
    try:
        keys = trusted_keys()
        size, heads = _verify_log(keys)
        unplaced = _verify_unplaced()
        records = _verify_records(check_files)
    except Broken as broken:
        return VerifyResult(ok=False, checked=size, first_bad_seq=broken.seq, reason=broken.reason, **broken.extra)
    reason = _(
        "The log is intact: %(count)s entries in %(heads)s signed tree heads, and the %(records)s records it "
        "covers match it."
    ) % {"count": size + unplaced, "heads": heads, "records": records}
    return VerifyResult(ok=True, checked=size + unplaced, first_bad_seq=None, reason=reason, records=records)


# --- proofs of one leaf --------------------------------------------------------------------------


def prove(entry: LedgerEntry, *, head: TreeHead | None = None, keys: list[PublicKey] | None = None) -> Proof:
    """The leaf's inclusion proof in the latest signed head (or ``head``), checked as an outsider would."""
    head = head or latest_head()
    proof = Proof(entry=entry, head=head)
    if head is None or entry.seq is None or entry.seq > head.size:
        proof.reason = _("This record is in the log but not yet under a signed tree head; check again in a minute.")
        return proof
    try:
        keys = keys if keys is not None else trusted_keys()
    except Broken as broken:
        proof.reason = broken.reason
        return proof
    problem = entry_problem(entry) or head_problem(head, keys)
    if problem:
        proof.reason = problem
        return proof
    try:
        proof.path = inclusion_proof(entry, head.size)
    except TreeIncomplete:
        proof.reason = _("The stored Merkle tree is damaged: the proof for entry #%(seq)s cannot be built.") % {
            "seq": entry.seq
        }
        return proof
    if not verify_inclusion(
        bytes.fromhex(entry.leaf_hash), entry.seq - 1, head.size, proof.path, bytes.fromhex(head.root_hash)
    ):
        proof.reason = _("Entry #%(seq)s is not under the signed tree head of size %(size)s: the log was changed.") % {
            "seq": entry.seq,
            "size": head.size,
        }
        return proof
    proof.ok = True
    proof.witnesses = witnesses_of(head)
    proof.reason = _("Entry #%(seq)s is under the signed tree head of size %(size)s of %(when)s.") % {
        "seq": entry.seq,
        "size": head.size,
        "when": _when(head),
    }
    return proof


# --- a matter ------------------------------------------------------------------------------------


def ledger_verify_matter(*, matter, check_files: bool = True) -> VerifyResult:
    """Verify the matter's leaves against the latest signed head, and its records against their leaves."""
    sequence_pending()
    entries = list(LedgerEntry.objects.filter(matter=matter).order_by(F("seq").asc(nulls_last=True), "id"))
    if not entries:
        return VerifyResult(
            ok=False, checked=0, first_bad_seq=None, reason=_("Nothing of this matter is in the log."), matter=matter
        )
    try:
        keys = trusted_keys()
    except Broken as broken:
        return VerifyResult(ok=False, checked=0, first_bad_seq=None, reason=broken.reason, matter=matter)
    head = latest_head()
    for entry in entries:
        proof = prove(entry, head=head, keys=keys)
        if not proof.ok and entry.seq is not None:
            return VerifyResult(
                ok=False, checked=0, first_bad_seq=entry.seq, reason=proof.reason, entry=entry, matter=matter
            )
        if entry.seq is None:
            problem = entry_problem(entry)
            if problem:
                return VerifyResult(ok=False, checked=0, first_bad_seq=None, reason=problem, entry=entry, matter=matter)
    logged = {(entry.object_type, entry.object_pk) for entry in entries}
    seen = set()
    for coverage, pk in covered.rows_of_matter(matter.pk):
        seen.add((coverage.object_type, pk))
        problem = _matter_record_problem(coverage, pk, check_files)
        if problem:
            seq, reason = problem
            return VerifyResult(
                ok=False,
                checked=len(entries),
                first_bad_seq=seq,
                reason=reason,
                matter=matter,
                model=coverage.label,
                pk=pk,
            )
    by_type = {coverage.object_type: coverage for coverage in covered.REGISTRY.values()}
    for object_type, pk in sorted(logged - seen, key=str):
        coverage = by_type.get(object_type)
        if coverage is None or pk is None:
            continue
        problem = _matter_record_problem(coverage, pk, check_files)
        if problem:
            seq, reason = problem
            return VerifyResult(
                ok=False,
                checked=len(entries),
                first_bad_seq=seq,
                reason=reason,
                matter=matter,
                model=coverage.label,
                pk=pk,
            )
    reason = _(
        "The matter's %(count)s log entries are under the signed tree head of size %(size)s, and its records "
        "match them."
    ) % {"count": len(entries), "size": head.size if head else 0}
    return VerifyResult(
        ok=True, checked=len(entries), first_bad_seq=None, reason=reason, entry=entries[-1], matter=matter, head=head
    )


def latest_leaf(coverage: covered.Coverage, pk: int) -> LedgerEntry | None:
    return (
        LedgerEntry.objects.filter(
            object_type=coverage.object_type, object_pk=pk, format=LeafFormat.LEAF, kind__in=coverage.kinds()
        )
        .order_by(F("seq").desc(nulls_first=True), "-id")
        .first()
    )


def _matter_record_problem(coverage: covered.Coverage, pk: int, check_files: bool):
    values = coverage.model._base_manager.filter(pk=pk).values(*covered.value_columns(coverage)).first()
    m2m = covered.m2m_of(coverage, [pk])[pk] if coverage.m2m and values is not None else {}
    leaf = latest_leaf(coverage, pk)
    as_tuple = (leaf.seq, leaf.payload, leaf.matter_id) if leaf is not None else None
    if values is None and leaf is None:
        return None
    if values is None:
        values_or_none = None
    else:
        values_or_none = values
    return record_problem(coverage, values_or_none, m2m, as_tuple, check_files=check_files)


# --- a file --------------------------------------------------------------------------------------


def digest_entries(digest: str):
    """Leaves that fingerprint a file or document with this SHA-256, oldest first."""
    return (
        LedgerEntry.objects.filter(
            Q(payload__files__file__sha256=digest) | Q(payload__files__pdf__sha256=digest) | Q(payload__sha256=digest)
        )
        .select_related("matter")
        .order_by(F("seq").asc(nulls_last=True), "id")
    )


def logged_object(entry: LedgerEntry):
    """The row a leaf records, if it still exists."""
    for coverage in covered.REGISTRY.values():
        if coverage.object_type == entry.object_type:
            return coverage.model._base_manager.filter(pk=entry.object_pk).first()
    return None


def ledger_verify_digest(*, digest: str) -> VerifyResult:
    """Find the document or file with this SHA-256 in the log and prove its leaf under the latest signed head."""
    sequence_pending()
    entry = digest_entries(digest).first()
    if entry is None:
        return VerifyResult(
            ok=False,
            checked=0,
            first_bad_seq=None,
            reason=_("This file is not in the log: it is not a document of this archive, or it was changed."),
            sha256=digest,
        )
    found = {"entry": entry, "matter": entry.matter, "document": logged_object(entry), "sha256": digest}
    proof = prove(entry)
    if not proof.ok:
        return VerifyResult(ok=False, checked=0, first_bad_seq=entry.seq, reason=proof.reason, **found)
    reason = _("This file is recorded in the log as entry #%(seq)s, under the signed tree head of size %(size)s.") % {
        "seq": entry.seq,
        "size": proof.head.size,
    }
    return VerifyResult(ok=True, checked=proof.head.size, first_bad_seq=None, reason=reason, head=proof.head, **found)


def ledger_verify_pdf(*, data: bytes) -> VerifyResult:
    return ledger_verify_digest(digest=hashlib.sha256(data).hexdigest())


def with_matter(result: VerifyResult, matter) -> VerifyResult:
    return replace(result, matter=matter)
