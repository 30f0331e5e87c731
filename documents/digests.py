"""Fingerprints of files and records: SHA-256, and SM3 (GB/T 32905) beside it as the Chinese archive standards ask.

SM3 comes from OpenSSL through ``cryptography`` (fast, and what the stand-alone verifier uses too).
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes

CHUNK = 1 << 20


def sm3_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


@dataclass(frozen=True)
class Fingerprint:
    sha256: str
    sm3: str
    size: int


def fingerprint_chunks(chunks: Iterable[bytes]) -> Fingerprint:
    sha256 = hashlib.sha256()
    sm3 = hashes.Hash(hashes.SM3())
    size = 0
    for chunk in chunks:
        sha256.update(chunk)
        sm3.update(chunk)
        size += len(chunk)
    return Fingerprint(sha256=sha256.hexdigest(), sm3=sm3.finalize().hex(), size=size)


def fingerprint_bytes(data: bytes) -> Fingerprint:
    return fingerprint_chunks([data])


def fingerprint_field_file(field_file) -> Fingerprint:
    """Read a stored file through its storage (never a filesystem path: it may be an object store)."""
    # Through the storage, not the field: the caller's open file (if any) is left as it was.
    with field_file.storage.open(field_file.name, "rb") as handle:
        return fingerprint_chunks(iter(lambda: handle.read(CHUNK), b""))
