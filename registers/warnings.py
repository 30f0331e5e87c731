"""Early warnings (监督预警): rules that watch the registers and matters, and the handling of what they raise.

Each rule is one small function that looks at the data on a day and raises a red, yellow or green
``EarlyWarning`` for each problem it finds, with the limits of the county rule table in force for the
collective on that day. A warning is unique per rule and subject key, so a rule run twice raises
nothing new, and a warning someone has handled is not raised again for the same subject: each subject
key names one occurrence (a payment, a contract's end date, an account on a day). Every new warning
is announced to the village, the township and the discipline inspectors over the collective, and
stays open until a township officer or leader records how it was handled.
"""

import datetime
import hashlib
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, DecimalField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history

from flows import notifications
from flows.models import (
    SPINE,
    Decision,
    Leasing,
    Matter,
    MatterStatus,
    Notice,
    NotificationKind,
    Objection,
    ResourceContracting,
    Step,
    StepRecord,
)
from flows.notifications import notify
from flows.services import final_township_step
from organizations.jurisdiction import TOWNSHIP_ROLES, require_act, users_holding
from organizations.models import Organization, OrganizationKind, Role, RuleVersion, TransactionType
from organizations.rules import rule_version_in_force

from .contracts import add_months
from .models import (
    AccountKind,
    Asset,
    AssetStatus,
    Contract,
    ContractKind,
    ContractPayment,
    ContractStatus,
    Direction,
    EarlyWarning,
    FundAccount,
    FundMovement,
    WarningLevel,
    WarningRule,
)

logger = logging.getLogger(__name__)

# Who hears of a warning: the village's secretary and supervisor, the township, and the inspectors.
WARNING_AUDIENCE = frozenset(
    {
        Role.VILLAGE_SECRETARY,
        Role.VILLAGE_SUPERVISOR,
        Role.TOWNSHIP_OFFICER,
        Role.TOWNSHIP_LEADER,
        Role.DISCIPLINE_INSPECTOR,
    }
)
SEVERITY = {WarningLevel.GREEN: 0, WarningLevel.YELLOW: 1, WarningLevel.RED: 2}
SPENDING_TYPES = (TransactionType.FUND_DISBURSEMENT, TransactionType.ASSET_PURCHASE)
# A threshold dodged with this many parts or more is no accident: the split-spending warning turns red.
SPLIT_MANY_PARTS = 3
# Rent this many days past its due date is red, whatever the county's grace period.
RENT_RED_DAYS = 90
MONEY = DecimalField(max_digits=16, decimal_places=2)
ZERO = Decimal("0.00")
CENT = Decimal("0.01")

RulesOn = Callable[[Organization], RuleVersion | None]

# What each rule watches and why, as the warning pages explain it (the limits are the county's rule table).
RULE_EXPLANATIONS = {
    WarningRule.PAYMENT_WITHOUT_APPROVAL: gettext_lazy(
        "A payment from a collective account with no matter behind it, for a matter not yet approved, or dated "
        "before the approval (paying first, approving later)."
    ),
    WarningRule.SPLIT_SPENDING: gettext_lazy(
        "Spending matters of one collective to one payee or for one purpose within the county's window, each under "
        "an amount that needs more steps, which together reach it."
    ),
    WarningRule.CASH_OVER_LIMIT: gettext_lazy(
        "A cash account holding more than the county's cash limit; red at more than twice the limit."
    ),
    WarningRule.CONTRACT_EXPIRING: gettext_lazy(
        "A contract in force ending within the county's notice days (green), or ended but still marked in force "
        "(yellow)."
    ),
    WarningRule.RENT_OVERDUE: gettext_lazy(
        "An instalment of a contract unpaid longer than the county's grace days after it fell due; red after 90 days."
    ),
    WarningRule.ASSET_IDLE: gettext_lazy("An asset idle for longer than the county's limit."),
    WarningRule.OFF_PLATFORM_TRADING: gettext_lazy(
        "A contracting or lease contract reaching the county's trading threshold without a reference of the rural "
        "property trading platform."
    ),
    WarningRule.OBJECTION_UNHANDLED: gettext_lazy(
        "A notice whose objection period is over while an objection to it is still not handled; a notice that drew "
        "no objection, or only handled ones, never raises it."
    ),
    WarningRule.OBJECTION_SURGE: gettext_lazy(
        "So many objections to one notice within an hour that the township should help the supervisor sort them."
    ),
    WarningRule.LEDGER_FORK: gettext_lazy(
        "A witness holds two signed heads of the tamper-evident log that cannot both be true."
    ),
    WarningRule.LEDGER_CHECK_FAILED: gettext_lazy(
        "The whole-log check (every 15 minutes, nightly with the stored files) found an entry or a record that no "
        "longer matches the tamper-evident log."
    ),
    WarningRule.EVIDENCE_REUSED: gettext_lazy(
        "The same file (same SHA-256 fingerprint) attached as evidence to different matters, such as a quotation or "
        "receipt used twice; the minutes scan of one meeting shared by the matters it decided does not count."
    ),
    WarningRule.TERM_OVER_LIMIT: gettext_lazy(
        "A leasing or resource contracting application, or a contract in force, with a term over 20 years: Civil "
        "Code art. 705 makes the part beyond 20 years void."
    ),
    WarningRule.APPROVED_WITHOUT_EVIDENCE: gettext_lazy(
        "A township approval of a matter from the county's amount whose application carries no evidence file; "
        "yellow when the approver confirmed it on the approval page, red otherwise."
    ),
}


class WarningAlreadyHandled(Exception):
    """Someone recorded the handling first: nothing was changed."""


# --- raising and handling -------------------------------------------------------------


