"""Sequence the log now and sign its tree head (the sequencer does the same after each commit and on beat)."""

from django.core.management.base import BaseCommand

from documents.sequencer import latest_head, sequence_pending


class Command(BaseCommand):
    help = "Give every new ledger entry its position in the Merkle tree and sign the new tree head."

    def handle(self, *args, **options):
        placed = sequence_pending()
        head = latest_head()
        if head is None:
            self.stdout.write("The log is empty.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"{placed} new entries placed. Signed tree head: {head.size} entries, root {head.root_hash}"
            )
        )
