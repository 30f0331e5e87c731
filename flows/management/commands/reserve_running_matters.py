"""Reserve, once, what running matters from before reservations commit (registers/reservations.py).

Run after the upgrade that brought reservations. The oldest application goes first, so it keeps the
holding; a later one that no longer fits (two applications for one holding that both got through before)
is named, not changed: the township decides which of them to reject or have withdrawn.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.db import transaction

from flows.catalogue import flow_for
from flows.models import Matter, MatterStatus
from registers.models import ReservationState


class Command(BaseCommand):
    help = "Reserve the shares, assets and resource terms of running matters that hold no reservation yet."

    def handle(self, *args, **options):
        reserved = refused = 0
        running = (
            Matter.objects.filter(status=MatterStatus.IN_PROGRESS, process__isnull=False)
            .exclude(reservations__state=ReservationState.HELD)
            .order_by("created_at", "pk")
        )
        for matter in running:
            transaction_flow = flow_for(matter.transaction_type).instance
            try:
                with transaction.atomic():
                    transaction_flow.reserve(matter=matter, data=transaction_flow.application_data(matter))
            except ValidationError as error:
                refused += 1
                self.stdout.write(f"#{matter.pk} {matter.title}: {' '.join(error.messages)}")
            else:
                reserved += matter.reservations.filter(state=ReservationState.HELD).count()
        self.stdout.write(f"{reserved} reserved, {refused} refused")