def warning_url(warning: EarlyWarning) -> str:
    return reverse("registers:warning_detail", args=[warning.pk])


def warning_raise(
    *,
    rule: str,
    level: str,
    organization: Organization,
    subject_key: str,
    title: str,
    detail: str = "",
    matter: Matter | None = None,
    url: str = "",
    causes: list[dict[str, str]] | None = None,
) -> EarlyWarning | None:
    """Raise the warning for this subject once, or raise the level of its open warning; None if nothing is new.

    Race-safe: two sweeps raising the same subject at once meet at the unique constraint, and only the
    one that created the row announces it. Inside ``raising_in_bulk`` (the sweep) the warning is only
    gathered, and written with the others when the sweep ends."""
    if _bulk.pending is not None:
        return _bulk.gather(
            rule=rule,
            level=level,
            organization=organization,
            subject_key=subject_key,
            title=title,
            detail=detail,
            matter=matter,
            url=url,
            causes=causes or [],
        )
    with transaction.atomic():
        warning, created = EarlyWarning.objects.get_or_create(
            rule=rule,
            subject_key=subject_key[:100],
            defaults={
                "level": level,
                "organization": organization,
                "title": title[:200],
                "detail": detail,
                "matter": matter,
                "url": url,
                "causes": causes or [],
            },
        )
        if not created:
            warning = EarlyWarning.objects.select_for_update().get(pk=warning.pk)
            # A handled warning stays handled; an open one only ever gets more serious.
            if not warning.is_open or SEVERITY[level] <= SEVERITY[warning.level]:
                return None
            warning.level = level
            warning.title = title[:200]
            warning.detail = detail
            warning.causes = causes or warning.causes
            warning.save(update_fields=["level", "title", "detail", "causes"])
        _announce(warning)
    return warning


def cause(label: str, url: str) -> dict[str, str]:
    """One thing a warning rests on, as its page links it: a matter, a file, a contract."""
    return {"label": str(label)[:200], "url": url}


def _matter_cause(matter: Matter) -> dict[str, str]:
    facts = {"title": matter.title, "status": matter.get_status_display()}
    return cause(_("Matter: %(title)s (%(status)s)") % facts, matter.get_absolute_url())


def _announce(warning: EarlyWarning, audience=None) -> None:
    notify(
        users_holding(warning.organization, WARNING_AUDIENCE) if audience is None else audience,
        kind=NotificationKind.WARNING,
        title=_("%(level)s warning: %(title)s") % {"level": warning.get_level_display(), "title": warning.title},
        body=warning.detail,
        url=warning_url(warning),
        matter=warning.matter,
        data={"warning": warning.pk, "level": warning.level, "rule": warning.rule},
    )


class _Bulk(threading.local):
    """The warnings a sweep raises, gathered to be written together (``raising_in_bulk``)."""

    pending: dict | None = None

    def gather(self, **raised) -> EarlyWarning:
        raised["subject_key"] = raised["subject_key"][:100]
        key = (raised["rule"], raised["subject_key"])
        earlier = self.pending.get(key)
        if earlier is None or SEVERITY[raised["level"]] > SEVERITY[earlier["level"]]:
            self.pending[key] = raised
        return EarlyWarning(rule=raised["rule"], subject_key=raised["subject_key"], level=raised["level"])


_bulk = _Bulk()


def raising_in_bulk(run: Callable[[], object]) -> list[EarlyWarning]:
    """Run ``run`` (the rules) gathering every warning they raise, then write them together: the new ones
    and their history rows in one INSERT each, their notifications in one, the audience read once per
    collective. Returns the warnings raised or made more serious, as ``warning_raise`` would have.

    A subject that already has a warning (to be made more serious, or nothing) and a subject a concurrent
    sweep raised meanwhile take ``warning_raise``'s own path, one by one."""
    _bulk.pending = {}
    try:
        run()
        pending = list(_bulk.pending.values())
    finally:
        _bulk.pending = None
    if not pending:
        return []
    existing = set(
        EarlyWarning.objects.filter(
            rule__in={item["rule"] for item in pending}, subject_key__in={item["subject_key"] for item in pending}
        ).values_list("rule", "subject_key")
    )
    fresh = [item for item in pending if (item["rule"], item["subject_key"]) not in existing]
    known = [item for item in pending if (item["rule"], item["subject_key"]) in existing]
    raised: dict[tuple[str, str], EarlyWarning | None] = {}
    with transaction.atomic(), notifications.batched():
        try:
            with transaction.atomic():
                rows = bulk_create_with_history(
                    [
                        EarlyWarning(
                            **{name: value for name, value in item.items() if name != "title"},
                            title=item["title"][:200],
                        )
                        for item in fresh
                    ],
                    EarlyWarning,
                )
        except IntegrityError:  # another sweep raised some of them meanwhile
            known, rows = pending, []
        audiences = {}
        for warning in rows:
            organization = warning.organization
            if organization.pk not in audiences:
                audiences[organization.pk] = list(
                    users_holding(organization, WARNING_AUDIENCE).values_list("pk", flat=True)
                )
            _announce(warning, audiences[organization.pk])
            raised[(warning.rule, warning.subject_key)] = warning
    for item in known:
        raised[(item["rule"], item["subject_key"])] = warning_raise(**item)
    # In the order the rules raised them.
    return _raised(raised.get((item["rule"], item["subject_key"])) for item in pending)


