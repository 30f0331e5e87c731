"""Verify the tamper-evident log: the whole of it, one matter, or a PDF file against it."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from documents.ledger import ledger_verify, ledger_verify_digest, ledger_verify_matter, sha256_of_chunks
from flows.models import Matter


class Command(BaseCommand):
    help = "Verify the ledger's hash chain and checkpoints; exits non-zero and names the first bad entry on failure."

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group()
        target.add_argument("--matter", type=int, metavar="N", help="verify one matter (its id) against the log")
        target.add_argument("--pdf", metavar="PATH", help="verify a dossier PDF or an evidence file against the log")

    def handle(self, *args, matter=None, pdf=None, **options):
        if matter is not None:
            try:
                result = ledger_verify_matter(matter=Matter.objects.get(pk=matter))
            except Matter.DoesNotExist as error:
                raise CommandError(f"There is no matter {matter}.") from error
        elif pdf is not None:
            path = Path(pdf)
            try:
                with path.open("rb") as handle:
                    digest = sha256_of_chunks(iter(lambda: handle.read(1 << 20), b""))
            except OSError as error:
                raise CommandError(f"Cannot read {path}: {error.strerror}") from error
            result = ledger_verify_digest(digest=digest)
        else:
            result = ledger_verify()
        if not result.ok:
            raise CommandError(f"FAILED: {result.reason}")
        self.stdout.write(self.style.SUCCESS(f"OK: {result.reason}"))
        if result.entry is not None and pdf is not None:
            what = result.matter.archive_number or result.matter.title if result.matter else ""
            self.stdout.write(f"Entry #{result.entry.seq} {result.entry.kind} {what}".rstrip())
