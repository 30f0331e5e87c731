"""Demo data for the township's workdesk: matters waiting for leader_dh that can be approved in a batch
(each with a scanned quotation, within the county's batch limit), one above the limit, and the statistics
figures built from everything seeded so far.

Run by ``seed_workdesk_demo`` after ``seed_demo`` and ``seed_matters``; safe to re-run.
"""

import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from flows.models import Matter, MatterStatus, Step
from flows.services import matter_apply
from organizations.models import RuleBand, TransactionType
from organizations.rules import rule_version_in_force

from .scans import scanned_quotation
from .seed import _drive, cast_for, demo_collectives, purchase_data

BATCH_VILLAGES = ("DH01", "DH02")
BATCH_MATTERS = 3


def _medium_band(version) -> RuleBand:
    return (
        version.bands.filter(transaction_type=TransactionType.ASSET_PURCHASE, township_approval=True, min_amount__gt=0)
        .order_by("min_amount")
        .first()
    )


def _waiting_for_leader(collectives, *, within_limit: bool):
    matters = Matter.objects.filter(
        organization__in=collectives, status=MatterStatus.IN_PROGRESS, next_step=Step.APPROVE_BY_TOWNSHIP
    ).exclude(evidence=None)
    if within_limit:
        return [m for m in matters.select_related("rule_version") if m.amount <= m.rule_version.batch_approval_limit]
    return [m for m in matters.select_related("rule_version") if m.amount > m.rule_version.batch_approval_limit]


def _purchase_waiting_for_leader(collective, *, rng: random.Random, at_most: Decimal | None, above: Decimal | None):
    version = rule_version_in_force(county=collective.county, on_date=timezone.localdate())
    band = _medium_band(version)
    for _attempt in range(200):
        data = purchase_data(rng, band, quotation_threshold=version.quotation_threshold)
        total = data["total"]
        if (at_most is None or total <= at_most) and (above is None or total > above):
            break
    else:
        raise ValueError(f"No demo purchase of {band} fits the batch limit.")
    cast = cast_for(collective)
    with transaction.atomic():
        matter = matter_apply(
            user=cast.secretary,
            organization=collective,
            transaction_type=TransactionType.ASSET_PURCHASE,
            data=data,
            uploads=[scanned_quotation(data["title"], serial=f"workdesk-{Matter.objects.count()}")],
        )
        _drive(matter, cast, Step.APPROVE_BY_TOWNSHIP, rng)
    return matter


def demo_batch_matters(count: int = BATCH_MATTERS) -> list[Matter]:
    """At least ``count`` matters of Donghu waiting for leader_dh that a batch may agree, and one that it may not."""
    collectives = [c for code in BATCH_VILLAGES for c in demo_collectives(village_code=code)]
    waiting = _waiting_for_leader(collectives, within_limit=True)
    rng = random.Random(f"batch-{Matter.objects.count()}")
    limit = rule_version_in_force(county=collectives[0].county, on_date=timezone.localdate()).batch_approval_limit
    for index in range(len(waiting), count):
        collective = collectives[index % len(collectives)]
        waiting.append(_purchase_waiting_for_leader(collective, rng=rng, at_most=limit, above=None))
    if not _waiting_for_leader(collectives, within_limit=False):
        _purchase_waiting_for_leader(collectives[0], rng=rng, at_most=None, above=limit)
    return waiting
