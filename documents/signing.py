"""The installation's signing keys and the signed-note format of its tree heads (C2SP signed-note, tlog-checkpoint).

A tree head is a checkpoint: three lines (origin, tree size, base64 root) and a ``timestamp`` extension
line, then a blank line and one signature line per key: ``— <key name> base64(key id || signature)``.
Ed25519 keys are signature type 0x01 as in the C2SP spec; SM2 (GB/T 32918, with SM3 and the default
user id) has no registered type, so it uses 0xff here. Witness cosignatures are C2SP cosignature/v1
(type 0x04: a big-endian u64 timestamp and an Ed25519 signature over ``cosignature/v1``, ``time <t>``
and the checkpoint body).

Which algorithms sign is ``LEDGER_SIGNING_ALGORITHMS``; the private keys are files named by the
environment (``LEDGER_KEY_FILE`` for Ed25519, ``LEDGER_SM2_KEY_FILE`` for SM2), never in the repository.
"""

import base64
import hashlib
import json
import os
import secrets
import struct
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

ED25519 = "ed25519"
SM2 = "sm2"
ALGORITHMS = (ED25519, SM2)
TYPE_ED25519 = 0x01
TYPE_COSIGNATURE = 0x04
TYPE_SM2 = 0xFF
SIGNATURE_DASH = "\u2014"
COSIGNATURE_HEADER = "cosignature/v1\n"


def key_id(name: str, signature_type: int, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([signature_type]) + public_key).digest()[:4]


# --- checkpoints -------------------------------------------------------------------------------


def checkpoint_body(*, origin: str, size: int, root: bytes, timestamp: int) -> str:
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\ntimestamp {timestamp}\n"


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    timestamp: int
    body: str


def parse_checkpoint(body: str) -> Checkpoint:
    """The fields of a checkpoint body; ValueError when it is not one."""
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "" or not lines[0]:
        raise ValueError("a checkpoint is at least three lines, each ending in a newline")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise ValueError("the tree size is not a decimal number")
    root = base64.b64decode(root_text, validate=True)
    if len(root) != 32:
        raise ValueError("the root hash is not 32 bytes")
    timestamp = 0
    for line in lines[3:-1]:
        if line.startswith("timestamp ") and line[10:].isdigit():
            timestamp = int(line[10:])
    return Checkpoint(origin=origin, size=int(size_text), root=root, timestamp=timestamp, body=body)


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes  # what follows the key id

    @property
    def line(self) -> str:
        encoded = base64.b64encode(self.key_id + self.signature).decode()
        return f"{SIGNATURE_DASH} {self.name} {encoded}\n"


def split_note(note: str) -> tuple[str, list[NoteSignature]]:
    """A signed note's body and its signature lines; ValueError when it is not a signed note."""
    body, separator, signatures = note.rpartition("\n\n")
    if not separator:
        raise ValueError("a signed note has a blank line before its signatures")
    body += "\n"
    parsed = []
    for line in signatures.split("\n"):
        if not line:
            continue
        dash, _space, rest = line.partition(" ")
        name, _space, encoded = rest.rpartition(" ")
        if dash != SIGNATURE_DASH or not name:
            raise ValueError("a signature line is “— <name> <base64>”")
        raw = base64.b64decode(encoded, validate=True)
        if len(raw) < 5:
            raise ValueError("a signature is a key id and at least one byte")
        parsed.append(NoteSignature(name=name, key_id=raw[:4], signature=raw[4:]))
    return body, parsed


def join_note(body: str, signatures: list[NoteSignature]) -> str:
    return body + "\n" + "".join(signature.line for signature in signatures)


