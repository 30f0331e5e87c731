import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

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


def test_villager_meeting_passes_with_more_than_half_of_those_present(world):
    villagers = rule(world, MeetingBody.VILLAGER_MEETING)
    assert evaluate_vote(rule=villagers, expected=100, attended=51, votes_for=26).passed
    outcome = evaluate_vote(rule=villagers, expected=100, attended=52, votes_for=26)  # exactly half
    assert outcome.quorate and not outcome.passed


def test_two_committees_pass_with_more_than_half_of_all_members(world):
    committees = rule(world, MeetingBody.TWO_COMMITTEES)
    assert evaluate_vote(rule=committees, expected=5, attended=3, votes_for=3).passed
    # 3 of the 4 present, but only half of the 6 members.
    outcome = evaluate_vote(rule=committees, expected=6, attended=4, votes_for=3)
    assert outcome.quorate and not outcome.passed


def test_members_assembly_with_two_thirds_present_and_a_majority_under_two_thirds_of_all_fails(world):
    assembly = rule(world, MeetingBody.MEMBER_ASSEMBLY)
    with translation.override("en"):
        outcome = evaluate_vote(rule=assembly, expected=12, attended=9, votes_for=7)
    assert outcome.quorate and not outcome.passed
    assert outcome.reason == (
        "Not passed: 7 votes for, 9 attended of 12 who should attend; a decision needs at least 2/3 of those who "
        "should attend, that is 8 votes for."
    )
    with translation.override("zh-hans"):
        reason = evaluate_vote(rule=assembly, expected=12, attended=9, votes_for=7).reason
    assert reason == "未通过：赞成7票，应到12人，实到9人；须经应到人数的2/3以上同意，即至少8票赞成。"


def test_members_assembly_boundaries_are_inclusive_at_exactly_two_thirds(world):
    assembly = rule(world, MeetingBody.MEMBER_ASSEMBLY)
    assert evaluate_vote(rule=assembly, expected=12, attended=8, votes_for=8).passed  # 8/12 present and for
    with translation.override("en"):
        outcome = evaluate_vote(rule=assembly, expected=12, attended=7, votes_for=7)
    assert not outcome.quorate
    assert outcome.reason == "No quorum: 7 of 12 attended, at least 2/3 needed (8)."
    assert not evaluate_vote(rule=assembly, expected=13, attended=9, votes_for=8).passed  # 8/13 < 2/3
    assert evaluate_vote(rule=assembly, expected=13, attended=9, votes_for=9).passed


def test_member_representatives_need_two_thirds_of_all_representatives(world):
    representatives = rule(world, MeetingBody.MEMBER_REPRESENTATIVES)
    assert evaluate_vote(rule=representatives, expected=21, attended=14, votes_for=14).passed
    outcome = evaluate_vote(rule=representatives, expected=21, attended=21, votes_for=13)
    assert outcome.quorate and not outcome.passed
    assert "13" in outcome.reason and "14" in outcome.reason


def test_a_county_pass_rule_counted_against_those_present(world):
    representatives = rule(world, MeetingBody.VILLAGER_REPRESENTATIVES)
    representatives.pass_numerator, representatives.pass_denominator, representatives.pass_inclusive = 2, 3, True
    representatives.full_clean()  # stricter than the law: accepted
    assert evaluate_vote(rule=representatives, expected=9, attended=6, votes_for=4).passed
    with translation.override("en"):
        outcome = evaluate_vote(rule=representatives, expected=9, attended=9, votes_for=5)
    assert not outcome.passed
    assert "at least 2/3 of those who attended, that is 6 votes for" in outcome.reason


def test_villager_meeting_without_quorum_says_both_counts(world):
    villagers = rule(world, MeetingBody.VILLAGER_MEETING)
    with translation.override("en"):
        outcome = evaluate_vote(
            rule=villagers, expected=100, attended=40, votes_for=30, households_expected=30, households_attended=19
        )
    assert outcome.reason == (
        "No quorum: 40 of 100 attended, more than 1/2 needed (51). "
        "Households: 19 of 30 attended, at least 2/3 needed (20)."
    )


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
