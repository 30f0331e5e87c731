"""Asset disposal (资产处置): transfer, auction, exchange, write-off or scrapping of an asset card."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from viewflow.workflow import flow

from forms.disposal import DisposalApplicationForm, DisposalImplementationForm
from organizations.models import TransactionType
from registers.disposals import asset_dispose, disposal_blocker
from registers.models import Asset, FundMovement
from registers.reservations import asset_reserve

from .models import Disposal, DisposalMethod
from .selectors import asset_running_matter_message
from .spine import Spine

# The asset goes to someone else: it needs a value and a counterparty.
CHANGES_HANDS = {DisposalMethod.TRANSFER, DisposalMethod.AUCTION, DisposalMethod.EXCHANGE}
BRINGS_MONEY = {DisposalMethod.TRANSFER, DisposalMethod.AUCTION}
# A write-off or scrapping destroys the book value: the band is decided by the larger of it and the appraisal.
WRITES_OFF = {DisposalMethod.WRITE_OFF, DisposalMethod.SCRAPPING}


class DisposalFlow(Spine, flow.Flow):
    """The village applies to dispose of an asset with its appraisal; the spine decides; implementation
    marks the asset card disposed and books the proceeds into the named account."""

    process_title = gettext_lazy("Asset disposal")
    transaction_type = TransactionType.DISPOSAL
    application_form_class = DisposalApplicationForm
    implementation_form_class = DisposalImplementationForm
    detail_template = "flows/details/disposal.html"

    def form_kwargs(self, organization) -> dict:
        return {"organization": organization}

    def clean_application(self, *, organization, rule_version, data, matter=None) -> Decimal:
        asset = data["asset"]
        method = data["method"]
        appraisal_value = Decimal(data["appraisal_value"])
        counterparty = (data.get("counterparty") or "").strip()
        account = data.get("proceeds_account")
        errors = {}
        if asset.organization_id != organization.pk:
            errors["asset"] = _("This asset is not on the register of this collective.")
        elif refusal := disposal_blocker(asset) or asset_running_matter_message(asset, excluding=matter):
            errors["asset"] = refusal
        if method not in DisposalMethod.values:
            errors["method"] = _("Choose a disposal method.")
        if appraisal_value < 0:
            errors["appraisal_value"] = _("The appraised value cannot be negative.")
        elif method in CHANGES_HANDS and appraisal_value == 0:
            errors["appraisal_value"] = _("A transfer, auction or exchange needs an appraised value above zero.")
        if method in CHANGES_HANDS and not counterparty:
            errors["counterparty"] = _("Name the buyer or counterparty of a transfer, auction or exchange.")
        elif account is not None and not counterparty:
            errors["counterparty"] = _("Name who pays the proceeds into the account.")
        if account is None and method in BRINGS_MONEY:
            errors["proceeds_account"] = _("Name the account that receives the proceeds of a transfer or auction.")
        elif account is not None and account.organization_id != organization.pk:
            errors["proceeds_account"] = _("This account belongs to another collective.")
        if errors:
            raise ValidationError(errors)
        if method in WRITES_OFF:
            return max(appraisal_value, asset.original_value)
        return appraisal_value

    def reserve(self, *, matter, data) -> None:
        # Checked again under the asset's row lock: of two applications at once, the second is refused here.
        asset = data["asset"]  # the form's choice, or its key in application_data
        asset_reserve(matter=matter, asset=asset if isinstance(asset, Asset) else Asset.objects.get(pk=asset))

    def save_application(self, *, matter, data, new: bool = False) -> None:
        self.application_row(
            Disposal,
            matter=matter,
            new=new,
            values={
                "asset": data["asset"],
                "method": data["method"],
                "appraisal_value": data["appraisal_value"],
                "appraiser": data["appraiser"].strip(),
                "reason": data["reason"],
                "counterparty": (data.get("counterparty") or "").strip(),
                "proceeds_account": data.get("proceeds_account"),
            },
        )

    def application_data(self, matter) -> dict:
        disposal = matter.disposal
        return {
            "title": matter.title,
            "asset": disposal.asset_id,
            "method": disposal.method,
            "appraisal_value": disposal.appraisal_value,
            "appraiser": disposal.appraiser,
            "reason": disposal.reason,
            "counterparty": disposal.counterparty,
            "proceeds_account": disposal.proceeds_account_id,
        }

    def history_querysets(self, matter) -> list:
        """The application row, the asset card's changes since the matter began, and the proceeds booked."""
        disposal = matter.disposal
        return [
            disposal.history.all(),
            Asset.history.filter(id=disposal.asset_id, history_date__gte=matter.created_at),
            FundMovement.history.filter(matter_id=matter.pk),
        ]

    def register_effect(self, *, matter, user, data) -> None:
        if data.get("proceeds") is None or data.get("disposed_on") is None:
            raise ValidationError(_("Record the actual proceeds and the day of the disposal."))
        disposal = matter.disposal
        asset_dispose(
            asset=disposal.asset,
            matter=matter,
            proceeds=Decimal(data["proceeds"]),
            account=disposal.proceeds_account,
            disposed_on=data["disposed_on"],
            user=user,
            counterparty=disposal.counterparty,
        )
