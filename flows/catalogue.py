"""Which flow class carries which transaction type."""

from django.http import Http404
from django.utils.module_loading import import_string

FLOW_PATHS = {
    "asset_purchase": "flows.asset_purchase.AssetPurchaseFlow",
}


def flow_for(transaction_type: str):
    try:
        return import_string(FLOW_PATHS[transaction_type])
    except KeyError as error:
        raise Http404(f"No flow for {transaction_type}") from error


def available_types() -> list[str]:
    return list(FLOW_PATHS)
