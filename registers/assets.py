"""Writes to the asset register; each is called by the matter that authorises it."""

import datetime

from django.db import transaction

from .models import Asset, AssetStatus


@transaction.atomic(savepoint=False)
def asset_cards_create(*, matter, items, acquired_on: datetime.date) -> list[Asset]:
    """One asset card per purchased line, numbered within the collective, linked to the matter.

    Inside the implementation's transaction without a savepoint: an error undoes the whole step."""
    organization = matter.organization
    # Lock the collective so two implementations never hand out the same number, and continue
    # from the highest number so a gap (a removed card) is never filled twice. No key: the rows that
    # refer to the collective (this step's own, other matters') keep being written meanwhile.
    type(organization).objects.select_for_update(no_key=True).filter(pk=organization.pk).exists()
    prefix = f"{organization.code}-ZC"
    last = Asset.objects.filter(code__startswith=prefix).order_by("-code").values_list("code", flat=True).first()
    existing = int(last.removeprefix(prefix)) if last else 0
    cards = []
    for offset, item in enumerate(items, start=1):
        card = Asset(
            organization=organization,
            code=f"{organization.code}-ZC{existing + offset:05d}",
            name=item.name,
            category=item.category,
            quantity=item.quantity,
            unit_price=item.unit_price,
            original_value=item.unit_price * item.quantity,
            acquired_on=acquired_on,
            status=AssetStatus.IN_USE,
            source_matter=matter,
        )
        # The collective and the matter are rows in hand; the number, the next one under the lock, is
        # not looked up (its unique index still refuses a clash).
        card.full_clean(exclude=("organization", "source_matter"), validate_unique=False)
        card.save()
        cards.append(card)
    return cards
