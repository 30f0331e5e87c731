"""Verification packages: a document with everything needed to check it offline against the signed log.

A package is a ZIP file with ``verification.json`` and, when there is one, the document itself
(``document.pdf``, ``document.png``…). ``verification.json`` is canonical JSON (keys sorted, no spaces,
so a changed byte anywhere shows) of:

- ``format``: ``sanzi-verification/1``; ``subject``: dossier, notice, minutes, certificate, file or record;
- ``document``: the document's name in the package, or null;
- ``leaves``: for each leaf, its ``leaf_data`` and ``payload`` (the exact bytes its hashes cover), its
  ``index`` in the tree and the RFC 9162 inclusion ``proof`` (hex) up to the checkpoint;
- ``checkpoint``: the signed tree head as a C2SP signed note, with the log's signatures and the
  witnesses' cosignatures;
- ``log_keys`` (C2SP vkeys) and ``witness_keys`` (name and Ed25519 key) to check those signatures;
- ``timestamp``: the head's RFC 3161 token (base64), when a TSA time-stamped it.

``tools/verify_package.py`` checks a package with the standard library and ``cryptography`` only.
"""

import io
import zipfile
from dataclasses import dataclass

from .ledger import canonical_json, leaf_data
from .ledger_verify import Proof, prove, trusted_keys
from .models import LedgerEntry, TreeHead, Witness
from .signing import split_note

FORMAT = "sanzi-verification/1"
VERIFIER_PATH = "tools/verify_package.py"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class NotProvable(Exception):
    """The record is not yet under a signed head, or the log does not verify: no package can be made."""


@dataclass
class Part:
    entry: LedgerEntry
    proof: Proof


def checkpoint_with_cosignatures(head: TreeHead) -> str:
    """The head's signed note with the cosignature lines of the witnesses that signed it."""
    lines = "".join(line + "\n" for line in head.cosignatures.order_by("witness__name").values_list("line", flat=True))
    return head.note + lines


def _prove_all(entries: list[LedgerEntry]) -> tuple[TreeHead, list[Part]]:
    keys = trusted_keys()
    head = TreeHead.objects.order_by("-size").first()
    parts = []
    for entry in entries:
        proof = prove(entry, head=head, keys=keys)
        if not proof.ok:
            raise NotProvable(proof.reason)
        parts.append(Part(entry=entry, proof=proof))
    return head, parts


def verification_document(*, subject: str, entries: list[LedgerEntry], document_name: str | None) -> dict:
    head, parts = _prove_all(entries)
    split_note(head.note)  # a head that is not a signed note would make a package nobody can check
    return {
        "format": FORMAT,
        "subject": subject,
        "document": document_name,
        "leaves": [
            {
                "index": part.entry.seq - 1,
                "leaf_data": leaf_data(part.entry).decode(),
                "payload": canonical_json(part.entry.payload),
                "proof": [step.hex() for step in part.proof.path],
            }
            for part in parts
        ],
        "checkpoint": checkpoint_with_cosignatures(head),
        "log_keys": [key.vkey for key in trusted_keys()],
        "witness_keys": [
            {"name": witness.name, "public_key": witness.public_key}
            for witness in Witness.objects.filter(active=True).order_by("name")
        ],
        "timestamp": head.tsa_token,
    }


def verification_json(document: dict) -> bytes:
    return canonical_json(document).encode()


def build_package(
    *, subject: str, entries: list[LedgerEntry], document: bytes | None = None, extension: str = ".pdf"
) -> bytes:
    """The ZIP of a verification package (module docstring)."""
    name = f"document{extension}" if document is not None else None
    contents = verification_json(verification_document(subject=subject, entries=entries, document_name=name))
    members = {"verification.json": contents}
    if document is not None:
        members[name] = document
    return zip_members(members)


def zip_members(members: dict[str, bytes]) -> bytes:
    """A ZIP written the same way every time (stored, fixed time and attributes), in the given order.

    tools/verify_package.py writes the members it read the same way and compares the bytes, so a change
    in a ZIP header is found as surely as one in a part."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def proof_only(*, subject: str, entries: list[LedgerEntry]) -> bytes:
    """verification.json alone, for someone who holds the document: the verifier takes it beside the file."""
    return verification_json(verification_document(subject=subject, entries=entries, document_name=None))
