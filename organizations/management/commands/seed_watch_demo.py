"""``manage.py seed_watch_demo``: give beat something to watch in the demo — overdue tasks and warning cases.

Run after ``seed_demo`` and ``seed_matters``. Safe to re-run: it keys its data on codes and only
backdates tasks that are still open. Beat's sweeps then send the reminders, escalations and
warnings within a minute of ``make demo`` starting, to the users' live streams.
"""

from django.core.management.base import BaseCommand

from flows.demo_reminders import demo_overdue_tasks
from registers.demo_warnings import demo_warning_cases


class Command(BaseCommand):
    help = "Backdate a few open tasks past their reminder days and add data that each early-warning rule fires on."

    def handle(self, *args, **options):
        overdue = demo_overdue_tasks()
        self.stdout.write(f"Overdue tasks for beat's reminder sweep: {overdue}")
        cases = demo_warning_cases()
        self.stdout.write(f"Early-warning cases for beat's warning sweep: {cases}")