@transaction.atomic
def warning_handle(*, user, warning_id: int, handling: str) -> EarlyWarning:
    """A township officer or leader records how the warning was handled, which closes it."""
    warning = EarlyWarning.objects.select_related("organization").get(pk=warning_id)
    require_act(user, warning.organization, TOWNSHIP_ROLES)
    if not handling.strip():
        raise ValidationError({"handling": _("Record how the warning was handled.")})
    warning = EarlyWarning.objects.select_for_update().get(pk=warning.pk)
    if not warning.is_open:
        raise WarningAlreadyHandled(_("This warning has already been handled; nothing was changed."))
    warning.handled_at = timezone.now()
    warning.handled_by = user
    warning.handling = handling.strip()
    warning.full_clean()
    warning.save()
    return warning


# --- what the rules share ---------------------------------------------------------------


def rules_on(today: datetime.date) -> RulesOn:
    """The rule version in force for a collective's county on the day, each county's read once."""
    counties = {county.pk: county for county in Organization.objects.filter(kind=OrganizationKind.COUNTY)}
    versions: dict[int, RuleVersion | None] = {}

    def rules_for(organization: Organization) -> RuleVersion | None:
        county_id = next((pk for pk in organization.ancestor_ids() if pk in counties), None)
        if county_id is None:
            return None
        if county_id not in versions:
            try:
                versions[county_id] = rule_version_in_force(county=counties[county_id], on_date=today)
            except ValidationError:
                # A county without a rule table has no limits to break; the sweep goes on elsewhere.
                logger.warning("no rule version in force for county %s on %s", county_id, today)
                versions[county_id] = None
        return versions[county_id]

    return rules_for


def _known(rule: str) -> dict[str, tuple[str, bool]]:
    """Subject keys the rule has raised: (level, still open), so a sweep skips what is old news."""
    rows = EarlyWarning.objects.filter(rule=rule).values_list("subject_key", "level", "handled_at")
    return {key: (level, handled_at is None) for key, level, handled_at in rows}


def _is_news(known: dict, subject_key: str, level: str) -> bool:
    if subject_key not in known:
        return True
    old_level, is_open = known[subject_key]
    return is_open and SEVERITY[level] > SEVERITY[old_level]


def _raised(warnings: Iterable[EarlyWarning | None]) -> list[EarlyWarning]:
    return [warning for warning in warnings if warning is not None]


def _scan_cutoff(today: datetime.date) -> datetime.datetime:
    """The moment a scan of ``today`` looks from: now, or the end of a day other than today."""
    if today == timezone.localdate():
        return timezone.now()
    return timezone.make_aware(datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time.min))


def _local_date(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment).date()


# --- 1. payment without approval, or before it (先付后批) --------------------------------


def _last_approval(**step_filter) -> Subquery:
    records = StepRecord.objects.filter(matter=OuterRef("matter"), **step_filter).order_by("-acted_at", "-pk")
    return Subquery(records.values("acted_at")[:1])


def approved_at(movement: FundMovement) -> datetime.datetime | None:
    """When the payment's matter completed its approval chain, from the annotations of ``_payments``."""
    matter = movement.matter
    if matter is None or matter.status in (MatterStatus.REJECTED, MatterStatus.WITHDRAWN):
        return None
    final = final_township_step(matter)
    if final == Step.APPROVE_BY_TOWNSHIP:
        return movement.township_approved_at
    if final == Step.CHECK_BY_TOWNSHIP:
        return movement.township_checked_at
    # A path without township review: the village's last decision before implementation approves it.
    return movement.village_approved_at


def _payments(today: datetime.date) -> QuerySet:
    before_implementation = SPINE[: SPINE.index(Step.IMPLEMENT)]
    return (
        FundMovement.objects.filter(direction=Direction.OUT, occurred_on__lte=today)
        .select_related("account__organization", "matter")
        .annotate(
            township_approved_at=_last_approval(step=Step.APPROVE_BY_TOWNSHIP, decision=Decision.AGREE),
            township_checked_at=_last_approval(step=Step.CHECK_BY_TOWNSHIP, decision=Decision.AGREE),
            village_approved_at=_last_approval(
                step__in=before_implementation,
                decision__in=[Decision.AGREE, Decision.PASSED, Decision.DONE],
            ),
        )
        .order_by("pk")
    )


def payments_without_approval(
    today: datetime.date, *, rules: RulesOn | None = None, movements: QuerySet | None = None
) -> list[EarlyWarning]:
    """Red: a payment with no matter, whose matter is not approved, or dated before the approval."""
    rule = WarningRule.PAYMENT_WITHOUT_APPROVAL
    known = _known(rule)
    payments = _payments(today)
    if movements is not None:
        payments = payments.filter(pk__in=movements.values("pk"))
    raised = []
    for payment in payments:
        subject_key = f"movement:{payment.pk}"
        if subject_key in known:
            continue
        approval = approved_at(payment)
        facts = {
            "amount": payment.amount,
            "counterparty": payment.counterparty,
            "date": payment.occurred_on,
            "account": payment.account,
        }
        if payment.matter is None:
            title = _("Payment of %(amount)s yuan to %(counterparty)s with no approved matter") % facts
            detail = _("Paid on %(date)s from %(account)s without any matter approving it.") % facts
        elif approval is None:
            facts["matter"] = payment.matter.title
            title = _("Payment of %(amount)s yuan to %(counterparty)s before its matter was approved") % facts
            detail = _("Paid on %(date)s from %(account)s; the matter %(matter)s has not completed its approval.") % (
                facts
            )
        elif payment.occurred_on < _local_date(approval):
            facts.update(matter=payment.matter.title, approved=_local_date(approval))
            title = _("Payment of %(amount)s yuan to %(counterparty)s made before approval") % facts
            detail = _("Paid on %(date)s from %(account)s; the matter %(matter)s was approved on %(approved)s.") % facts
        else:
            continue
        raised.append(
            warning_raise(
                rule=rule,
                level=WarningLevel.RED,
                organization=payment.account.organization,
                subject_key=subject_key,
                title=title,
                detail=detail,
                matter=payment.matter,
                url=payment.account.get_absolute_url(),
            )
        )
    return _raised(raised)


