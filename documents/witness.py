"""Witnesses of the log (after C2SP tlog-witness): offices outside the installation that keep the last head they
saw, check that each new head extends it, and countersign it; and the site's side of it.

A witness (``manage.py ledger_witness``, run by a county or an inspector's office from cron) fetches the
latest checkpoint over HTTP, checks the log's signature with the log key it was given, and compares the
checkpoint with the last one it saw: a smaller tree, another root for the same size, or a consistency
proof that fails means the log was rewritten or shows different histories to different people (a
fork). Then it reports both signed checkpoints to the site, which raises a red early warning, and exits
with an error. Otherwise it posts its cosignature (C2SP cosignature/v1), which the site stores and
shows beside each head.
"""

import base64
import datetime
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from organizations.models import Organization, OrganizationKind
from registers.models import WarningLevel, WarningRule
from registers.warnings import warning_raise

from .merkle import verify_consistency
from .models import TreeHead, Witness, WitnessCosignature
from .sequencer import root_at, tree_size
from .signing import (
    PublicKey,
    cosign,
    log_public_keys,
    parse_checkpoint,
    split_note,
    verify_cosignature,
    verify_note,
)

CHECKPOINT_PATH = "/documents/ledger/checkpoint/"
CONSISTENCY_PATH = "/documents/ledger/consistency/"
COSIGN_PATH = "/documents/ledger/witness/cosign/"
FORK_PATH = "/documents/ledger/witness/fork/"
TIMEOUT_SECONDS = 20


class WitnessRejected(Exception):
    """The site refused what a witness sent (an unknown witness, a bad signature, not this log's head)."""


class ForkDetected(Exception):
    """The log showed this witness two histories that cannot both be true."""

    def __init__(self, reason: str, first: str, second: str):
        super().__init__(reason)
        self.reason = reason
        self.first = first
        self.second = second


# --- the site's side -----------------------------------------------------------------------------


def cosignature_accept(*, note: str) -> WitnessCosignature:
    """Store a witness's cosignature on one of this log's heads; WitnessRejected when it is not one."""
    try:
        body, signatures = split_note(note)
        checkpoint = parse_checkpoint(body)
    except ValueError as error:
        raise WitnessRejected(_("This is not a cosigned checkpoint.")) from error
    head = TreeHead.objects.filter(size=checkpoint.size).first()
    if head is None or split_note(head.note)[0] != body:
        raise WitnessRejected(_("This log published no such tree head."))
    witnesses = {witness.name: witness for witness in Witness.objects.filter(active=True)}
    for signature in signatures:
        witness = witnesses.get(signature.name)
        if witness is None:
            continue
        signed_at = verify_cosignature(
            name=witness.name, public_key=base64.b64decode(witness.public_key), body=body, signature=signature
        )
        if signed_at is None:
            raise WitnessRejected(_("The cosignature of %(name)s does not verify.") % {"name": witness.name})
        cosignature, _created = WitnessCosignature.objects.update_or_create(
            head=head,
            witness=witness,
            defaults={
                "signed_at": datetime.datetime.fromtimestamp(signed_at, tz=datetime.UTC),
                "line": signature.line.rstrip("\n"),
            },
        )
        return cosignature
    raise WitnessRejected(_("No registered witness signed this checkpoint."))


def _conflicts_with_this_log(checkpoint) -> bool:
    """A checkpoint signed by this log's key that the log as it now stands does not agree with."""
    if checkpoint.size > tree_size():
        return True
    head = TreeHead.objects.filter(size=checkpoint.size).first()
    if head is not None and head.root_hash != checkpoint.root.hex():
        return True
    return root_at(checkpoint.size) != checkpoint.root if checkpoint.size else False


@transaction.atomic
def fork_report_accept(*, report: str):
    """Raise a red warning for two checkpoints signed by this log's key that cannot both be true.

    The report is JSON {"witness", "first", "second"}: two signed notes. Their signatures make it
    evidence whoever sends it; it is accepted only when one of them disagrees with the log as it stands
    or with the other at the same size."""
    fields = json.loads(report)
    keys = log_public_keys()
    checkpoints = []
    for note in (fields["first"], fields["second"]):
        body, verified = verify_note(note, keys)
        if not verified:
            raise WitnessRejected(_("A reported checkpoint is not signed by this log's key."))
        checkpoints.append(parse_checkpoint(body))
    first, second = checkpoints
    same_size_fork = first.size == second.size and first.root != second.root
    if not same_size_fork and not any(_conflicts_with_this_log(checkpoint) for checkpoint in checkpoints):
        raise WitnessRejected(_("These checkpoints agree with the log: there is no fork."))
    return raise_fork_warning(
        size=first.size, detail=_fork_detail(fields.get("witness", ""), fields["first"], fields["second"])
    )


