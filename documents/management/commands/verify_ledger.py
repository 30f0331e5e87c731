"""Verify the tamper-evident log: the whole of it with every record it covers, one matter, or a file against it."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from documents.ledger import sha256_of_chunks
from documents.ledger_checks import ledger_check_run
from documents.ledger_verify import ledger_verify_digest, ledger_verify_matter
from documents.models import LedgerCheck
from flows.models import Matter


class Command(BaseCommand):
    help = (
        "Verify the ledger's leaves, Merkle tree, signed tree heads and every record it covers (the result is "
        "stored for the ledger page); exits non-zero and names the first entry or record that no longer matches."
    )

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group()
        target.add_argument("--matter", type=int, metavar="N", help="verify one matter (its id) against the log")
        target.add_argument("--pdf", metavar="PATH", help="verify a dossier PDF or an evidence file against the log")
        parser.add_argument("--no-files", action="store_true", help="do not re-read the stored files")

    def handle(self, *args, matter=None, pdf=None, no_files=False, **options):
        if matter is not None:
            try:
                result = ledger_verify_matter(matter=Matter.objects.get(pk=matter), check_files=not no_files)
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
            # Stored like the scheduled checks: the ledger page shows it.
            result = ledger_check_run(check_files=not no_files, trigger=LedgerCheck.Trigger.COMMAND)
            if result is None:
                raise CommandError("Another check of the whole log is running; try again when it is done.")
        if not result.ok:
            raise CommandError(f"FAILED: {result.reason}")
        self.stdout.write(self.style.SUCCESS(f"OK: {result.reason}"))
        if pdf is not None and result.entry is not None:
            what = result.matter.archive_number or result.matter.title if result.matter else ""
            self.stdout.write(f"Entry #{result.entry.seq} {result.entry.kind} {what}".rstrip())
