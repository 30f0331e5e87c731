"""``manage.py seed_matters N``: asset purchases at every step of the spine, driven through the services."""

import time
from collections import Counter

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from demo.seed import SCENARIOS, demo_collectives, matters_seed, matters_summary
from flows.models import Matter


class Command(BaseCommand):
    help = (
        f"Create N asset purchase matters; matter i stops at the (i mod {len(SCENARIOS)})-th demo scenario, "
        f"so any {len(SCENARIOS)} in a row cover every step, return, withdrawal, objection and archive."
    )

    def add_arguments(self, parser):
        parser.add_argument("count", type=int, help="How many matters to create.")
        parser.add_argument("--village", default="", help="Only this village (or collective) code, e.g. DH01.")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when matters exist already (make demo keeps a re-run's data as it was).",
        )

    def handle(self, *args, count, village, if_empty, **options):
        if if_empty and Matter.objects.exists():
            self.stdout.write("Matters exist already; none added.")
            return
        collectives = demo_collectives(village_code=village)
        if not collectives:
            if village:
                raise CommandError(f"No village or collective has the code {village}.")
            raise CommandError("No collective found; run seed_demo first.")
        started = time.monotonic()
        try:
            results = matters_seed(count=count, collectives=collectives)
        except (LookupError, ValueError, ValidationError) as error:
            raise CommandError(str(error)) from error
        elapsed = time.monotonic() - started

        self.stdout.write(f"{len(results)} matters in {elapsed:.1f} s over {', '.join(c.code for c in collectives)}")
        self.stdout.write("\nstatus / next step:")
        for status, step, number in matters_summary([matter for matter, _scenario in results]):
            self.stdout.write(f"  {status:<12} {step or '-':<24} {number}")
        self.stdout.write("\nrule band:")
        for band, number in sorted(
            Counter(matter.band for matter, _scenario in results).items(), key=lambda item: item[0].min_amount
        ):
            self.stdout.write(f"  {band!s:<36} {number}")
        self.stdout.write("\nscenario:")
        for scenario in SCENARIOS:
            number = sum(1 for _matter, played in results if played is scenario)
            if number:
                self.stdout.write(f"  {scenario.name:<36} {number}")
