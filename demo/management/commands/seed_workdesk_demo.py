"""``manage.py seed_workdesk_demo``: matters leader_dh can approve in a batch, and the statistics figures.

Run after ``seed_demo`` and ``seed_matters``. Safe to re-run: it adds matters only while fewer than three
wait for the leader within the batch limit, and rebuilds the figures from whatever exists.
"""

from django.core.management.base import BaseCommand

from demo.workdesk import demo_batch_matters
from oversight.figures import figures_rebuild


class Command(BaseCommand):
    help = "Add matters waiting for leader_dh that a batch can approve, then rebuild the statistics."

    def handle(self, *args, **options):
        matters = demo_batch_matters()
        self.stdout.write(f"Waiting for leader_dh within the batch limit: {len(matters)} matters")
        self.stdout.write(f"Statistics rebuilt for {figures_rebuild()} collective-months")
