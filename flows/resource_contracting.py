"""Resource contracting (资源发包): a resource, a contractor, a term and a fee; a contract when implemented."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from viewflow.workflow import flow

from forms.resource_contracting import ResourceContractingApplicationForm
from organizations.models import TransactionType
from registers.contracts import (
    contract_create,
    contract_total,
    overlapping_contracts,
    payment_schedule,
    resource_taken_message,
)
from registers.models import Contract, ContractKind, Resource
from registers.reservations import resource_term_reserve

from .models import ContractingMethod, MatterStatus, PaymentFrequency, ResourceContracting
from .spine import Spine

FIELDS = ("resource", "contractor", "start_date", "end_date", "reserve_price", "annual_fee", "method")


def running_contractings(resource: Resource, start, end, *, excluding=None):
    """Running contracting matters on the resource whose term overlaps ``start``–``end`` (but ``excluding``)."""
    contractings = ResourceContracting.objects.filter(
        resource=resource, matter__status=MatterStatus.IN_PROGRESS, start_date__lte=end, end_date__gte=start
    ).select_related("matter")
    if excluding is not None:
        contractings = contractings.exclude(matter=excluding)
    return contractings


class ResourceContractingFlow(Spine, flow.Flow):
    """The village applies to contract out a resource at a fee no lower than its reserve price; the
    spine decides; implementation enters the contract and marks the resource contracted."""

    process_title = gettext_lazy("Resource contracting")
    transaction_type = TransactionType.RESOURCE_CONTRACTING
    application_form_class = ResourceContractingApplicationForm
    detail_template = "flows/details/resource_contracting.html"

    def form_kwargs(self, organization) -> dict:
        return {"organization": organization}

    def clean_application(self, *, organization, rule_version, data, matter=None) -> Decimal:
        missing = [field for field in FIELDS if data.get(field) in (None, "")]
        if missing:
            raise ValidationError({field: _("This field is required.") for field in missing})
        resource = data["resource"]
        if resource.organization_id != organization.pk:
            raise ValidationError({"resource": _("The resource does not belong to this collective.")})
        start, end = data["start_date"], data["end_date"]
        if end <= start:
            raise ValidationError({"end_date": _("The term must end after it starts.")})
        if data["method"] not in ContractingMethod.values:
            raise ValidationError({"method": _("Choose how the resource is contracted out.")})
        reserve_price, annual_fee = Decimal(data["reserve_price"]), Decimal(data["annual_fee"])
        if reserve_price <= 0:
            raise ValidationError({"reserve_price": _("The reserve price must be more than zero.")})
        if annual_fee < reserve_price:
            raise ValidationError(
                {
                    "annual_fee": _("The annual fee (%(fee)s) is below the reserve price (%(reserve)s).")
                    % {"fee": annual_fee, "reserve": reserve_price}
                }
            )
        taken = overlapping_contracts(resource, start, end).first()
        if taken is not None:
            raise ValidationError({"resource": resource_taken_message(taken)})
        running = running_contractings(resource, start, end, excluding=matter).first()
        if running is not None:
            raise ValidationError(
                {
                    "resource": _(
                        "%(resource)s is already in a running contracting matter (%(title)s) for an overlapping term."
                    )
                    % {"resource": resource, "title": running.matter.title}
                }
            )
        total = contract_total(start_date=start, end_date=end, annual_amount=annual_fee)
        if total >= rule_version.trading_threshold:
            # 应进必进: from the threshold the deal must go through the public trading platform.
            if data["method"] != ContractingMethod.PUBLIC_BIDDING:
                raise ValidationError(
                    {
                        "method": _(
                            "From %(threshold)s yuan a resource must be contracted by public bidding "
                            "on the trading platform."
                        )
                        % {"threshold": rule_version.trading_threshold}
                    }
                )
            if not (data.get("trading_reference") or "").strip():
                raise ValidationError(
                    {
                        "trading_reference": _(
                            "From %(threshold)s yuan the matter must carry the trading platform reference."
                        )
                        % {"threshold": rule_version.trading_threshold}
                    }
                )
        return total

    def reserve(self, *, matter, data) -> None:
        # Checked again under the resource's row lock: of two applications at once, the second is refused here.
        resource_term_reserve(
            matter=matter, resource=data["resource"], start_date=data["start_date"], end_date=data["end_date"]
        )

    def save_application(self, *, matter, data, new: bool = False) -> None:
        self.application_row(
            ResourceContracting,
            matter=matter,
            new=new,
            values={
                "resource": data["resource"],
                "contractor": data["contractor"].strip(),
                "start_date": data["start_date"],
                "end_date": data["end_date"],
                "reserve_price": data["reserve_price"],
                "annual_fee": data["annual_fee"],
                "method": data["method"],
                "trading_reference": (data.get("trading_reference") or "").strip(),
            },
        )

    def application_data(self, matter) -> dict:
        contracting = matter.resource_contracting
        return {
            "title": matter.title,
            "resource": contracting.resource,
            "contractor": contracting.contractor,
            "start_date": contracting.start_date,
            "end_date": contracting.end_date,
            "reserve_price": contracting.reserve_price,
            "annual_fee": contracting.annual_fee,
            "method": contracting.method,
            "trading_reference": contracting.trading_reference,
        }

    def history_querysets(self, matter) -> list:
        return [matter.resource_contracting.history.all(), Contract.history.filter(matter_id=matter.pk)]

    def register_effect(self, *, matter, user, data) -> None:
        contracting = matter.resource_contracting
        contract_create(
            organization=matter.organization,
            kind=ContractKind.CONTRACTING,
            counterparty=contracting.contractor,
            start_date=contracting.start_date,
            end_date=contracting.end_date,
            amount=matter.amount,
            schedule=payment_schedule(
                contracting.start_date, contracting.end_date, contracting.annual_fee, PaymentFrequency.YEARLY
            ),
            resource=contracting.resource,
            trading_reference=contracting.trading_reference,
            matter=matter,
        )
