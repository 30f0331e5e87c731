"""Fund disbursement (资金支出): a payment from an account of the collective, recorded when implemented."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from viewflow.workflow import flow

from forms.fund_disbursement import FundDisbursementApplicationForm, FundPaymentRecordForm
from organizations.models import TransactionType
from registers.funds import fund_balance, insufficient_balance_message, payment_record
from registers.models import FundMovement

from .models import Decision, FundDisbursement, Step
from .spine import Spine

# The register keeps Chinese accounting text whatever language the cashier's browser asks for.
PURPOSE_WITH_VOUCHER = "{purpose}（凭证 {reference}）"


class FundDisbursementFlow(Spine, flow.Flow):
    """The secretary or cashier applies to pay from an account of the collective; the spine decides by the
    amount; implementation records the payment against the account, if the balance still covers it."""

    process_title = gettext_lazy("Fund disbursement")
    transaction_type = TransactionType.FUND_DISBURSEMENT
    application_form_class = FundDisbursementApplicationForm
    implementation_form_class = FundPaymentRecordForm
    detail_template = "flows/details/fund_disbursement.html"

    def form_kwargs(self, organization) -> dict:
        return {"organization": organization}

    def clean_application(self, *, organization, rule_version, data, matter=None) -> Decimal:
        account = data.get("account")
        if account is None:
            raise ValidationError({"account": _("Choose the account to pay from.")})
        if account.organization_id != organization.pk:
            raise ValidationError(
                {
                    "account": _("%(account)s is not an account of %(collective)s.")
                    % {"account": account, "collective": organization}
                }
            )
        amount = Decimal(data["amount"])
        if amount <= 0:
            raise ValidationError({"amount": _("The amount must be more than zero.")})
        balance = fund_balance(account)
        if amount > balance:
            raise ValidationError({"amount": insufficient_balance_message(account, amount, balance)})
        return amount

    def save_application(self, *, matter, data, new: bool = False) -> None:
        self.application_row(
            FundDisbursement,
            matter=matter,
            new=new,
            values={
                "account": data["account"],
                "payee": data["payee"].strip(),
                "purpose": data["purpose"].strip(),
                "budget_line": data["budget_line"].strip(),
            },
        )

    def application_data(self, matter) -> dict:
        disbursement = matter.fund_disbursement
        # The reason has no column of its own: it is the opinion of the application's first record.
        applied = matter.step_records.filter(step=Step.APPLY, decision=Decision.SUBMIT).first()
        return {
            "title": matter.title,
            "account": disbursement.account_id,
            "payee": disbursement.payee,
            "purpose": disbursement.purpose,
            "budget_line": disbursement.budget_line,
            "amount": matter.amount,
            "reason": applied.opinion if applied else "",
        }

    def history_querysets(self, matter) -> list:
        """History of the application and of the payment it recorded."""
        return [
            matter.fund_disbursement.history.all(),
            FundMovement.history.filter(matter_id=matter.pk),
        ]

    def register_effect(self, *, matter, user, data) -> None:
        disbursement = matter.fund_disbursement
        reference = (data.get("reference") or "").strip()
        purpose = disbursement.purpose
        if reference:
            purpose = PURPOSE_WITH_VOUCHER.format(purpose=purpose, reference=reference)
        payment_record(
            account=disbursement.account,
            amount=matter.amount,
            occurred_on=data.get("paid_on") or timezone.localdate(),
            counterparty=disbursement.payee,
            purpose=purpose,
            matter=matter,
            user=user,
        )