# --- 2. spending split to stay under a threshold -------------------------------------------


def _spending_keys(matter: Matter) -> list[tuple[str, str]]:
    """(what, value) pairs two parts of one split purchase or payment would share: the payee and the purpose."""
    if matter.transaction_type == TransactionType.FUND_DISBURSEMENT:
        disbursement = getattr(matter, "fund_disbursement", None)
        values = [("payee", disbursement.payee), ("purpose", disbursement.purpose)] if disbursement else []
    else:
        purchase = getattr(matter, "asset_purchase", None)
        values = [("payee", purchase.chosen_supplier), ("purpose", purchase.reason)] if purchase else []
    return [(what, " ".join(value.split())) for what, value in values if value.strip()]


def split_thresholds(version: RuleVersion, transaction_type: str) -> list[Decimal]:
    """Amounts at which a matter needs more steps: every band boundary, and for purchases the quotations."""
    thresholds = set(
        version.bands.filter(transaction_type=transaction_type, min_amount__gt=0).values_list("min_amount", flat=True)
    )
    if transaction_type == TransactionType.ASSET_PURCHASE:
        thresholds.add(version.quotation_threshold)
    return sorted(thresholds, reverse=True)


def _split_group(parts: list[Matter], start: int, window_days: int, thresholds: list[Decimal]):
    """The parts, from ``parts[start]`` on, that together reach a threshold each of them stays under."""
    first_day = _local_date(parts[start].created_at)
    window = [matter for matter in parts[start:] if (_local_date(matter.created_at) - first_day).days <= window_days]
    for threshold in thresholds:
        if parts[start].amount >= threshold:
            continue
        under = [matter for matter in window if matter.amount < threshold]
        if len(under) >= 2 and sum((matter.amount for matter in under), ZERO) >= threshold:
            return threshold, under
    return None, []


def split_spending(today: datetime.date, *, rules: RulesOn | None = None) -> list[EarlyWarning]:
    """Yellow (red with many parts): spending matters of one collective to one payee or for one purpose,
    within the county's window, each under a threshold that together they reach."""
    rule = WarningRule.SPLIT_SPENDING
    rules = rules or rules_on(today)
    known = _known(rule)
    matters = (
        Matter.objects.filter(transaction_type__in=SPENDING_TYPES, created_at__lte=_scan_cutoff(today))
        .exclude(status__in=[MatterStatus.WITHDRAWN, MatterStatus.REJECTED])
        .select_related("organization", "fund_disbursement", "asset_purchase")
        .order_by("created_at", "pk")
    )
    groups: dict[tuple, list[Matter]] = defaultdict(list)
    for matter in matters:
        for what, value in _spending_keys(matter):
            groups[(matter.organization_id, matter.transaction_type, what, value)].append(matter)
    raised = []
    flagged: list[set[int]] = []
    # Bands read once per rule version and type: a sweep over many groups reads them a handful of times.
    thresholds_of: dict[tuple[int, str], list[Decimal]] = {}
    # Payee groups first: when the same parts share payee and purpose, one warning names them.
    for (_organization_id, transaction_type, what, value), parts in sorted(groups.items(), key=lambda item: item[0]):
        version = rules(parts[0].organization)
        if version is None or len(parts) < 2:
            continue
        key = (version.pk, transaction_type)
        if key not in thresholds_of:
            thresholds_of[key] = split_thresholds(version, transaction_type)
        thresholds = thresholds_of[key]
        for start in range(len(parts) - 1):
            threshold, group = _split_group(parts, start, version.split_window_days, thresholds)
            ids = {matter.pk for matter in group}
            if threshold is None or parts[start].pk not in ids or any(ids <= seen for seen in flagged):
                continue
            flagged.append(ids)
            level = WarningLevel.RED if len(group) >= SPLIT_MANY_PARTS else WarningLevel.YELLOW
            digest = hashlib.sha1(value.encode()).hexdigest()[:12]
            subject_key = f"split:{transaction_type}:{what}:{digest}:{parts[start].pk}"
            if not _is_news(known, subject_key, level):
                continue
            facts = {
                "count": len(group),
                "total": sum((matter.amount for matter in group), ZERO),
                "threshold": threshold,
                "value": value,
                "days": version.split_window_days,
            }
            title = (
                _("%(count)s payments to %(value)s add up to %(total)s yuan, each under %(threshold)s")
                if what == "payee"
                else _("%(count)s matters for %(value)s add up to %(total)s yuan, each under %(threshold)s")
            ) % facts
            detail = "\n".join(
                [_("Applied within %(days)s days:") % facts]
                + [
                    f"{_local_date(matter.created_at)} {matter.title} {matter.amount} ({matter.get_status_display()})"
                    for matter in group
                ]
            )
            raised.append(
                warning_raise(
                    rule=rule,
                    level=level,
                    organization=parts[start].organization,
                    subject_key=subject_key,
                    title=title,
                    detail=detail,
                    matter=group[-1],
                    url=group[-1].get_absolute_url(),
                    causes=[_matter_cause(matter) for matter in group],
                )
            )
    return _raised(raised)


# --- 3. cash on hand over the limit (现金库存超限) -------------------------------------------


