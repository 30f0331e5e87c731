"""Field-level encryption of personal data, with the algorithm pluggable (商用密码: SM4 selectable).

Nothing here is hand-written cryptography: AES-256-GCM and HKDF come from ``cryptography``, SM4 from
``gmssl`` (CBC mode, authenticated encrypt-then-MAC with the standard library's HMAC over SM3), and the
blind index is HMAC-SHA256. A sealed value is a text token ``v1:<algorithm>:<key id>:<base64>`` so that
rows sealed under an older key or algorithm still open after the setting changes.

Keys: ``FIELD_ENCRYPTION_KEY`` (base64 of 32 random bytes) from the environment; every working key is
derived from it with HKDF, one per purpose, so the blind index and the ciphers never share a key.
``FIELD_ENCRYPTION_OLD_KEYS`` (comma-separated) still open values sealed before a key change.
"""

import base64
import binascii
import functools
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from gmssl.sm4 import SM4_DECRYPT, SM4_ENCRYPT, CryptSM4

TOKEN_VERSION = "v1"
AES_GCM = "aes256gcm"
SM4_CBC_HMAC = "sm4cbc-hmacsm3"
ALGORITHMS = (AES_GCM, SM4_CBC_HMAC)


class SealError(ValueError):
    """A sealed value could not be opened: wrong key, unknown algorithm, or the value was altered."""


def _decode_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as error:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be base64 of 32 random bytes") from error
    if len(key) < 32:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be at least 32 bytes (base64 of 32 random bytes)")
    return key


def _derive(master: bytes, purpose: str, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=f"sanzi:{purpose}".encode()).derive(master)


def key_id(master: bytes) -> str:
    return hashlib.sha256(b"sanzi:key-id:" + master).hexdigest()[:8]


@functools.cache
def _keys(current: str, old: tuple[str, ...]) -> tuple[bytes, dict[str, bytes]]:
    masters = [_decode_key(current), *(_decode_key(text) for text in old)]
    return masters[0], {key_id(master): master for master in masters}


def keys() -> tuple[bytes, dict[str, bytes]]:
    """(current master key, every master key by id)."""
    return _keys(settings.FIELD_ENCRYPTION_KEY, tuple(settings.FIELD_ENCRYPTION_OLD_KEYS))


def algorithm() -> str:
    chosen = settings.FIELD_ENCRYPTION_ALGORITHM
    if chosen not in ALGORITHMS:
        raise ImproperlyConfigured(f"FIELD_ENCRYPTION_ALGORITHM must be one of {', '.join(ALGORITHMS)}")
    return chosen


# --- the two ciphers --------------------------------------------------------------------------


def _aes_seal(master: bytes, plaintext: bytes, context: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(_derive(master, AES_GCM)).encrypt(nonce, plaintext, context)


def _aes_open(master: bytes, sealed: bytes, context: bytes) -> bytes:
    try:
        return AESGCM(_derive(master, AES_GCM)).decrypt(sealed[:12], sealed[12:], context)
    except InvalidTag as error:
        raise SealError("the value does not open with this key (altered, or sealed under another key)") from error


def _sm4_keys(master: bytes) -> tuple[bytes, bytes]:
    material = _derive(master, SM4_CBC_HMAC, length=48)
    return material[:16], material[16:]


def _sm3_mac(key: bytes, data: bytes) -> bytes:
    # SM3 through the standard library's HMAC when OpenSSL provides it (Debian's does).
    digest = "sm3" if "sm3" in hashlib.algorithms_available else "sha256"
    return hmac.new(key, data, digest).digest()


def _sm4_seal(master: bytes, plaintext: bytes, context: bytes) -> bytes:
    cipher_key, mac_key = _sm4_keys(master)
    iv = os.urandom(16)
    cipher = CryptSM4()
    cipher.set_key(cipher_key, SM4_ENCRYPT)
    body = iv + cipher.crypt_cbc(iv, plaintext)
    return body + _sm3_mac(mac_key, context + body)


def _sm4_open(master: bytes, sealed: bytes, context: bytes) -> bytes:
    cipher_key, mac_key = _sm4_keys(master)
    body, tag = sealed[:-32], sealed[-32:]
    if len(body) < 32 or not hmac.compare_digest(tag, _sm3_mac(mac_key, context + body)):
        raise SealError("the value does not open with this key (altered, or sealed under another key)")
    cipher = CryptSM4()
    cipher.set_key(cipher_key, SM4_DECRYPT)
    return cipher.crypt_cbc(body[:16], body[16:])


SEALERS = {AES_GCM: _aes_seal, SM4_CBC_HMAC: _sm4_seal}
OPENERS = {AES_GCM: _aes_open, SM4_CBC_HMAC: _sm4_open}


# --- tokens -----------------------------------------------------------------------------------


def is_sealed(value) -> bool:
    return isinstance(value, str) and value.startswith(TOKEN_VERSION + ":") and value.count(":") == 3


def seal(plaintext: str, *, context: str) -> str:
    """Encrypt under the current key and algorithm; ``context`` (e.g. "registers.Member.id_number") is bound in."""
    current, _all = keys()
    chosen = algorithm()
    sealed = SEALERS[chosen](current, plaintext.encode(), context.encode())
    return ":".join([TOKEN_VERSION, chosen, key_id(current), base64.b64encode(sealed).decode()])


def unseal(token: str, *, context: str) -> str:
    try:
        _version, chosen, master_id, body = token.split(":")
        sealed = base64.b64decode(body, validate=True)
    except (ValueError, binascii.Error) as error:
        raise SealError("not a sealed value") from error
    _current, masters = keys()
    if chosen not in OPENERS:
        raise SealError(f"unknown algorithm {chosen!r}")
    if master_id not in masters:
        raise SealError(f"sealed under key {master_id}, which is not configured")
    return OPENERS[chosen](masters[master_id], sealed, context.encode()).decode()


@functools.cache
def _index_master(text: str) -> bytes:
    return _decode_key(text)


def blind_index(value: str, *, purpose: str) -> str:
    """A keyed hash of the value: equal values match in a query, and nobody without the key can test a guess.

    Its key (``FIELD_BLIND_INDEX_KEY``, by default the encryption key) must outlive key changes: rotating
    the encryption key leaves every index as it was."""
    master = _index_master(settings.FIELD_BLIND_INDEX_KEY or settings.FIELD_ENCRYPTION_KEY)
    return hmac.new(_derive(master, f"blind-index:{purpose}"), value.encode(), hashlib.sha256).hexdigest()
