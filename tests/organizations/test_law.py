"""The law's floor under the county rule tables: a county may make a rule stricter, never looser."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from organizations.law import LAW, Share
from organizations.models import MeetingBody, MeetingRule, RuleBand, TransactionType
from organizations.rules import DEFAULT_BANDS, DEFAULT_MEETING_RULES

pytestmark = pytest.mark.django_db

HALF = Share(1, 2, False)
TWO_THIRDS = Share(2, 3, True)


# --- comparing fractions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "law", "strict_enough"),
    [
        (Share(2, 3, True), Share(2, 3, True), True),
        (Share(4, 6, True), Share(2, 3, True), True),  # the same fraction written otherwise
        (Share(2, 3, False), Share(2, 3, True), True),  # "more than 2/3" is stricter than "at least 2/3"
        (Share(2, 3, True), Share(2, 3, False), False),  # "at least" lets exactly 2/3 through
        (Share(1, 2, False), Share(2, 3, True), False),
        (Share(3, 4, True), Share(2, 3, True), True),
        (Share(1, 2, True), Share(1, 2, False), False),
        (Share(51, 100, True), Share(1, 2, False), True),
        (Share(1, 1, True), Share(2, 3, True), True),
    ],
)
def test_a_share_is_as_strict_as_the_law_only_when_no_count_slips_through(rule, law, strict_enough):
    assert rule.at_least_as_strict_as(law) is strict_enough


@pytest.mark.parametrize(
    ("share", "total", "needed"),
    [(HALF, 5, 3), (HALF, 6, 4), (TWO_THIRDS, 12, 8), (TWO_THIRDS, 13, 9), (Share(2, 3, False), 12, 9)],
)
def test_needed_is_the_fewest_that_reach_the_share(share, total, needed):
    assert share.needed(total) == needed
    assert share.reached(needed, total) and not share.reached(needed - 1, total)


# --- the defaults are the law ---------------------------------------------------------------------


def test_every_body_has_the_laws_default(world):
    assert set(LAW) == set(MeetingBody.values) == set(DEFAULT_MEETING_RULES)
    for body, law in LAW.items():
        rule = MeetingRule.objects.get(rule_version=world.rule_version, body=body)
        assert (rule.quorum, rule.household_quorum, rule.passing, rule.pass_of_expected) == (
            law.quorum,
            law.household_quorum,
            law.passing,
            law.pass_of_expected,
        )
        rule.full_clean()
    assembly = LAW[MeetingBody.MEMBER_ASSEMBLY]
    assert (assembly.quorum, assembly.passing, assembly.pass_of_expected) == (TWO_THIRDS, TWO_THIRDS, True)
    representatives = LAW[MeetingBody.MEMBER_REPRESENTATIVES]
    assert (representatives.passing, representatives.pass_of_expected) == (TWO_THIRDS, True)
    for body in (MeetingBody.VILLAGER_MEETING, MeetingBody.VILLAGER_REPRESENTATIVES):
        assert (LAW[body].passing, LAW[body].pass_of_expected) == (HALF, False)
    for body in (MeetingBody.PARTY_MEMBERS, MeetingBody.TWO_COMMITTEES):
        assert (LAW[body].passing, LAW[body].pass_of_expected) == (HALF, True)


def test_membership_and_shares_go_to_the_collectives_own_bodies_by_default(world):
    bodies = {
        transaction_type: {steps["member_body"] for _low, _high, steps in bands}
        for transaction_type, bands in DEFAULT_BANDS.items()
    }
    assert bodies[TransactionType.MEMBER_CONFIRMATION] == {MeetingBody.MEMBER_ASSEMBLY}
    assert bodies[TransactionType.EQUITY_TRANSFER] <= {MeetingBody.MEMBER_ASSEMBLY, MeetingBody.MEMBER_REPRESENTATIVES}
    for band in world.rule_version.bands.all():
        band.full_clean()


# --- a county rule looser than the law is refused, naming the article ------------------------------


def refusal(world, body, **changes) -> dict:
    rule = MeetingRule.objects.get(rule_version=world.rule_version, body=body)
    for name, value in changes.items():
        setattr(rule, name, value)
    with translation.override("en"):
        with pytest.raises(ValidationError) as error:
            rule.full_clean()
        return error.value.message_dict


def accepted(world, body, **changes) -> None:
    rule = MeetingRule.objects.get(rule_version=world.rule_version, body=body)
    for name, value in changes.items():
        setattr(rule, name, value)
    rule.full_clean()


def test_a_members_assembly_passing_by_half_is_refused_naming_article_27(world):
    errors = refusal(world, MeetingBody.MEMBER_ASSEMBLY, pass_numerator=1, pass_denominator=2, pass_inclusive=False)
    assert errors == {
        "pass_numerator": [
            "The pass rule would be looser than Rural Collective Economic Organisations Law, art. 27 allows: a "
            "decision needs at least 2/3 of those who should attend. A county may make the law's rule stricter, "
            "never looser."
        ]
    }


def test_the_refusal_is_in_chinese_on_a_chinese_page(world):
    rule = MeetingRule.objects.get(rule_version=world.rule_version, body=MeetingBody.MEMBER_ASSEMBLY)
    rule.pass_numerator, rule.pass_denominator = 1, 2
    with translation.override("zh-hans"), pytest.raises(ValidationError) as error:
        rule.full_clean()
    message = error.value.message_dict["pass_numerator"][0]
    assert "《农村集体经济组织法》第二十七条" in message
    assert "只能" in message


def test_a_members_assembly_counting_those_present_is_refused(world):
    # 2/3 of 2/3 present is only 4/9 of all members.
    errors = refusal(world, MeetingBody.MEMBER_ASSEMBLY, pass_of_expected=False)
    assert "art. 27" in errors["pass_numerator"][0]


def test_a_stricter_members_assembly_is_accepted(world):
    accepted(world, MeetingBody.MEMBER_ASSEMBLY, pass_numerator=3, pass_denominator=4)
    accepted(world, MeetingBody.MEMBER_ASSEMBLY, pass_inclusive=False)  # more than 2/3
    accepted(world, MeetingBody.MEMBER_ASSEMBLY, quorum_numerator=4, quorum_denominator=5)
    # All present and all of them for is all members for.
    accepted(
        world,
        MeetingBody.MEMBER_ASSEMBLY,
        quorum_numerator=1,
        quorum_denominator=1,
        pass_numerator=1,
        pass_denominator=1,
        pass_of_expected=False,
    )


def test_a_members_assembly_with_a_lower_quorum_is_refused(world):
    errors = refusal(world, MeetingBody.MEMBER_ASSEMBLY, quorum_numerator=1, quorum_denominator=2)
    assert "quorum" in errors["quorum_numerator"][0] and "art. 27" in errors["quorum_numerator"][0]
    errors = refusal(
        world, MeetingBody.MEMBER_ASSEMBLY, quorum_inclusive=False, quorum_numerator=3, quorum_denominator=5
    )
    assert "art. 27" in errors["quorum_numerator"][0]


def test_the_member_representatives_need_two_thirds_of_all_naming_article_28(world):
    errors = refusal(world, MeetingBody.MEMBER_REPRESENTATIVES, pass_numerator=1, pass_denominator=2)
    assert "art. 28" in errors["pass_numerator"][0]


def test_villager_bodies_may_not_pass_with_exactly_half(world):
    errors = refusal(world, MeetingBody.VILLAGER_MEETING, pass_inclusive=True)
    assert "Villagers' Committees, art. 22" in errors["pass_numerator"][0]
    errors = refusal(world, MeetingBody.VILLAGER_REPRESENTATIVES, quorum_numerator=1, quorum_denominator=2)
    assert "Villagers' Committees, art. 26" in errors["quorum_numerator"][0]
    # Counting against everyone who should attend is stricter than against those present.
    accepted(world, MeetingBody.VILLAGER_REPRESENTATIVES, pass_of_expected=True)
    accepted(world, MeetingBody.VILLAGER_MEETING, pass_numerator=2, pass_denominator=3, pass_inclusive=True)


def test_household_quorum_only_where_the_law_has_one_and_no_lower(world):
    errors = refusal(world, MeetingBody.VILLAGER_MEETING, household_quorum_numerator=1, household_quorum_denominator=2)
    assert "art. 22" in errors["household_quorum_numerator"][0]
    accepted(world, MeetingBody.VILLAGER_MEETING, household_quorum_numerator=3, household_quorum_denominator=4)
    accepted(world, MeetingBody.VILLAGER_MEETING, household_quorum_numerator=None, household_quorum_denominator=None)
    errors = refusal(world, MeetingBody.MEMBER_ASSEMBLY, household_quorum_numerator=2, household_quorum_denominator=3)
    assert "art. 27" in errors["household_quorum_numerator"][0]
    errors = refusal(world, MeetingBody.VILLAGER_MEETING, household_quorum_denominator=None)
    assert errors == {"household_quorum_numerator": ["Give both the numerator and the denominator, or neither."]}


def test_party_members_and_two_committees_count_everyone_who_should_attend(world):
    errors = refusal(world, MeetingBody.PARTY_MEMBERS, pass_of_expected=False)
    assert "party members' meetings" in errors["pass_numerator"][0]
    errors = refusal(world, MeetingBody.TWO_COMMITTEES, pass_of_expected=False)
    assert "two village committees" in errors["pass_numerator"][0]
    errors = refusal(world, MeetingBody.PARTY_MEMBERS, quorum_numerator=1, quorum_denominator=2)
    assert "quorum" in errors["quorum_numerator"][0]


def test_a_fraction_no_meeting_can_reach_is_refused(world):
    errors = refusal(world, MeetingBody.MEMBER_ASSEMBLY, pass_numerator=3, pass_denominator=2)
    assert errors["pass_numerator"] == ["No meeting can reach at least 3/2: a share cannot exceed the whole."]
    errors = refusal(
        world, MeetingBody.MEMBER_ASSEMBLY, quorum_numerator=1, quorum_denominator=1, quorum_inclusive=False
    )
    assert "more than 1/1" in errors["quorum_numerator"][0]
    errors = refusal(world, MeetingBody.MEMBER_ASSEMBLY, pass_denominator=0)
    assert "pass_denominator" in errors


# --- which body decides what ----------------------------------------------------------------------


def band_refusal(world, transaction_type, **changes) -> dict:
    band = world.rule_version.bands.filter(transaction_type=transaction_type).first()
    for name, value in changes.items():
        setattr(band, name, value)
    with translation.override("en"):
        with pytest.raises(ValidationError) as error:
            band.full_clean()
        return error.value.message_dict


def test_member_confirmation_by_the_representative_assembly_is_refused_naming_article_28(world):
    errors = band_refusal(world, TransactionType.MEMBER_CONFIRMATION, member_body=MeetingBody.MEMBER_REPRESENTATIVES)
    assert errors == {
        "member_body": [
            "The members' representative assembly may not decide member confirmation (Rural Collective Economic "
            "Organisations Law, art. 28): send it to the members' assembly."
        ]
    }
    with translation.override("zh-hans"):
        band = RuleBand(
            rule_version=world.rule_version,
            transaction_type=TransactionType.MEMBER_CONFIRMATION,
            member_body=MeetingBody.MEMBER_REPRESENTATIVES,
        )
        with pytest.raises(ValidationError) as error:
            band.full_clean()
    assert "第二十八条" in error.value.message_dict["member_body"][0]


@pytest.mark.parametrize("body", ["", MeetingBody.VILLAGER_MEETING, MeetingBody.VILLAGER_REPRESENTATIVES])
def test_member_confirmation_is_for_the_members_assembly(world, body):
    errors = band_refusal(world, TransactionType.MEMBER_CONFIRMATION, member_body=body)
    assert "art. 26, item 3" in errors["member_body"][0]


@pytest.mark.parametrize("body", [MeetingBody.VILLAGER_MEETING, MeetingBody.VILLAGER_REPRESENTATIVES])
def test_equity_transfer_by_a_villagers_body_is_refused(world, body):
    errors = band_refusal(world, TransactionType.EQUITY_TRANSFER, member_body=body)
    assert "not by a villagers' body" in errors["member_body"][0]


@pytest.mark.parametrize("body", ["", MeetingBody.MEMBER_ASSEMBLY, MeetingBody.MEMBER_REPRESENTATIVES])
def test_equity_transfer_may_go_to_the_collectives_bodies_or_none(world, body):
    band = world.rule_version.bands.get(transaction_type=TransactionType.EQUITY_TRANSFER)
    band.member_body = body
    band.full_clean()


def test_other_matters_may_go_to_any_body(world):
    band = world.rule_version.bands.filter(transaction_type=TransactionType.ASSET_PURCHASE).last()
    for body in MeetingBody.values:
        band.member_body = body
        band.full_clean()


def test_a_members_assembly_matter_keeps_the_party_proposal(world):
    errors = band_refusal(world, TransactionType.MEMBER_CONFIRMATION, party_proposal=False)
    assert "art. 26" in errors["party_proposal"][0]