def _fork_detail(witness: str, first: str, second: str) -> str:
    return (
        _(
            "Witness %(witness)s holds two tree heads signed with this installation's key that cannot both be true: "
            "the log was rewritten, or showed different histories to different people. Keep both checkpoints as "
            "evidence, stop signing, and have the log verified (manage.py verify_ledger)."
        )
        % {"witness": witness or "?"}
        + f"\n\n{first}\n{second}"
    )


def raise_fork_warning(*, size: int, detail: str):
    """A red early warning in every county of the installation: the log itself is in doubt."""
    warning = None
    for county in Organization.objects.filter(kind=OrganizationKind.COUNTY):
        warning = (
            warning_raise(
                rule=WarningRule.LEDGER_FORK,
                level=WarningLevel.RED,
                organization=county,
                # One warning per county: the subject is unique per rule across the installation.
                subject_key=f"ledger-fork:{county.pk}:{size}",
                title=_("The tamper-evident log forked at %(size)s entries") % {"size": size},
                detail=detail,
                url=reverse("documents:ledger"),
            )
            or warning
        )
    return warning


# --- the witness's side --------------------------------------------------------------------------

Fetch = Callable[[str, bytes | None], bytes]


def http_fetch(url: str, data: bytes | None = None) -> bytes:
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    if data is not None:
        request.add_header("Content-Type", "text/plain; charset=utf-8")
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        return response.read()


@dataclass
class WitnessOutcome:
    size: int
    root: str
    previous_size: int | None
    cosigned: bool


def load_witness_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def witness_public_key(private: Ed25519PrivateKey) -> str:
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def _state_file(state_dir: Path, origin: str) -> Path:
    return state_dir / (urllib.parse.quote(origin, safe="") + ".checkpoint")


def witness_run(
    *,
    log_url: str,
    state_dir: Path,
    name: str,
    private_key: Ed25519PrivateKey,
    log_keys: list[PublicKey],
    fetch: Fetch = http_fetch,
    now: Callable[[], float] = time.time,
) -> WitnessOutcome:
    """Fetch the latest head, check it against the last one seen, countersign it (module docstring)."""
    base = log_url.rstrip("/")
    note = fetch(base + CHECKPOINT_PATH, None).decode()
    body, verified = verify_note(note, log_keys)
    if not verified:
        raise WitnessRejected(_("The log's checkpoint is not signed by the log key this witness was given."))
    checkpoint = parse_checkpoint(body)
    state_dir.mkdir(parents=True, exist_ok=True)
    state = _state_file(state_dir, checkpoint.origin)
    previous_size = None
    if state.exists():
        previous_note = state.read_text()
        previous = parse_checkpoint(split_note(previous_note)[0])
        previous_size = previous.size
        reason = ""
        if checkpoint.size < previous.size:
            reason = _("The log shrank from %(old)s to %(new)s entries.") % {
                "old": previous.size,
                "new": checkpoint.size,
            }
        elif checkpoint.size == previous.size and checkpoint.root != previous.root:
            reason = _("The log shows another root for the same %(size)s entries.") % {"size": checkpoint.size}
        elif checkpoint.size > previous.size:
            query = urllib.parse.urlencode({"old": previous.size, "new": checkpoint.size})
            lines = fetch(f"{base}{CONSISTENCY_PATH}?{query}", None).decode().split()
            proof = [base64.b64decode(line) for line in lines]
            if not verify_consistency(previous.size, checkpoint.size, previous.root, checkpoint.root, proof):
                reason = _("The tree of %(new)s entries does not extend the one of %(old)s this witness saw.") % {
                    "old": previous.size,
                    "new": checkpoint.size,
                }
        if reason:
            report = json.dumps({"witness": name, "first": previous_note, "second": note}).encode()
            try:
                fetch(base + FORK_PATH, report)
            except (urllib.error.URLError, OSError):
                pass  # the witness still fails loudly below, with both checkpoints kept
            state.with_suffix(".fork").write_text(json.dumps({"first": previous_note, "second": note}))
            raise ForkDetected(reason, previous_note, note)
    cosignature = cosign(name=name, private=private_key, body=body, timestamp=int(now()))
    fetch(base + COSIGN_PATH, (body + "\n" + cosignature.line).encode())
    # Saved only once checked: the state is always a head this witness vouched for.
    temporary = state.with_suffix(".tmp")
    temporary.write_text(note)
    temporary.replace(state)
    return WitnessOutcome(size=checkpoint.size, root=checkpoint.root.hex(), previous_size=previous_size, cosigned=True)
