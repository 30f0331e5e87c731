"""Writes to the asset register; each is called by the matter that authorises it."""

import datetime

from django.db import transaction

from .models import Asset, AssetStatus


@transaction.atomic
def asset_cards_create(*, matter, items, acquired_on: datetime.date) -> list[Asset]:
    """One asset card per purchased line, numbered within the collective, linked to the matter."""
    organization = matter.organization
    existing = Asset.objects.filter(organization=organization).count()
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
        card.full_clean()
        card.save()
        cards.append(card)
    return cards
