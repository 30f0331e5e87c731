"""Seal the tamper-evident log with a Merkle checkpoint (beat runs the same as ledger_checkpoint_task)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from documents.ledger import checkpoint_create


class Command(BaseCommand):
    help = "Record a Merkle checkpoint over every ledger entry so far; refuses when the log does not verify."

    def handle(self, *args, **options):
        try:
            checkpoint = checkpoint_create()
        except ValidationError as error:
            raise CommandError(f"FAILED: {' '.join(error.messages)}") from error
        if checkpoint is None:
            self.stdout.write("No new entries since the last checkpoint.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Checkpoint over entries 1..{checkpoint.last_seq}: Merkle root {checkpoint.merkle_root}"
            )
        )