def cash_over_limit(
    today: datetime.date, *, rules: RulesOn | None = None, accounts: QuerySet | None = None
) -> list[EarlyWarning]:
    """Yellow (red over twice the limit): a cash account holding more than the county's cash limit, per day."""
    rule = WarningRule.CASH_OVER_LIMIT
    rules = rules or rules_on(today)
    known = _known(rule)
    cash = (accounts if accounts is not None else FundAccount.objects.all()).filter(kind=AccountKind.CASH)
    cash = (
        cash.select_related("organization")
        .annotate(
            income=Sum("movements__amount", filter=Q(movements__direction=Direction.IN), default=ZERO),
            payments=Sum("movements__amount", filter=Q(movements__direction=Direction.OUT), default=ZERO),
        )
        .annotate(balance=ExpressionWrapper(F("opening_balance") + F("income") - F("payments"), output_field=MONEY))
        .order_by("pk")
    )
    raised = []
    for account in cash:
        version = rules(account.organization)
        if version is None or account.balance <= version.cash_limit:
            continue
        level = WarningLevel.RED if account.balance > 2 * version.cash_limit else WarningLevel.YELLOW
        subject_key = f"cash:{account.pk}:{today.isoformat()}"
        if not _is_news(known, subject_key, level):
            continue
        balance = account.balance.quantize(CENT)
        facts = {"account": account, "balance": balance, "limit": version.cash_limit, "date": today}
        raised.append(
            warning_raise(
                rule=rule,
                level=level,
                organization=account.organization,
                subject_key=subject_key,
                title=_("Cash on hand %(balance)s yuan is over the limit of %(limit)s yuan") % facts,
                detail=_("%(account)s held %(balance)s yuan on %(date)s; the county's limit is %(limit)s yuan.")
                % facts,
                url=account.get_absolute_url(),
            )
        )
    return _raised(raised)


# --- 4. contracts about to expire, and rent overdue (合同到期、租金逾期) -------------------------


def contracts_expiring(
    today: datetime.date, *, rules: RulesOn | None = None, contracts: QuerySet | None = None
) -> list[EarlyWarning]:
    """Green: a contract in force ending within the county's notice days; yellow: ended but still in force."""
    rule = WarningRule.CONTRACT_EXPIRING
    rules = rules or rules_on(today)
    known = _known(rule)
    in_force = (contracts if contracts is not None else Contract.objects.all()).filter(status=ContractStatus.ACTIVE)
    raised = []
    for contract in in_force.select_related("organization", "matter").order_by("end_date", "pk"):
        version = rules(contract.organization)
        if version is None:
            continue
        facts = {"code": contract.code, "counterparty": contract.counterparty, "end": contract.end_date}
        if contract.end_date < today:
            level, subject_key = WarningLevel.YELLOW, f"contract:{contract.pk}:ended:{contract.end_date}"
            title = _("Contract %(code)s with %(counterparty)s ended on %(end)s but is still in force") % facts
            detail = _("Record whether it was renewed, ended or terminated.")
        elif (contract.end_date - today).days <= version.contract_expiry_days:
            level, subject_key = WarningLevel.GREEN, f"contract:{contract.pk}:ends:{contract.end_date}"
            facts["days"] = (contract.end_date - today).days
            title = _("Contract %(code)s with %(counterparty)s ends on %(end)s") % facts
            detail = _("%(days)s days left: prepare its renewal or the return of the subject.") % facts
        else:
            continue
        if subject_key in known:
            continue
        raised.append(
            warning_raise(
                rule=rule,
                level=level,
                organization=contract.organization,
                subject_key=subject_key,
                title=title,
                detail=detail,
                matter=contract.matter,
                url=contract.get_absolute_url(),
            )
        )
    return _raised(raised)


def rent_overdue(today: datetime.date, *, rules: RulesOn | None = None) -> list[EarlyWarning]:
    """Yellow (red after 90 days): an instalment unpaid more than the county's grace days after it fell due."""
    rule = WarningRule.RENT_OVERDUE
    rules = rules or rules_on(today)
    known = _known(rule)
    unpaid = (
        ContractPayment.objects.filter(paid_on__isnull=True, due_on__lt=today)
        # A terminated contract's later instalments will never be paid; what fell due before still counts.
        .exclude(contract__status=ContractStatus.TERMINATED)
        .select_related("contract__organization", "contract__matter")
        .order_by("due_on", "pk")
    )
    raised = []
    for payment in unpaid:
        contract = payment.contract
        version = rules(contract.organization)
        days_late = (today - payment.due_on).days
        if version is None or days_late <= version.rent_grace_days:
            continue
        level = WarningLevel.RED if days_late > RENT_RED_DAYS else WarningLevel.YELLOW
        subject_key = f"rent:{payment.pk}"
        if not _is_news(known, subject_key, level):
            continue
        facts = {
            "code": contract.code,
            "counterparty": contract.counterparty,
            "amount": payment.amount,
            "due": payment.due_on,
            "days": days_late,
        }
        raised.append(
            warning_raise(
                rule=rule,
                level=level,
                organization=contract.organization,
                subject_key=subject_key,
                title=_("%(counterparty)s owes %(amount)s yuan on contract %(code)s, %(days)s days late") % facts,
                detail=_("The instalment of %(amount)s yuan fell due on %(due)s and is not paid.") % facts,
                matter=contract.matter,
                url=contract.get_absolute_url(),
            )
        )
    return _raised(raised)


# --- 5. assets idle too long (资产闲置) -------------------------------------------------------


