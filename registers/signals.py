"""Early warnings at once: a saved payment or contract queues the rules it can break, after the commit.

A signal rather than a call in each service, because money and contracts are recorded from several
places (the implementation of each transaction, the demo, the admin) and a payment made without
approval must be flagged whichever path recorded it. The check runs after the commit, in a worker, so
it sees the committed row and never slows or breaks the write; beat's sweep catches anything lost.
"""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from flows.models import Objection

from .models import Contract, FundMovement
from .tasks import check_contract, check_fund_movement
from .warnings import objection_surge_check


@receiver(post_save, sender=FundMovement, dispatch_uid="early_warning_fund_movement")
def check_fund_movement_after_commit(sender, instance: FundMovement, raw: bool = False, **kwargs):
    if raw:  # loading fixtures: the sweep looks at them later
        return
    movement_id = instance.pk
    transaction.on_commit(lambda: check_fund_movement.delay(movement_id), robust=True)


@receiver(post_save, sender=Contract, dispatch_uid="early_warning_contract")
def check_contract_after_commit(sender, instance: Contract, raw: bool = False, **kwargs):
    if raw:
        return
    contract_id = instance.pk
    transaction.on_commit(lambda: check_contract.delay(contract_id), robust=True)


@receiver(post_save, sender=Objection, dispatch_uid="early_warning_objection_surge")
def check_objection_surge(sender, instance: Objection, created: bool, raw: bool = False, **kwargs):
    # At once, not after the commit: one count, and the township hears of a flood while it happens.
    if created and not raw:
        objection_surge_check(notice=instance.notice)
