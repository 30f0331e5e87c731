"""Make a signing key for the ledger's tree heads (Ed25519 or SM2); LEDGER_KEY_FILE / LEDGER_SM2_KEY_FILE name it."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from documents.signing import ALGORITHMS, ED25519, generate_key_file, load_signer


class Command(BaseCommand):
    help = "Write a new private key file for signing the ledger (readable by its owner only); never overwrites one."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="where to write the key file (keep it out of the repository)")
        parser.add_argument("--algorithm", choices=ALGORITHMS, default=ED25519)
        parser.add_argument("--if-missing", action="store_true", help="do nothing when the file exists")
        parser.add_argument("--name", default="", help="the log's origin, to print its public key (vkey)")

    def handle(self, *args, out, algorithm, if_missing, name, **options):
        path = Path(out)
        if path.exists():
            if if_missing:
                return
            raise CommandError(f"{path} exists; a signing key is never overwritten")
        generate_key_file(path, algorithm)
        signer = load_signer(path, algorithm, name or settings.LEDGER_ORIGIN)
        self.stdout.write(self.style.SUCCESS(f"Wrote {path}. Public key (vkey): {signer.public.vkey}"))