def assets_idle(today: datetime.date, *, rules: RulesOn | None = None) -> list[EarlyWarning]:
    """Yellow: an asset idle for longer than the county's limit; a new idle period is a new subject."""
    rule = WarningRule.ASSET_IDLE
    rules = rules or rules_on(today)
    known = _known(rule)
    idle = Asset.objects.filter(status=AssetStatus.IDLE, idle_since__isnull=False, idle_since__lt=today)
    raised = []
    for asset in idle.select_related("organization").order_by("idle_since", "pk"):
        version = rules(asset.organization)
        days_idle = (today - asset.idle_since).days
        subject_key = f"asset:{asset.pk}:idle:{asset.idle_since}"
        if version is None or days_idle <= version.asset_idle_days or subject_key in known:
            continue
        facts = {"asset": asset, "since": asset.idle_since, "days": days_idle, "limit": version.asset_idle_days}
        raised.append(
            warning_raise(
                rule=rule,
                level=WarningLevel.YELLOW,
                organization=asset.organization,
                subject_key=subject_key,
                title=_("%(asset)s idle for %(days)s days") % facts,
                detail=_("Idle since %(since)s; the county's limit is %(limit)s days. Use, lease or dispose of it.")
                % facts,
                url=asset.get_absolute_url(),
            )
        )
    return _raised(raised)


# --- 6. contracting or leasing off the trading platform (场外交易) ------------------------------


def off_platform_trading(
    today: datetime.date, *, rules: RulesOn | None = None, contracts: QuerySet | None = None
) -> list[EarlyWarning]:
    """Red: a contracting or lease contract reaching the trading threshold with no trading-platform reference."""
    rule = WarningRule.OFF_PLATFORM_TRADING
    rules = rules or rules_on(today)
    known = _known(rule)
    candidates = (contracts if contracts is not None else Contract.objects.all()).filter(
        kind__in=[ContractKind.CONTRACTING, ContractKind.LEASE], trading_reference=""
    )
    raised = []
    for contract in candidates.select_related("organization", "matter").order_by("pk"):
        version = rules(contract.organization)
        subject_key = f"contract:{contract.pk}"
        if version is None or contract.amount < version.trading_threshold or subject_key in known:
            continue
        facts = {
            "code": contract.code,
            "kind": contract.get_kind_display(),
            "amount": contract.amount,
            "counterparty": contract.counterparty,
            "threshold": version.trading_threshold,
        }
        raised.append(
            warning_raise(
                rule=rule,
                level=WarningLevel.RED,
                organization=contract.organization,
                subject_key=subject_key,
                title=_("%(kind)s %(code)s of %(amount)s yuan without a trading-platform reference") % facts,
                detail=_(
                    "Contracts from %(threshold)s yuan go through the rural property trading platform; "
                    "contract %(code)s with %(counterparty)s has no platform reference."
                )
                % facts,
                matter=contract.matter,
                url=contract.get_absolute_url(),
            )
        )
    return _raised(raised)


# --- 7. a publication ended with an objection not handled --------------------------------------


def objections_unhandled(today: datetime.date, *, rules: RulesOn | None = None) -> list[EarlyWarning]:
    """Red: a notice whose objection period is over while an objection to it is still open."""
    rule = WarningRule.OBJECTION_UNHANDLED
    known = _known(rule)
    # An objection that exists and is open: a filter on ``objections__handled_at__isnull`` would also match,
    # through the outer join, every notice that drew no objection at all.
    open_objection = Objection.objects.filter(notice=OuterRef("pk"), handled_at__isnull=True)
    notices = (
        Notice.objects.filter(Exists(open_objection), ends_at__lt=_scan_cutoff(today))
        # A withdrawn or rejected matter no longer waits on its notice.
        .exclude(matter__status__in=[MatterStatus.WITHDRAWN, MatterStatus.REJECTED])
        .select_related("organization", "matter")
        .order_by("ends_at", "pk")
    )
    raised = []
    for notice in notices:
        subject_key = f"notice:{notice.pk}"
        if subject_key in known:
            continue
        facts = {"title": notice.title, "ended": _local_date(notice.ends_at)}
        raised.append(
            warning_raise(
                rule=rule,
                level=WarningLevel.RED,
                organization=notice.organization,
                subject_key=subject_key,
                title=_("Objection not handled: %(title)s") % facts,
                detail=_(
                    "The publication period ended on %(ended)s with an objection still open; "
                    "the village supervisor must record how it was handled."
                )
                % facts,
                matter=notice.matter,
                url=notice.matter.get_absolute_url(),
                causes=[
                    _matter_cause(notice.matter),
                    *(
                        cause(
                            _("Objection %(receipt)s, not handled: %(text)s")
                            % {"receipt": objection.receipt, "text": objection.text[:80]},
                            notice.matter.get_absolute_url() + "#notices",
                        )
                        for objection in notice.objections.filter(handled_at__isnull=True).order_by("pk")
                    ),
                ],
            )
        )
    return _raised(raised)


# --- 8. the same file as evidence of unrelated matters (a reused quotation or receipt) ---------------


def _evidence_model():
    # The archive's Evidence, reached through the matter's relation: documents/ sits above the registers.
    return Matter._meta.get_field("evidence").related_model


