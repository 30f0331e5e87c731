"""Demo data for the township's workdesk: matters waiting for leader_dh that can be approved in a batch
(each with a scanned quotation, within the county's batch limit), one above the limit, and the statistics
figures built from everything seeded so far.

Run by ``seed_workdesk_demo`` after ``seed_demo`` and ``seed_matters``; safe to re-run.
"""

import io
import random
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from flows.models import Matter, MatterStatus, Step
from flows.services import matter_apply
from organizations.models import RuleBand, TransactionType
from organizations.rules import rule_version_in_force

from .seed import _drive, cast_for, demo_collectives, purchase_data

BATCH_VILLAGES = ("DH01", "DH02")
BATCH_MATTERS = 3


def scanned_quotation(title: str) -> SimpleUploadedFile:
    """A small grey "scan" of a quotation sheet: real PNG bytes, as the evidence checks want."""
    image = Image.new("L", (620, 877), 250)
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 580, 837), outline=60, width=3)
    for row in range(8):
        top = 160 + row * 70
        draw.line((60, top, 560, top), fill=120, width=2)
    draw.rectangle((400, 700, 540, 800), outline=170, width=4)  # the supplier's seal
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return SimpleUploadedFile(f"{title}-报价单.png", buffer.getvalue(), content_type="image/png")


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
            uploads=[scanned_quotation(data["title"])],
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
