"""`make demo`'s warning list holds only warnings whose cause a user can see: after the demo seeding and
beat's sweep, every warning names the record it is about, the township opens every link it gives, and the
rule's condition really holds for that record (no notice without an open objection, no file on one matter)."""

import datetime
import re
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import resolve, reverse

from documents.models import Evidence
from flows.models import Matter, MatterStatus, Notice, StepRecord
from flows.services import final_township_step
from organizations.models import Role
from organizations.rules import rule_version_in_force
from registers.contracts import add_months
from registers.funds import fund_balance
from registers.models import (
    Asset,
    AssetStatus,
    Contract,
    ContractPayment,
    EarlyWarning,
    FundAccount,
    FundMovement,
    WarningRule,
)
from registers.tasks import scan_early_warnings
from registers.warnings import EVENT_RULES, LEGAL_TERM_YEARS

pytestmark = pytest.mark.django_db


def _id(subject_key: str, position: int = 1) -> int:
    return int(subject_key.split(":")[position])


def _rules(warning):
    return rule_version_in_force(county=warning.organization.county, on_date=datetime.date.today())


def holds(warning: EarlyWarning) -> bool:
    """Whether the rule's condition is true, read afresh from the record the warning is about."""
    key = warning.subject_key
    rule = warning.rule
    if rule == WarningRule.PAYMENT_WITHOUT_APPROVAL:
        payment = FundMovement.objects.get(pk=_id(key))
        if payment.matter is None:
            return True
        final = final_township_step(payment.matter)
        approval = payment.matter.step_records.filter(step=final, decision="agree").first() if final else None
        return approval is None or payment.occurred_on < approval.acted_at.date()
    if rule == WarningRule.SPLIT_SPENDING:
        parts = [resolve(item["url"]).kwargs["pk"] for item in warning.causes]
        matters = list(Matter.objects.filter(pk__in=parts).select_related("fund_disbursement", "asset_purchase"))
        payees = {
            (m.fund_disbursement.payee if hasattr(m, "fund_disbursement") else m.asset_purchase.chosen_supplier)
            for m in matters
        }
        purposes = {
            (m.fund_disbursement.purpose if hasattr(m, "fund_disbursement") else m.asset_purchase.reason)
            for m in matters
        }
        # The title names the threshold each part stays under ("每笔均低于20000.00元").
        threshold = Decimal(re.search(r"(?:低于|under )(\d+(?:\.\d+)?)", warning.title).group(1))
        return (
            len(matters) >= 2
            and (len(payees) == 1 or len(purposes) == 1)
            and all(m.amount < threshold for m in matters)
            and sum(m.amount for m in matters) >= threshold
        )
    if rule == WarningRule.CASH_OVER_LIMIT:
        account = FundAccount.objects.get(pk=_id(key))
        return fund_balance(account) > _rules(warning).cash_limit
    if rule == WarningRule.CONTRACT_EXPIRING:
        contract = Contract.objects.get(pk=_id(key))
        return (contract.end_date - datetime.date.today()).days <= _rules(warning).contract_expiry_days
    if rule == WarningRule.RENT_OVERDUE:
        payment = ContractPayment.objects.get(pk=_id(key))
        return (
            payment.paid_on is None and (datetime.date.today() - payment.due_on).days > _rules(warning).rent_grace_days
        )
    if rule == WarningRule.ASSET_IDLE:
        asset = Asset.objects.get(pk=_id(key))
        return asset.status == AssetStatus.IDLE and (
            (datetime.date.today() - asset.idle_since).days > _rules(warning).asset_idle_days
        )
    if rule == WarningRule.OFF_PLATFORM_TRADING:
        contract = Contract.objects.get(pk=_id(key))
        return not contract.trading_reference and contract.amount >= _rules(warning).trading_threshold
    if rule == WarningRule.OBJECTION_UNHANDLED:
        notice = Notice.objects.get(pk=_id(key))
        return notice.objections.filter(handled_at__isnull=True).exists()
    if rule == WarningRule.EVIDENCE_REUSED:
        _kind, sha256, matter_id = key.split(":")
        files = Evidence.objects.filter(sha256=sha256).exclude(
            matter__status__in=[MatterStatus.WITHDRAWN, MatterStatus.REJECTED]
        )
        return files.exclude(matter_id=int(matter_id)).exists() and files.filter(matter_id=int(matter_id)).exists()
    if rule == WarningRule.TERM_OVER_LIMIT:
        kind, pk, _end = key.split(":")
        if kind == "contract":
            contract = Contract.objects.get(pk=int(pk))
            start, end = contract.start_date, contract.end_date
        else:
            matter = warning.matter
            application = getattr(matter, "leasing", None) or matter.resource_contracting
            start, end = application.start_date, application.end_date
        return end >= add_months(start, 12 * LEGAL_TERM_YEARS)
    if rule == WarningRule.APPROVED_WITHOUT_EVIDENCE:
        record = StepRecord.objects.get(pk=_id(key))
        matter = record.matter
        return (
            record.decision == "agree"
            and matter.amount >= matter.rule_version.evidence_threshold
            and not matter.evidence.filter(step="apply").exists()
        )
    raise AssertionError(f"no check for the rule {rule}")


def township_leader_of(warning: EarlyWarning):
    township = warning.organization.parent.parent
    return get_user_model().objects.filter(posts__organization=township, posts__role=Role.TOWNSHIP_LEADER).first()


def test_every_warning_of_the_demo_has_a_cause_the_township_can_open():
    call_command("seed_demo", verbosity=0)
    call_command("seed_matters", "24", "--if-empty", stdout=StringIO())
    call_command("seed_watch_demo", stdout=StringIO())
    call_command("seed_workdesk_demo", stdout=StringIO())
    scan_early_warnings()
    warnings = list(EarlyWarning.objects.select_related("organization__parent__parent", "matter"))
    assert {warning.rule for warning in warnings} == set(WarningRule.values) - EVENT_RULES
    false = [f"{warning.rule}: {warning.title}" for warning in warnings if not holds(warning)]
    assert false == []
    # The new rules fire on the case made for each, not on the seeded matters around it (each with its own scan).
    per_rule = {rule: sum(1 for w in warnings if w.rule == rule) for rule in WarningRule.values}
    print(per_rule)
    assert per_rule[WarningRule.EVIDENCE_REUSED] == 1
    assert per_rule[WarningRule.APPROVED_WITHOUT_EVIDENCE] == 1
    clients: dict[int, Client] = {}
    for warning in warnings:
        links = [item["url"] for item in warning.causes] + [warning.url]
        if warning.matter is not None:
            links.append(warning.matter.get_absolute_url())
        links = [link for link in links if link]
        assert links, f"{warning.rule}: {warning.title} names nothing a user can open"
        leader = township_leader_of(warning)
        if leader.pk not in clients:
            clients[leader.pk] = Client()
            clients[leader.pk].force_login(leader)
        client = clients[leader.pk]
        page = client.get(reverse("registers:warning_detail", args=[warning.pk]))
        assert page.status_code == 200
        for link in links:
            response = client.get(link.split("#")[0])
            assert response.status_code == 200, f"{warning.rule}: {link} gave {response.status_code}"
