"""Log, once, the covered records that have no leaf yet: rows from before the log covered their model.

Run after an upgrade and after a model is added to documents/coverage.py. Rows that already have a leaf
are never touched, so an edit behind the log's back stays visible; the rows this adopts are named in the
log as a baseline (payload "baseline": true), with who ran it.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from documents import coverage as covered
from documents.ledger import ledger_append
from documents.models import LeafFormat, LedgerEntry
from documents.sequencer import sequence_pending


class Command(BaseCommand):
    help = "Append a baseline leaf for every covered record that has none (after an upgrade or a newly covered model)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only count the records that would be adopted")

    def handle(self, *args, dry_run=False, **options):
        adopted = 0
        for coverage in covered.REGISTRY.values():
            logged = set(
                LedgerEntry.objects.filter(
                    object_type=coverage.object_type, format=LeafFormat.LEAF, kind__in=coverage.kinds()
                ).values_list("object_pk", flat=True)
            )
            pks = [pk for pk in coverage.model._base_manager.values_list("pk", flat=True) if pk not in logged]
            if not pks:
                continue
            self.stdout.write(f"{coverage.label}: {len(pks)} records without a leaf")
            if dry_run:
                adopted += len(pks)
                continue
            with transaction.atomic():
                for row in coverage.model._base_manager.filter(pk__in=pks).order_by("pk"):
                    values = coverage.model._base_manager.filter(pk=row.pk).values(*covered.value_columns(coverage))[0]
                    m2m = covered.m2m_of(coverage, [row.pk])[row.pk] if coverage.m2m else {}
                    payload = covered.live_payload(coverage, values, m2m, row=row)
                    payload.update(actor=None, actor_id=None, baseline=True)
                    ledger_append(
                        kind=coverage.kind_of(values),
                        object_type=coverage.object_type,
                        object_id=str(row.pk),
                        matter=covered.matter_of(coverage, values),
                        payload=payload,
                    )
                    adopted += 1
        if not dry_run:
            sequence_pending()
        self.stdout.write(self.style.SUCCESS(f"{adopted} records {'would be' if dry_run else 'were'} adopted."))
