"""Wiring of the tamper-evident log: every decision, register change and archived file is appended.

Signals rather than calls in each service, because the log must not depend on every present and future
write path remembering it: a StepRecord, an Evidence file or a register change appended from anywhere is
logged. Each receiver runs inside the writer's transaction (post_save and simple-history's signal fire
before commit), so a write that rolls back leaves no entry. The payloads are built in documents/ledger.py,
where verification rebuilds them from the live rows.
"""

from django.apps import apps
from django.db.models.signals import post_save
from django.dispatch import receiver
from simple_history.signals import post_create_historical_record

from flows.models import StepRecord

from .ledger import (
    APPEND_ONLY_REGISTER_MODELS,
    REGISTER_MODELS,
    append_only_payload,
    decision_payload,
    evidence_payload,
    ledger_append,
    register_payload,
)
from .models import Evidence, LedgerKind


@receiver(post_save, sender=StepRecord, dispatch_uid="ledger_step_record")
def log_step_record(sender, instance: StepRecord, created: bool, **kwargs):
    # Step records are written once; a later save of the same row is not a new decision.
    if created:
        ledger_append(
            kind=LedgerKind.DECISION, obj=instance, matter=instance.matter_id, payload=decision_payload(instance)
        )


@receiver(post_save, sender=Evidence, dispatch_uid="ledger_evidence")
def log_evidence(sender, instance: Evidence, created: bool, **kwargs):
    # Only the arrival is logged: a thumbnail added later does not change what the file proves.
    if created:
        ledger_append(kind=LedgerKind.FILE, obj=instance, matter=instance.matter_id, payload=evidence_payload(instance))


@receiver(post_create_historical_record, dispatch_uid="ledger_register_history")
def log_register_change(sender, instance, history_instance, history_user=None, **kwargs):
    # The sender is the historical model; the tracked row tells whether it is a register.
    if instance._meta.label not in REGISTER_MODELS:
        return
    payload = register_payload(instance=instance, history_instance=history_instance, history_user=history_user)
    ledger_append(kind=LedgerKind.REGISTER, obj=instance, matter=payload["matter"], payload=payload)


def log_append_only_register(sender, instance, created: bool, **kwargs):
    # The share ledger keeps no history (it is append-only already): its rows are logged as written.
    if created:
        payload = append_only_payload(instance)
        ledger_append(kind=LedgerKind.REGISTER, obj=instance, matter=payload["matter"], payload=payload)


for label in APPEND_ONLY_REGISTER_MODELS:
    post_save.connect(log_append_only_register, sender=apps.get_model(label), dispatch_uid=f"ledger_{label}")
