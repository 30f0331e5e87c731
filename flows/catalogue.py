"""Which flow class carries which transaction type."""

from django.http import Http404
from django.utils.module_loading import import_string

FLOW_PATHS = {
    "asset_purchase": "flows.asset_purchase.AssetPurchaseFlow",
    "fund_disbursement": "flows.fund_disbursement.FundDisbursementFlow",
    "resource_contracting": "flows.resource_contracting.ResourceContractingFlow",
    "leasing": "flows.leasing.LeasingFlow",
    "disposal": "flows.disposal.DisposalFlow",
    "member_confirmation": "flows.member_confirmation.MemberConfirmationFlow",
    "equity_transfer": "flows.equity_transfer.EquityTransferFlow",
}


def flow_for(transaction_type: str):
    try:
        return import_string(FLOW_PATHS[transaction_type])
    except KeyError as error:
        raise Http404(f"No flow for {transaction_type}") from error


def available_types() -> list[str]:
    """Transaction types whose flow module is installed (all seven once the registers are built)."""
    available = []
    for transaction_type, path in FLOW_PATHS.items():
        try:
            import_string(path)
        except ImportError:
            continue
        available.append(transaction_type)
    return available
