"""Disposing of an asset (资产处置): the card is marked disposed and any proceeds are booked as income."""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from organizations.jurisdiction import require_act
from organizations.models import Role

from .funds import income_record
from .models import Asset, AssetStatus, FundAccount

DISPOSING_ROLES = {Role.VILLAGE_SECRETARY, Role.VILLAGE_CASHIER}


def disposal_blocker(asset: Asset) -> str:
    """Why the asset's status forbids disposing of it, or "" when it does not."""
    if asset.status == AssetStatus.LEASED:
        return _("%(asset)s is leased; it cannot be disposed of while the lease runs.") % {"asset": asset}
    if asset.status == AssetStatus.DISPOSED:
        return _("%(asset)s has already been disposed of.") % {"asset": asset}
    return ""


@transaction.atomic
def asset_dispose(
    *,
    asset: Asset,
    matter,
    proceeds: Decimal,
    account: FundAccount | None,
    disposed_on: datetime.date,
    user,
    counterparty: str = "",
) -> Asset:
    """Mark the asset disposed on ``disposed_on``; proceeds above zero go into ``account`` as income of the matter."""
    require_act(user, asset.organization, DISPOSING_ROLES)
    asset = Asset.objects.select_for_update(no_key=True).select_related("organization").get(pk=asset.pk)
    blocker = disposal_blocker(asset)
    if blocker:
        raise ValidationError(blocker)
    if proceeds < 0:
        raise ValidationError({"proceeds": _("The proceeds cannot be negative.")})
    if disposed_on > timezone.localdate():
        raise ValidationError({"disposed_on": _("A disposal cannot be recorded before the day it happens.")})
    if proceeds > 0:
        if account is None:
            raise ValidationError(
                {"proceeds": _("The application names no account to receive proceeds, so none can be recorded.")}
            )
        if account.organization_id != asset.organization_id:
            raise ValidationError({"proceeds": _("The proceeds account belongs to another collective.")})
        if not counterparty.strip():
            raise ValidationError({"proceeds": _("Name who paid the proceeds.")})
    asset.status = AssetStatus.DISPOSED
    asset.disposed_on = disposed_on
    asset.full_clean()
    asset.save()
    if proceeds > 0:
        income_record(
            account=account,
            amount=proceeds,
            occurred_on=disposed_on,
            counterparty=counterparty.strip(),
            purpose=_("Proceeds of disposing of %(asset)s") % {"asset": asset},
            matter=matter,
            user=user,
        )
    return asset
