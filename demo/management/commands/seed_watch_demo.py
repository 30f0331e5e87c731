"""``manage.py seed_watch_demo``: live work to watch in the demo: a task for the leader, overdue tasks, warning cases.

Run after ``seed_demo`` and ``seed_matters``. Safe to re-run: it keys its data on codes and only
backdates tasks that are still open. Beat's sweeps then send the reminders, escalations and
warnings within a minute of ``make demo`` starting, to the users' live streams.
"""

from django.core.management.base import BaseCommand

from demo.reminders import demo_overdue_tasks
from demo.seed import demo_matter_for_the_leader
from demo.warnings import demo_warning_cases


class Command(BaseCommand):
    help = "Backdate a few open tasks past their reminder days and add data that each early-warning rule fires on."

    def handle(self, *args, **options):
        matter = demo_matter_for_the_leader()
        self.stdout.write(f"Waiting for officer_dh, then leader_dh: “{matter.title}” ({matter.get_absolute_url()})")
        overdue = demo_overdue_tasks()
        self.stdout.write(f"Overdue tasks for beat's reminder sweep: {overdue}")
        cases = demo_warning_cases()
        self.stdout.write(f"Early-warning cases for beat's warning sweep: {cases}")
