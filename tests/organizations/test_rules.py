import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from organizations.models import MeetingBody, MeetingRule
from organizations.rules import band_for, evaluate_vote, rule_version_in_force, rule_version_seed_defaults

pytestmark = pytest.mark.django_db


def rule(world, body):
    return MeetingRule.objects.get(rule_version=world.rule_version, body=body)


def test_party_members_need_two_thirds_present_and_half_of_all_members(world):
    party = rule(world, MeetingBody.PARTY_MEMBERS)
    assert not evaluate_vote(rule=party, expected=9, attended=5, votes_for=5).quorate
    assert evaluate_vote(rule=party, expected=9, attended=6, votes_for=5).passed
    # More than half of those who should attend (9), not of those present.
    assert not evaluate_vote(rule=party, expected=9, attended=6, votes_for=4).passed


def test_villager_meeting_quorate_by_households_when_too_few_people(world):
    villagers = rule(world, MeetingBody.VILLAGER_MEETING)
    outcome = evaluate_vote(
        rule=villagers, expected=100, attended=40, votes_for=30, households_expected=30, households_attended=20
    )
    assert outcome.quorate and outcome.passed
    assert not evaluate_vote(
        rule=villagers, expected=100, attended=50, votes_for=30
    ).quorate  # exactly half is not more


def test_representatives_pass_with_majority_of_attendees(world):
    representatives = rule(world, MeetingBody.VILLAGER_REPRESENTATIVES)
    assert evaluate_vote(rule=representatives, expected=9, attended=6, votes_for=4).passed
    outcome = evaluate_vote(rule=representatives, expected=9, attended=6, votes_for=3)
    assert outcome.quorate and not outcome.passed
    assert "3" in outcome.reason


def test_band_boundaries_are_inclusive_below_exclusive_above(world):
    version = world.rule_version
    assert (
        band_for(rule_version=version, transaction_type="asset_purchase", amount=Decimal("19999.99")).max_amount
        == 20000
    )
    assert (
        band_for(rule_version=version, transaction_type="asset_purchase", amount=Decimal("20000")).min_amount == 20000
    )
    assert (
        band_for(rule_version=version, transaction_type="asset_purchase", amount=Decimal("5000000")).max_amount is None
    )


def test_version_in_force_follows_the_effective_date(world):
    later = rule_version_seed_defaults(county=world.county, effective_from=datetime.date(2030, 1, 1))
    assert later.number == 2
    assert rule_version_in_force(county=world.county, on_date=datetime.date(2029, 12, 31)) == world.rule_version
    assert rule_version_in_force(county=world.county, on_date=datetime.date(2030, 1, 1)) == later


def test_no_rule_table_is_a_clear_error(world):
    with pytest.raises(ValidationError):
        rule_version_in_force(county=world.county, on_date=datetime.date(2020, 1, 1))
