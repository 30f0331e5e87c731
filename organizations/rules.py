"""Reading and seeding the county rule tables: which version applies, which band, which quorum."""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .models import MeetingBody, MeetingRule, OnFailedVote, Organization, RuleBand, RuleVersion, TransactionType


def own_version_in_force(*, place: Organization, on_date: datetime.date) -> RuleVersion | None:
    """The place's own version in force on the day, or None."""
    return (
        RuleVersion.objects.filter(county=place, effective_from__lte=on_date)
        .order_by("-effective_from", "-number")
        .first()
    )


def rule_levels(place: Organization) -> list[Organization]:
    """The place and the places above it (city, province: only those keep tables), the nearest first."""
    ids = [pk for pk in reversed(place.ancestor_ids()) if pk != place.pk]
    above = {org.pk: org for org in Organization.objects.filter(pk__in=ids)}
    return [place, *(above[pk] for pk in ids if pk in above)]


def rule_floors(*, place: Organization, on_date: datetime.date) -> list[RuleVersion]:
    """The versions in force on the day at each level above the place (city, province): floors it may only tighten."""
    floors = []
    for level in rule_levels(place)[1:]:
        version = own_version_in_force(place=level, on_date=on_date)
        if version is not None:
            floors.append(version)
    return floors


def rule_version_in_force(*, county: Organization, on_date: datetime.date) -> RuleVersion:
    """The county's own version in force, else the one it inherits from the nearest level above (city, province)."""
    for level in rule_levels(county):
        version = own_version_in_force(place=level, on_date=on_date)
        if version is not None:
            return version
    raise ValidationError(_("No rule table is in force for %(county)s.") % {"county": county})


def band_for(*, rule_version: RuleVersion, transaction_type: str, amount: Decimal) -> RuleBand:
    for band in rule_version.bands.filter(transaction_type=transaction_type).order_by("min_amount"):
        if amount >= band.min_amount and (band.max_amount is None or amount < band.max_amount):
            return band
    raise ValidationError(
        _("The rule table has no band for this transaction type and amount (%(amount)s yuan).") % {"amount": amount}
    )


@dataclass(frozen=True)
class VoteOutcome:
    quorate: bool
    passed: bool
    reason: str


def _reaches(count: int, total: int, numerator: int, denominator: int, inclusive: bool) -> bool:
    if total <= 0:
        return False
    share = Fraction(count, total)
    threshold = Fraction(numerator, denominator)
    return share >= threshold if inclusive else share > threshold


def evaluate_vote(
    *,
    rule: MeetingRule,
    expected: int,
    attended: int,
    votes_for: int,
    households_expected: int = 0,
    households_attended: int = 0,
) -> VoteOutcome:
    """Apply a body's quorum and pass rule; the reason says which part failed and by how much."""
    quorate = _reaches(attended, expected, rule.quorum_numerator, rule.quorum_denominator, rule.quorum_inclusive)
    if not quorate and rule.household_quorum_numerator and rule.household_quorum_denominator:
        quorate = _reaches(
            households_attended,
            households_expected,
            rule.household_quorum_numerator,
            rule.household_quorum_denominator,
            True,
        )
    if not quorate:
        return VoteOutcome(
            False,
            False,
            _("No quorum: %(attended)s of %(expected)s attended, %(fraction)s needed.")
            % {
                "attended": attended,
                "expected": expected,
                "fraction": f"{rule.quorum_numerator}/{rule.quorum_denominator}",
            },
        )
    base = expected if rule.pass_of_expected else attended
    passed = _reaches(votes_for, base, 1, 2, False)
    if not passed:
        return VoteOutcome(
            True,
            False,
            _("Not passed: %(votes)s votes for, more than half of %(base)s needed.")
            % {"votes": votes_for, "base": base},
        )
    return VoteOutcome(True, True, _("Passed: %(votes)s of %(base)s for.") % {"votes": votes_for, "base": base})


# Quorum defaults from the law (DOMAIN.md); each county may change them in a later version.
DEFAULT_MEETING_RULES = {
    MeetingBody.TWO_COMMITTEES: dict(quorum_numerator=1, quorum_denominator=2, quorum_inclusive=False),
    MeetingBody.PARTY_MEMBERS: dict(quorum_numerator=2, quorum_denominator=3, pass_of_expected=True),
    MeetingBody.VILLAGER_MEETING: dict(
        quorum_numerator=1,
        quorum_denominator=2,
        quorum_inclusive=False,
        household_quorum_numerator=2,
        household_quorum_denominator=3,
    ),
    MeetingBody.VILLAGER_REPRESENTATIVES: dict(quorum_numerator=2, quorum_denominator=3),
    MeetingBody.MEMBER_ASSEMBLY: dict(quorum_numerator=2, quorum_denominator=3),
    MeetingBody.MEMBER_REPRESENTATIVES: dict(quorum_numerator=2, quorum_denominator=3),
}

SMALL = dict(party_members=False, member_body="", township_approval=False)
MEDIUM = dict(party_members=True, member_body=MeetingBody.VILLAGER_REPRESENTATIVES, township_approval=True)
LARGE = dict(party_members=True, member_body=MeetingBody.MEMBER_ASSEMBLY, township_approval=True)

# (from, below, steps): small matters need the two committees and the township officer,
# larger ones the whole 四议 and the township leader.
DEFAULT_BANDS = {
    TransactionType.ASSET_PURCHASE: [
        (Decimal("0"), Decimal("20000"), SMALL),
        (Decimal("20000"), Decimal("100000"), MEDIUM),
        (Decimal("100000"), None, LARGE),
    ],
    TransactionType.FUND_DISBURSEMENT: [
        (Decimal("0"), Decimal("20000"), SMALL),
        (Decimal("20000"), Decimal("100000"), MEDIUM),
        (Decimal("100000"), None, LARGE),
    ],
    TransactionType.RESOURCE_CONTRACTING: [
        (Decimal("0"), Decimal("50000"), MEDIUM),
        (Decimal("50000"), None, LARGE),
    ],
    TransactionType.LEASING: [
        (Decimal("0"), Decimal("50000"), MEDIUM),
        (Decimal("50000"), None, LARGE),
    ],
    TransactionType.DISPOSAL: [
        (Decimal("0"), Decimal("10000"), SMALL),
        (Decimal("10000"), None, LARGE),
    ],
    TransactionType.MEMBER_CONFIRMATION: [(Decimal("0"), None, LARGE)],
    TransactionType.EQUITY_TRANSFER: [(Decimal("0"), None, MEDIUM)],
}


@transaction.atomic
def rule_version_seed_defaults(
    *, county: Organization, effective_from: datetime.date, publication_days: int = 7
) -> RuleVersion:
    """Create the next rule version of a county filled with the legal defaults."""
    last = RuleVersion.objects.filter(county=county).order_by("-number").first()
    version = RuleVersion.objects.create(
        county=county,
        number=(last.number + 1) if last else 1,
        effective_from=effective_from,
        publication_days=publication_days,
        note=_("Defaults from the law"),
    )
    for body, options in DEFAULT_MEETING_RULES.items():
        MeetingRule.objects.create(rule_version=version, body=body, on_failed_vote=OnFailedVote.RETURN, **options)
    for transaction_type, bands in DEFAULT_BANDS.items():
        for min_amount, max_amount, steps in bands:
            RuleBand.objects.create(
                rule_version=version,
                transaction_type=transaction_type,
                min_amount=min_amount,
                max_amount=max_amount,
                **steps,
            )
    return version
