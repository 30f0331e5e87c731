"""Witness a transparency log (run by a county or an inspector's office, e.g. from cron every few minutes)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from documents.signing import parse_vkey
from documents.witness import ForkDetected, WitnessRejected, load_witness_key, witness_public_key, witness_run


class Command(BaseCommand):
    help = (
        "Fetch the log's latest signed tree head, check it extends the last one this witness saw (consistency "
        "proof), and countersign it; a fork is reported to the site as a red warning and exits non-zero."
    )

    def add_arguments(self, parser):
        parser.add_argument("--log", help="the site's address, e.g. https://sanzi.example.gov.cn")
        parser.add_argument("--log-key", action="append", default=[], help="the log's public key (vkey); repeatable")
        parser.add_argument("--name", help="this witness's key name, as registered on the site")
        parser.add_argument("--key", required=True, help="this witness's Ed25519 private key (PEM; ledger_keygen)")
        parser.add_argument("--state", default="witness-state", help="folder keeping the last checkpoint seen")
        parser.add_argument("--print-key", action="store_true", help="print the public key to register, and stop")

    def handle(self, *args, log, log_key, name, key, state, print_key, **options):
        try:
            private = load_witness_key(Path(key))
        except (OSError, ValueError) as error:
            raise CommandError(f"Cannot read the witness key {key}: {error}") from error
        if print_key:
            self.stdout.write(witness_public_key(private))
            return
        if not (log and log_key and name):
            raise CommandError("--log, --log-key and --name are required")
        try:
            keys = [parse_vkey(vkey) for vkey in log_key]
        except ValueError as error:
            raise CommandError(f"--log-key is not a vkey: {error}") from error
        try:
            outcome = witness_run(log_url=log, state_dir=Path(state), name=name, private_key=private, log_keys=keys)
        except ForkDetected as fork:
            raise CommandError(f"FORK: {fork.reason} Both checkpoints are kept in {state}.") from fork
        except (WitnessRejected, OSError, ValueError) as error:
            raise CommandError(f"FAILED: {error}") from error
        since = f" (consistent with {outcome.previous_size})" if outcome.previous_size is not None else " (first seen)"
        self.stdout.write(self.style.SUCCESS(f"Cosigned the tree head of {outcome.size} entries{since}."))
