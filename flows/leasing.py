"""Asset leasing (资产出租): an asset, a lessee, a term, a rent and its schedule; a lease when implemented."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from viewflow.workflow import flow

from forms.leasing import LeasingApplicationForm
from organizations.models import TransactionType
from registers.contracts import asset_unavailable_message, contract_create, contract_total, payment_schedule
from registers.models import AssetStatus, Contract, ContractKind
from registers.reservations import asset_reserve

from .models import Leasing, PaymentFrequency
from .selectors import asset_running_matter_message
from .spine import Spine

FIELDS = ("asset", "lessee", "start_date", "end_date", "annual_rent", "frequency")


class LeasingFlow(Spine, flow.Flow):
    """The village applies to lease out an asset that is free; the spine decides; implementation
    enters the lease with its rent schedule and marks the asset leased."""

    process_title = gettext_lazy("Asset leasing")
    transaction_type = TransactionType.LEASING
    application_form_class = LeasingApplicationForm
    detail_template = "flows/details/leasing.html"

    def form_kwargs(self, organization) -> dict:
        return {"organization": organization}

    def clean_application(self, *, organization, rule_version, data, matter=None) -> Decimal:
        missing = [field for field in FIELDS if data.get(field) in (None, "")]
        if missing:
            raise ValidationError({field: _("This field is required.") for field in missing})
        asset = data["asset"]
        if asset.organization_id != organization.pk:
            raise ValidationError({"asset": _("The asset does not belong to this collective.")})
        if asset.status in (AssetStatus.LEASED, AssetStatus.DISPOSED):
            raise ValidationError({"asset": asset_unavailable_message(asset)})
        if message := asset_running_matter_message(asset, excluding=matter):
            raise ValidationError({"asset": message})
        start, end = data["start_date"], data["end_date"]
        if end <= start:
            raise ValidationError({"end_date": _("The term must end after it starts.")})
        if data["frequency"] not in PaymentFrequency.values:
            raise ValidationError({"frequency": _("Choose how the rent is paid.")})
        annual_rent = Decimal(data["annual_rent"])
        if annual_rent <= 0:
            raise ValidationError({"annual_rent": _("The annual rent must be more than zero.")})
        total = contract_total(start_date=start, end_date=end, annual_amount=annual_rent)
        # 应进必进: from the threshold the lease must go through the public trading platform.
        if total >= rule_version.trading_threshold and not (data.get("trading_reference") or "").strip():
            raise ValidationError(
                {
                    "trading_reference": _(
                        "From %(threshold)s yuan of total rent the matter must carry the trading platform reference."
                    )
                    % {"threshold": rule_version.trading_threshold}
                }
            )
        return total

    def reserve(self, *, matter, data) -> None:
        # Checked again under the asset's row lock: of two applications at once, the second is refused here.
        asset_reserve(matter=matter, asset=data["asset"])

    def save_application(self, *, matter, data, new: bool = False) -> None:
        self.application_row(
            Leasing,
            matter=matter,
            new=new,
            values={
                "asset": data["asset"],
                "lessee": data["lessee"].strip(),
                "start_date": data["start_date"],
                "end_date": data["end_date"],
                "annual_rent": data["annual_rent"],
                "frequency": data["frequency"],
                "trading_reference": (data.get("trading_reference") or "").strip(),
            },
        )

    def application_data(self, matter) -> dict:
        leasing = matter.leasing
        return {
            "title": matter.title,
            "asset": leasing.asset,
            "lessee": leasing.lessee,
            "start_date": leasing.start_date,
            "end_date": leasing.end_date,
            "annual_rent": leasing.annual_rent,
            "frequency": leasing.frequency,
            "trading_reference": leasing.trading_reference,
        }

    def history_querysets(self, matter) -> list:
        return [matter.leasing.history.all(), Contract.history.filter(matter_id=matter.pk)]

    def register_effect(self, *, matter, user, data) -> None:
        leasing = matter.leasing
        contract_create(
            organization=matter.organization,
            kind=ContractKind.LEASE,
            counterparty=leasing.lessee,
            start_date=leasing.start_date,
            end_date=leasing.end_date,
            amount=matter.amount,
            schedule=payment_schedule(leasing.start_date, leasing.end_date, leasing.annual_rent, leasing.frequency),
            asset=leasing.asset,
            trading_reference=leasing.trading_reference,
            matter=matter,
        )