# --- keys --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicKey:
    """A verifier key: who (name), which algorithm, the raw public key; ``vkey`` is its C2SP text form."""

    name: str
    algorithm: str
    public_key: bytes

    @property
    def signature_type(self) -> int:
        return TYPE_ED25519 if self.algorithm == ED25519 else TYPE_SM2

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.signature_type, self.public_key)

    @property
    def vkey(self) -> str:
        material = base64.b64encode(bytes([self.signature_type]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{material}"

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the public key, grouped for reading aloud over the phone."""
        digest = hashlib.sha256(self.public_key).hexdigest()[:32]
        return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))

    def verify(self, message: bytes, signature: bytes) -> bool:
        if self.algorithm == ED25519:
            try:
                Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
            except (InvalidSignature, ValueError):
                return False
            return True
        from gmssl import sm2

        verifier = sm2.CryptSM2(private_key="", public_key=self.public_key.hex())
        try:
            return bool(verifier.verify_with_sm3(signature.hex(), message))
        except (ValueError, TypeError, ZeroDivisionError):
            return False

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "algorithm": self.algorithm,
            "public_key": base64.b64encode(self.public_key).decode(),
        }


def parse_vkey(vkey: str) -> PublicKey:
    name, key_hex, material = vkey.strip().split("+", 2)
    raw = base64.b64decode(material, validate=True)
    algorithm = {TYPE_ED25519: ED25519, TYPE_SM2: SM2}.get(raw[0])
    if algorithm is None:
        raise ValueError("unknown key type")
    key = PublicKey(name=name, algorithm=algorithm, public_key=raw[1:])
    if key.key_id.hex() != key_hex:
        raise ValueError("the key id does not match the key")
    return key


class Signer:
    """A private key that signs checkpoints under the log's origin."""

    def __init__(self, *, name: str, algorithm: str, private):
        self.name = name
        self.algorithm = algorithm
        self._private = private
        if algorithm == ED25519:
            public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        else:
            public = bytes.fromhex(private["public"])
        self.public = PublicKey(name=name, algorithm=algorithm, public_key=public)

    def sign(self, message: bytes) -> bytes:
        if self.algorithm == ED25519:
            return self._private.sign(message)
        from gmssl import sm2

        signer = sm2.CryptSM2(private_key=self._private["private"], public_key=self._private["public"])
        return bytes.fromhex(signer.sign_with_sm3(message))

    def sign_note(self, body: str) -> NoteSignature:
        return NoteSignature(name=self.name, key_id=self.public.key_id, signature=self.sign(body.encode()))


def generate_key_file(path: Path, algorithm: str) -> None:
    """Write a new private key, readable only by its owner; refuses to overwrite one."""
    if algorithm == ED25519:
        data = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    elif algorithm == SM2:
        from gmssl import sm2

        order = int(sm2.default_ecc_table["n"], 16)
        secret = secrets.randbelow(order - 2) + 1
        private = f"{secret:064x}"
        public = sm2.CryptSM2(private_key=private, public_key="")._kg(secret, sm2.default_ecc_table["g"])
        data = json.dumps({"algorithm": SM2, "private": private, "public": public}).encode()
    else:
        raise ValueError(f"unknown algorithm {algorithm!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes creating the key at once must not end up with different keys.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def load_signer(path: Path, algorithm: str, name: str) -> Signer:
    data = path.read_bytes()
    if algorithm == ED25519:
        private = serialization.load_pem_private_key(data, password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise ImproperlyConfigured(f"{path} is not an Ed25519 private key")
        return Signer(name=name, algorithm=algorithm, private=private)
    fields = json.loads(data)
    if fields.get("algorithm") != SM2 or len(fields.get("private", "")) != 64:
        raise ImproperlyConfigured(f"{path} is not an SM2 key file")
    return Signer(name=name, algorithm=algorithm, private=fields)


def _key_setting(algorithm: str) -> str:
    return "LEDGER_KEY_FILE" if algorithm == ED25519 else "LEDGER_SM2_KEY_FILE"


@cache
def _signers(origin: str, algorithms: tuple[str, ...], paths: tuple[str, ...], autocreate: bool) -> tuple:
    signers = []
    for algorithm, raw_path in zip(algorithms, paths, strict=True):
        if algorithm not in ALGORITHMS:
            raise ImproperlyConfigured(f"LEDGER_SIGNING_ALGORITHMS: unknown algorithm {algorithm!r}")
        if not raw_path:
            raise ImproperlyConfigured(f"{_key_setting(algorithm)} must name the {algorithm} key file of the ledger")
        path = Path(raw_path)
        if not path.exists() and autocreate:
            try:
                generate_key_file(path, algorithm)
            except FileExistsError:
                pass  # another process made it first
        if not path.exists():
            raise ImproperlyConfigured(
                f"{_key_setting(algorithm)}={path} does not exist; create it with manage.py ledger_keygen"
            )
        signers.append(load_signer(path, algorithm, origin))
    return tuple(signers)


def signers() -> tuple[Signer, ...]:
    """The installation's signers, as configured; ImproperlyConfigured when a key file is missing."""
    algorithms = tuple(settings.LEDGER_SIGNING_ALGORITHMS)
    paths = tuple(str(getattr(settings, _key_setting(algorithm))) for algorithm in algorithms)
    return _signers(settings.LEDGER_ORIGIN, algorithms, paths, settings.LEDGER_KEY_AUTOCREATE)


def log_public_keys() -> list[PublicKey]:
    """The keys a verifier trusts for this log: the configured ones and those it was signed with before."""
    keys = [signer.public for signer in signers()]
    for vkey in settings.LEDGER_PREVIOUS_VKEYS:
        keys.append(parse_vkey(vkey))
    return keys


def verify_note(note: str, keys: list[PublicKey]) -> tuple[str, list[PublicKey]]:
    """The body and the keys among ``keys`` whose signature on it verifies."""
    body, signatures = split_note(note)
    verified = []
    for key in keys:
        for signature in signatures:
            if signature.name == key.name and signature.key_id == key.key_id:
                if key.verify(body.encode(), signature.signature):
                    verified.append(key)
                break
    return body, verified


# --- cosignatures (witnesses) --------------------------------------------------------------------


def cosigned_message(body: str, timestamp: int) -> bytes:
    return f"{COSIGNATURE_HEADER}time {timestamp}\n{body}".encode()


def cosignature_key_id(name: str, public_key: bytes) -> bytes:
    return key_id(name, TYPE_COSIGNATURE, public_key)


def cosign(*, name: str, private: Ed25519PrivateKey, body: str, timestamp: int) -> NoteSignature:
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    signature = private.sign(cosigned_message(body, timestamp))
    return NoteSignature(
        name=name, key_id=cosignature_key_id(name, public), signature=struct.pack(">Q", timestamp) + signature
    )


def verify_cosignature(*, name: str, public_key: bytes, body: str, signature: NoteSignature) -> int | None:
    """The cosignature's timestamp when it is the named witness's over this body, else None."""
    if signature.name != name or signature.key_id != cosignature_key_id(name, public_key):
        return None
    if len(signature.signature) != 8 + 64:
        return None
    (timestamp,) = struct.unpack(">Q", signature.signature[:8])
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            signature.signature[8:], cosigned_message(body, timestamp)
        )
    except (InvalidSignature, ValueError):
        return None
    return timestamp
