"""Asset purchase (资产购置): items, quotations, and asset cards when implemented."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from viewflow.workflow import flow

from forms.asset_purchase import AssetPurchaseApplicationForm
from organizations.models import TransactionType
from registers.assets import asset_cards_create

from .models import AssetPurchase, PurchaseItem, Quotation
from .services import rows_create
from .spine import Spine


class AssetPurchaseFlow(Spine, flow.Flow):
    """The village applies to buy assets with quotations; the spine decides; implementation
    adds the bought items to the asset register."""

    process_title = gettext_lazy("Asset purchase")
    transaction_type = TransactionType.ASSET_PURCHASE
    application_form_class = AssetPurchaseApplicationForm
    detail_template = "flows/details/asset_purchase.html"

    def clean_application(self, *, organization, rule_version, data, matter=None) -> Decimal:
        items = data.get("items") or []
        if not items:
            raise ValidationError(_("List at least one item to buy."))
        total = sum((Decimal(item["unit_price"]) * int(item["quantity"]) for item in items), Decimal("0"))
        if total <= 0:
            raise ValidationError(_("The total must be more than zero."))
        declared = Decimal(data["total"])
        if declared != total:
            raise ValidationError(
                {
                    "total": _("The total (%(declared)s) is not the sum of the items (%(total)s).")
                    % {"declared": declared, "total": total}
                }
            )
        quotations = data.get("quotations") or []
        suppliers = {quotation["supplier"].strip() for quotation in quotations}
        if total >= rule_version.quotation_threshold and len(suppliers) < rule_version.quotations_required:
            raise ValidationError(
                _("From %(threshold)s yuan at least %(count)s quotations from different suppliers are required.")
                % {"threshold": rule_version.quotation_threshold, "count": rule_version.quotations_required}
            )
        if suppliers and data["chosen_supplier"].strip() not in suppliers:
            raise ValidationError({"chosen_supplier": _("The chosen supplier must be one of the quotations.")})
        return total

    def save_application(self, *, matter, data, new: bool = False) -> None:
        purchase = self.application_row(
            AssetPurchase,
            matter=matter,
            new=new,
            values={
                "funding_source": data["funding_source"],
                "reason": data["reason"],
                "chosen_supplier": data["chosen_supplier"].strip(),
            },
        )
        if not new:
            purchase.items.all().delete()
            purchase.quotations.all().delete()
        # One INSERT for the lines, one for their history, their leaves with the step's.
        rows_create(PurchaseItem, [PurchaseItem(purchase=purchase, **item) for item in data["items"]])
        rows_create(
            Quotation,
            [
                Quotation(purchase=purchase, supplier=quotation["supplier"].strip(), amount=quotation["amount"])
                for quotation in data.get("quotations") or []
            ],
        )

    def application_data(self, matter) -> dict:
        purchase = matter.asset_purchase
        return {
            "title": matter.title,
            "reason": purchase.reason,
            "funding_source": purchase.funding_source,
            "chosen_supplier": purchase.chosen_supplier,
            "total": matter.amount,
            "items": [
                {"name": i.name, "category": i.category, "quantity": i.quantity, "unit_price": i.unit_price}
                for i in purchase.items.all()
            ],
            "quotations": [{"supplier": q.supplier, "amount": q.amount} for q in purchase.quotations.all()],
        }

    def history_querysets(self, matter) -> list:
        """History of the application rows, including lines a revision removed."""
        purchase = matter.asset_purchase
        return [
            purchase.history.all(),
            PurchaseItem.history.filter(purchase_id=purchase.pk),
            Quotation.history.filter(purchase_id=purchase.pk),
        ]

    def register_effect(self, *, matter, user, data) -> None:
        # The lines of the matter's purchase in one query: the purchase row itself is not needed.
        items = list(PurchaseItem.objects.filter(purchase__matter=matter))
        asset_cards_create(matter=matter, items=items, acquired_on=timezone.localdate())