def evidence_reused(today: datetime.date, *, rules: RulesOn | None = None) -> list[EarlyWarning]:
    """Red: a file (same SHA-256) attached to a matter when another matter already carried it; files of one
    meeting (the minutes scan of every matter it decided) and matters withdrawn or rejected do not count."""
    rule = WarningRule.EVIDENCE_REUSED
    known = _known(rule)
    evidence = (
        _evidence_model()
        .objects.filter(uploaded_at__lt=_scan_cutoff(today))
        .exclude(matter__status__in=[MatterStatus.WITHDRAWN, MatterStatus.REJECTED])
    )
    shared = evidence.values("sha256").annotate(matters=Count("matter", distinct=True)).filter(matters__gt=1)
    files_of: dict[str, list] = defaultdict(list)
    for file in (
        evidence.filter(sha256__in=shared.values("sha256"))
        .select_related("matter__organization")
        .order_by("uploaded_at", "pk")
    ):
        files_of[file.sha256].append(file)
    raised = []
    for sha256, files in files_of.items():
        first_file: dict[int, object] = {}
        meetings: dict[int, set[int]] = defaultdict(set)
        for file in files:
            first_file.setdefault(file.matter_id, file)
            if file.meeting_id:
                meetings[file.matter_id].add(file.meeting_id)
        carriers = list(first_file.values())
        for index, file in enumerate(carriers[1:], start=1):
            earlier = [other for other in carriers[:index] if not meetings[other.matter_id] & meetings[file.matter_id]]
            subject_key = f"evidence:{sha256}:{file.matter_id}"
            if not earlier or subject_key in known:
                continue
            facts = {
                "name": file.original_name,
                "title": file.matter.title,
                "others": "、".join(other.matter.title for other in earlier),
                "sha": sha256[:16],
            }
            raised.append(
                warning_raise(
                    rule=rule,
                    level=WarningLevel.RED,
                    organization=file.matter.organization,
                    subject_key=subject_key,
                    title=_("The file %(name)s of %(title)s is already evidence of another matter") % facts,
                    detail=_(
                        "The same file (SHA-256 %(sha)s…) was attached earlier to: %(others)s. "
                        "A quotation, receipt or invoice proves one matter only: check whether it was reused."
                    )
                    % facts,
                    matter=file.matter,
                    url=file.matter.get_absolute_url(),
                    causes=[
                        _matter_cause(file.matter),
                        cause(_("File: %(name)s") % facts, reverse("documents:evidence_download", args=[file.pk])),
                        *(
                            item
                            for other in earlier
                            for item in (
                                _matter_cause(other.matter),
                                cause(
                                    _("File: %(name)s") % {"name": other.original_name},
                                    reverse("documents:evidence_download", args=[other.pk]),
                                ),
                            )
                        ),
                    ],
                )
            )
    return _raised(raised)


# --- 9. a lease or contract term beyond the legal limit (民法典 art. 705) ----------------------------

# 民法典 art. 705: a lease may not exceed twenty years; the part beyond is void.
LEGAL_TERM_YEARS = 20


def term_beyond_legal_limit(start: datetime.date, end: datetime.date) -> bool:
    """Whether a term from ``start`` until ``end`` (inclusive) runs past twenty years."""
    return end >= add_months(start, 12 * LEGAL_TERM_YEARS)


def _term_facts(start: datetime.date, end: datetime.date) -> dict:
    return {
        "start": start,
        "end": end,
        "limit": add_months(start, 12 * LEGAL_TERM_YEARS) - datetime.timedelta(days=1),
        "years": LEGAL_TERM_YEARS,
    }


def terms_over_limit(
    today: datetime.date, *, rules: RulesOn | None = None, contracts: QuerySet | None = None
) -> list[EarlyWarning]:
    """Red: a leasing or resource contracting application, or a contract in force, whose term runs past twenty
    years; a contract made from an application already flagged is the same case, not a second one."""
    rule = WarningRule.TERM_OVER_LIMIT
    known = _known(rule)
    raised = []
    # Matters whose application was flagged: the contract made from one is the same case.
    flagged_matters = {int(key.split(":")[1]) for key in known if key.startswith("application:")}
    if contracts is None:
        applications = [
            *Leasing.objects.select_related("matter__organization"),
            *ResourceContracting.objects.select_related("matter__organization"),
        ]
        for application in applications:
            matter = application.matter
            if matter.status in (MatterStatus.WITHDRAWN, MatterStatus.REJECTED):
                continue
            if not term_beyond_legal_limit(application.start_date, application.end_date):
                continue
            flagged_matters.add(matter.pk)
            subject_key = f"application:{matter.pk}:{application.end_date}"
            if subject_key in known:
                continue
            facts = {**_term_facts(application.start_date, application.end_date), "title": matter.title}
            raised.append(
                warning_raise(
                    rule=rule,
                    level=WarningLevel.RED,
                    organization=matter.organization,
                    subject_key=subject_key,
                    title=_("%(title)s: a term over %(years)s years, until %(end)s") % facts,
                    detail=_(
                        "The application asks for a term from %(start)s until %(end)s. Civil Code art. 705: "
                        "a lease may not exceed %(years)s years and the part beyond is void; the term may run "
                        "until %(limit)s at the latest."
                    )
                    % facts,
                    matter=matter,
                    url=matter.get_absolute_url(),
                    causes=[_matter_cause(matter)],
                )
            )
    in_force = (contracts if contracts is not None else Contract.objects.all()).filter(status=ContractStatus.ACTIVE)
    for contract in in_force.select_related("organization", "matter").order_by("pk"):
        if not term_beyond_legal_limit(contract.start_date, contract.end_date):
            continue
        subject_key = f"contract:{contract.pk}:{contract.end_date}"
        if subject_key in known or contract.matter_id in flagged_matters:
            continue
        facts = {**_term_facts(contract.start_date, contract.end_date), "code": contract.code}
        raised.append(
            warning_raise(
                rule=rule,
                level=WarningLevel.RED,
                organization=contract.organization,
                subject_key=subject_key,
                title=_("Contract %(code)s runs over %(years)s years, until %(end)s") % facts,
                detail=_(
                    "Contract %(code)s runs from %(start)s until %(end)s. Civil Code art. 705: a lease may not "
                    "exceed %(years)s years and the part beyond is void; the term may run until %(limit)s at the "
                    "latest."
                )
                % facts,
                matter=contract.matter,
                url=contract.get_absolute_url(),
                causes=[cause(_("Contract %(code)s") % facts, contract.get_absolute_url())]
                + ([_matter_cause(contract.matter)] if contract.matter else []),
            )
        )
    return _raised(raised)


