"""``manage.py rebuild_statistics``: rebuild every month of the statistics' summary tables from the rows."""

import time

from django.core.management.base import BaseCommand

from oversight.figures import figures_rebuild


class Command(BaseCommand):
    help = "Rebuild the statistics summary tables (monthly figures, step durations) of every collective and month."

    def handle(self, *args, **options):
        started = time.monotonic()
        months = figures_rebuild()
        self.stdout.write(f"Rebuilt {months} collective-months in {time.monotonic() - started:.1f} s.")
