"""Existing installs: each county gets a new, law-correct rule version; running matters keep theirs."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from organizations.models import MeetingRule, RuleBand, RuleVersion
from organizations.rules import rule_version_in_force

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("organizations", "0004_batch_approval_limit_and_verbose_names")]

# The rule table as it was seeded before: every pass rule "more than half", equity transfer by the village.
OLD_RULES = {
    "two_committees": dict(quorum_numerator=1, quorum_denominator=2, quorum_inclusive=False),
    "party_members": dict(quorum_numerator=2, quorum_denominator=3, pass_of_expected=True),
    "villager_meeting": dict(
        quorum_numerator=1,
        quorum_denominator=2,
        quorum_inclusive=False,
        household_quorum_numerator=2,
        household_quorum_denominator=3,
    ),
    # This county asks more than the law of its villager representatives: kept.
    "villager_representatives": dict(quorum_numerator=3, quorum_denominator=4),
    "member_assembly": dict(quorum_numerator=2, quorum_denominator=3),
    "member_representatives": dict(quorum_numerator=2, quorum_denominator=3),
}
OLD_BANDS = [
    ("asset_purchase", "0", "20000", ""),
    ("asset_purchase", "20000", None, "villager_representatives"),
    ("member_confirmation", "0", None, "member_assembly"),
    ("equity_transfer", "0", None, "villager_representatives"),
]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def old_version(apps, county, number, effective_from, *, equity_body="villager_representatives"):
    version = apps.get_model("organizations", "RuleVersion").objects.create(
        county=county, number=number, effective_from=effective_from, publication_days=10
    )
    for body, options in OLD_RULES.items():
        apps.get_model("organizations", "MeetingRule").objects.create(rule_version=version, body=body, **options)
    for transaction_type, low, high, body in OLD_BANDS:
        if transaction_type == "equity_transfer":
            body = equity_body
        apps.get_model("organizations", "RuleBand").objects.create(
            rule_version=version,
            transaction_type=transaction_type,
            min_amount=low,
            max_amount=high,
            member_body=body,
            party_members=bool(body),
            township_approval=bool(body),
        )
    return version


def test_each_county_gets_a_corrected_version_from_today_and_the_old_one_is_kept():
    migrate(BEFORE)
    apps = MigrationExecutor(connection).loader.project_state(BEFORE).apps
    county = apps.get_model("organizations", "Organization").objects.create(name="旧县", code="OLD", kind="county")
    old_version(apps, county, 1, datetime.date(2026, 1, 1))
    old_version(apps, county, 2, datetime.date(2099, 1, 1), equity_body="villager_meeting")
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    today = timezone.localdate()
    versions = {version.number: version for version in RuleVersion.objects.filter(county_id=county.pk)}
    assert set(versions) == {1, 2, 3}
    corrected = versions[3]
    assert corrected.effective_from == today and corrected.publication_days == 10
    assert rule_version_in_force(county=corrected.county, on_date=today) == corrected

    # The version running matters started under is untouched.
    old = versions[1]
    assembly = MeetingRule.objects.get(rule_version=old, body="member_assembly")
    assert (assembly.passing.fraction, assembly.pass_of_expected) == (0.5, False)
    assert RuleBand.objects.get(rule_version=old, transaction_type="equity_transfer").member_body == (
        "villager_representatives"
    )

    for version in (corrected, versions[2]):
        rules = {rule.body: rule for rule in version.meeting_rules.all()}
        for rule in rules.values():
            rule.full_clean()
        assembly = rules["member_assembly"]
        assert (assembly.pass_numerator, assembly.pass_denominator, assembly.pass_inclusive) == (2, 3, True)
        assert assembly.pass_of_expected
        assert rules["member_representatives"].pass_of_expected
        assert rules["two_committees"].pass_of_expected
        assert (
            rules["villager_representatives"].quorum_numerator,
            rules["villager_representatives"].quorum_denominator,
        ) == (3, 4)
        assert not rules["villager_meeting"].pass_of_expected
        bands = {
            band.transaction_type: band for band in version.bands.all() if band.transaction_type != "asset_purchase"
        }
        for band in version.bands.all():
            band.full_clean()
        assert bands["member_confirmation"].member_body == "member_assembly"
    assert RuleBand.objects.get(rule_version=corrected, transaction_type="equity_transfer").member_body == (
        "member_representatives"
    )
    assert RuleBand.objects.get(rule_version=versions[2], transaction_type="equity_transfer").member_body == (
        "member_assembly"
    )
    assert corrected.bands.get(transaction_type="asset_purchase", min_amount=20000).member_body == (
        "villager_representatives"
    ), "the county's choice of body for other matters stays"


def test_a_county_already_at_the_law_gets_no_new_version():
    migrate([("organizations", "0005_meeting_pass_fraction")])
    apps = MigrationExecutor(connection).loader.project_state([("organizations", "0005_meeting_pass_fraction")]).apps
    county = apps.get_model("organizations", "Organization").objects.create(name="新县", code="NEW", kind="county")
    version = old_version(apps, county, 1, datetime.date(2026, 1, 1), equity_body="member_representatives")
    apps.get_model("organizations", "MeetingRule").objects.filter(rule_version=version, body="two_committees").update(
        pass_of_expected=True
    )
    apps.get_model("organizations", "MeetingRule").objects.filter(
        rule_version=version, body__in=["member_assembly", "member_representatives"]
    ).update(pass_numerator=2, pass_denominator=3, pass_inclusive=True, pass_of_expected=True)
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    assert RuleVersion.objects.filter(county_id=county.pk).count() == 1
