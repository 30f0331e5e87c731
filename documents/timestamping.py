"""RFC 3161 time-stamps on signed tree heads, from the time-stamping authority named by LEDGER_TSA_URL.

Optional: a TSA gives a third party's word on when a head existed, beside the log's own signature.
The token is asked for over the head's checkpoint body (what the log signed), checked against the
root certificate of the TSA (LEDGER_TSA_CERTIFICATE_FILE) before it is stored, checked again by the
whole-log verification, and travels in every verification package.
"""

import base64
import urllib.request
from pathlib import Path

from cryptography import x509
from django.conf import settings
from rfc3161_client import (
    HashAlgorithm,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from .models import TreeHead
from .signing import split_note

TIMEOUT_SECONDS = 20


class TimestampRefused(Exception):
    """The TSA's answer is not a valid time-stamp of what was asked."""


def _certificate() -> x509.Certificate:
    return x509.load_pem_x509_certificate(Path(settings.LEDGER_TSA_CERTIFICATE_FILE).read_bytes())


def timestamp_request(message: bytes) -> bytes:
    """Ask the TSA to time-stamp ``message``; returns the verified response (DER)."""
    request = (
        TimestampRequestBuilder()
        .data(message)
        .hash_algorithm(HashAlgorithm.SHA256)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    http = urllib.request.Request(
        settings.LEDGER_TSA_URL,
        data=request.as_bytes(),
        method="POST",
        headers={"Content-Type": "application/timestamp-query"},
    )
    with urllib.request.urlopen(http, timeout=TIMEOUT_SECONDS) as answer:
        data = answer.read()
    try:
        response = decode_timestamp_response(data)
        certificate = _certificate()
        VerifierBuilder.from_request(request).add_root_certificate(certificate).build().verify_message(
            response, message
        )
    except (VerificationError, ValueError) as error:
        raise TimestampRefused(str(error)) from error
    return data


def timestamp_verify(*, token: str, message: bytes) -> bool:
    """True when the stored token is the TSA's time-stamp of ``message``."""
    try:
        response = decode_timestamp_response(base64.b64decode(token))
        certificate = _certificate()
        return bool(VerifierBuilder(roots=[certificate]).build().verify_message(response, message))
    except (VerificationError, ValueError):
        return False


def head_message(head: TreeHead) -> bytes:
    return split_note(head.note)[0].encode()


def head_timestamp(*, head_id: int) -> bool:
    """Time-stamp one head, once; True when it has a token."""
    head = TreeHead.objects.get(pk=head_id)
    if head.tsa_token:
        return True
    token = base64.b64encode(timestamp_request(head_message(head))).decode()
    TreeHead.objects.filter(pk=head.pk, tsa_token="").update(tsa_token=token)
    return True


def heads_to_timestamp(limit: int = 20) -> list[int]:
    return list(TreeHead.objects.filter(tsa_token="").order_by("-size").values_list("pk", flat=True)[:limit])
