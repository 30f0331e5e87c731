"""Equity transfer (股权转让): inheritance, gift, internal transfer or collective redemption of shares."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from viewflow.workflow import flow

from forms.equity_transfer import EquityTransferApplicationForm
from organizations.models import TransactionType
from registers.models import Member, MemberStatus, ShareKind
from registers.reservations import shares_reserve, shares_reserved
from registers.shares import holdings, more_than_held_error, shares_transfer

from .models import EquityTransfer, EquityTransferKind, Step
from .spine import Spine

PRICED_KINDS = {EquityTransferKind.INTERNAL_TRANSFER, EquityTransferKind.REDEMPTION}


def _member(value, organization, statuses) -> Member | None:
    """The member a form or a caller named (object or pk), if they belong to the collective with that status."""
    if value in (None, ""):
        return None
    pk = value.pk if isinstance(value, Member) else value
    return Member.objects.filter(pk=pk, organization=organization, status__in=statuses).first()


def _pk(value):
    return value.pk if isinstance(value, Member) else (value or None)


class EquityTransferFlow(Spine, flow.Flow):
    """The village applies to move shares from one member to another, or for the collective to redeem
    them; the spine decides; implementation writes the share ledger and re-issues the certificates."""

    process_title = gettext_lazy("Equity transfer")
    transaction_type = TransactionType.EQUITY_TRANSFER
    application_form_class = EquityTransferApplicationForm
    detail_template = "flows/details/equity_transfer.html"

    def form_kwargs(self, organization) -> dict:
        return {"organization": organization}

    def clean_application(self, *, organization, rule_version, data, matter=None) -> Decimal:
        kind = data.get("kind")
        if kind not in EquityTransferKind.values:
            raise ValidationError({"kind": _("Choose the kind of transfer.")})
        share_kind = data.get("share_kind")
        if share_kind not in ShareKind.values:
            raise ValidationError({"share_kind": _("Choose a share kind.")})
        shares = int(data.get("shares") or 0)
        if shares < 1:
            raise ValidationError({"shares": _("Transfer at least one share.")})
        price = Decimal(data.get("price") or 0)
        if price < 0:
            raise ValidationError({"price": _("The price cannot be negative.")})
        if price and kind not in PRICED_KINDS:
            raise ValidationError({"price": _("Inheritance and gifts carry no price.")})

        # A deceased holder's shares pass to an heir; every other transfer is between living members.
        holder_statuses = [MemberStatus.ACTIVE]
        if kind == EquityTransferKind.INHERITANCE:
            holder_statuses.append(MemberStatus.DECEASED)
        holder = _member(data.get("from_member"), organization, holder_statuses)
        if holder is None:
            raise ValidationError({"from_member": _("The holder must be an active member of this collective.")})
        if kind == EquityTransferKind.REDEMPTION:
            if data.get("to_member"):
                raise ValidationError(
                    {
                        "to_member": _(
                            "A collective redemption has no receiving member: the collective takes the shares back."
                        )
                    }
                )
        else:
            if not data.get("to_member"):
                raise ValidationError({"to_member": _("Choose the member who receives the shares.")})
            receiver = _member(data["to_member"], organization, [MemberStatus.ACTIVE])
            if receiver is None:
                raise ValidationError(
                    {"to_member": _("Shares can only be transferred to an active member of this collective.")}
                )
            if receiver.pk == holder.pk:
                raise ValidationError({"to_member": _("The receiving member must be someone other than the holder.")})

        held = holdings(holder)[share_kind]
        reserved = shares_reserved(member=holder, kind=share_kind, excluding=matter)
        if shares > held - reserved:
            raise more_than_held_error(member=holder, kind=share_kind, held=held, committed=reserved)
        return price.quantize(Decimal("0.01"))

    def reserve(self, *, matter, data) -> None:
        # Checked again under the holder's row lock: of two applications at once, the second is refused here.
        shares_reserve(
            matter=matter,
            member=Member.objects.get(pk=_pk(data["from_member"])),
            kind=data["share_kind"],
            shares=int(data["shares"]),
        )

    def save_application(self, *, matter, data, new: bool = False) -> None:
        redemption = data["kind"] == EquityTransferKind.REDEMPTION
        self.application_row(
            EquityTransfer,
            matter=matter,
            new=new,
            values={
                "kind": data["kind"],
                "from_member_id": _pk(data["from_member"]),
                "to_member_id": None if redemption else _pk(data["to_member"]),
                "share_kind": data["share_kind"],
                "shares": int(data["shares"]),
                "price": Decimal(data.get("price") or 0),
            },
        )

    def application_data(self, matter) -> dict:
        transfer = matter.equity_transfer
        applied = matter.step_records.filter(step=Step.APPLY).order_by("pk").first()
        return {
            "title": matter.title,
            "kind": transfer.kind,
            "from_member": transfer.from_member_id,
            "to_member": transfer.to_member_id,
            "share_kind": transfer.share_kind,
            "shares": transfer.shares,
            "price": transfer.price,
            "reason": applied.opinion if applied else "",
        }

    def history_querysets(self, matter) -> list:
        return [matter.equity_transfer.history.all()]

    def register_effect(self, *, matter, user, data) -> None:
        shares_transfer(transfer=matter.equity_transfer, matter=matter)