# --- 10. a township approval with no application file above the county's amount --------------------


def approvals_without_evidence(today: datetime.date, *, rules: RulesOn | None = None) -> list[EarlyWarning]:
    """Red (yellow when the approver confirmed it on the page): the township's final approval of a matter from
    the county's ``evidence_threshold`` whose application carries no evidence file."""
    rule = WarningRule.APPROVED_WITHOUT_EVIDENCE
    known = _known(rule)
    application_files = _evidence_model().objects.filter(matter=OuterRef("matter"), step=Step.APPLY)
    approvals = (
        StepRecord.objects.filter(
            step__in=[Step.APPROVE_BY_TOWNSHIP, Step.CHECK_BY_TOWNSHIP],
            decision=Decision.AGREE,
            acted_at__lt=_scan_cutoff(today),
            matter__rule_version__evidence_threshold__isnull=False,
            matter__amount__gte=F("matter__rule_version__evidence_threshold"),
        )
        .exclude(Exists(application_files))
        .select_related("matter__organization", "matter__rule_version", "actor")
        .order_by("acted_at", "pk")
    )
    raised = []
    for record in approvals:
        matter = record.matter
        subject_key = f"approval:{record.pk}"
        if record.step != final_township_step(matter) or subject_key in known:
            continue
        facts = {
            "title": matter.title,
            "amount": matter.amount,
            "threshold": matter.rule_version.evidence_threshold,
            "date": _local_date(record.acted_at),
            "step": record.get_step_display(),
        }
        detail = _(
            "%(step)s agreed on %(date)s to a matter of %(amount)s yuan whose application carries no evidence "
            "file; the county asks for one from %(threshold)s yuan."
        )
        if record.no_evidence_confirmed:
            detail += " " + _("The approver confirmed approving it without one.")
        raised.append(
            warning_raise(
                rule=rule,
                level=WarningLevel.YELLOW if record.no_evidence_confirmed else WarningLevel.RED,
                organization=matter.organization,
                subject_key=subject_key,
                title=_("Approved with no application file: %(title)s, %(amount)s yuan") % facts,
                detail=detail % facts,
                matter=matter,
                url=matter.get_absolute_url(),
                causes=[_matter_cause(matter)],
            )
        )
    return _raised(raised)


# --- running them -------------------------------------------------------------------------

RULES = [
    payments_without_approval,
    split_spending,
    cash_over_limit,
    contracts_expiring,
    rent_overdue,
    assets_idle,
    off_platform_trading,
    objections_unhandled,
    evidence_reused,
    terms_over_limit,
    approvals_without_evidence,
]


def warnings_scan(today: datetime.date | None = None) -> list[EarlyWarning]:
    """Run every rule on the day (today by default); returns the warnings raised or made more serious."""
    today = today or timezone.localdate()
    rules = rules_on(today)
    # Warnings and their notifications are stored text: in the county's language, whoever triggered the scan.
    with translation.override(settings.LANGUAGE_CODE):
        return raising_in_bulk(lambda: [check(today, rules=rules) for check in RULES])


def movement_check(movement_id: int, today: datetime.date | None = None) -> list[EarlyWarning]:
    """The rules one saved movement can break at once: a payment without approval, cash over the limit."""
    today = today or timezone.localdate()
    movements = FundMovement.objects.filter(pk=movement_id)
    with translation.override(settings.LANGUAGE_CODE):
        return payments_without_approval(today, movements=movements) + cash_over_limit(
            today, accounts=FundAccount.objects.filter(movements__pk=movement_id)
        )


def contract_check(contract_id: int, today: datetime.date | None = None) -> list[EarlyWarning]:
    """The rules one saved contract can break at once: off the trading platform, about to expire, over 20 years."""
    today = today or timezone.localdate()
    contracts = Contract.objects.filter(pk=contract_id)
    with translation.override(settings.LANGUAGE_CODE):
        return (
            off_platform_trading(today, contracts=contracts)
            + contracts_expiring(today, contracts=contracts)
            + terms_over_limit(today, contracts=contracts)
        )


# --- 11. many objections to one notice in a short time -------------------------------------------
# Raised as the objections arrive (registers/signals.py), not by the sweep: a flood is news now.
# A fork of the tamper-evident log is raised by a witness (documents/witness.py), not by the sweep either,
# and a failed check of the log by that check (documents/ledger_checks.py).
EVENT_RULES = frozenset({WarningRule.OBJECTION_SURGE, WarningRule.LEDGER_FORK, WarningRule.LEDGER_CHECK_FAILED})


def objection_surge_check(*, notice: Notice) -> EarlyWarning | None:
    """Yellow: so many objections to one notice within the hour that the supervisor needs the township's help
    (a real dispute, or a flood from many addresses); raised once per notice, when the count is reached."""
    since = timezone.now() - datetime.timedelta(hours=1)
    recent = notice.objections.filter(submitted_at__gte=since).count()
    if recent < settings.OBJECTION_SURGE_COUNT:
        return None
    facts = {"title": notice.title, "count": recent}
    return warning_raise(
        rule=WarningRule.OBJECTION_SURGE,
        level=WarningLevel.YELLOW,
        organization=notice.organization,
        subject_key=f"notice:{notice.pk}",
        title=_("%(count)s objections within an hour: %(title)s") % facts,
        detail=_(
            "%(count)s objections to this notice arrived within an hour. The township should help the "
            "supervisor sort them: a real dispute, or a flood from many addresses."
        )
        % facts,
        matter=notice.matter,
        url=notice.matter.get_absolute_url(),
    )
