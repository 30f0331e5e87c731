"""Reading and seeding the county rule tables: which version applies, which band, which quorum."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .law import LAW, BodyLaw, share_of
from .models import (
    LAW_NOTICE_DAYS,
    MeetingBody,
    MeetingRule,
    OnFailedVote,
    Organization,
    RuleBand,
    RuleVersion,
    TransactionType,
)


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


def evaluate_vote(
    *,
    rule: MeetingRule,
    expected: int,
    attended: int,
    votes_for: int,
    households_expected: int = 0,
    households_attended: int = 0,
) -> VoteOutcome:
    """Apply a body's quorum and pass rule; the reason says which part failed, with the counts and the fraction.

    ``attended`` counts everyone the law counts as attending (in person, online, by proxy)."""
    quorate = rule.quorum.reached(attended, expected)
    households = rule.household_quorum
    if not quorate and households is not None:
        quorate = households.reached(households_attended, households_expected)
    if not quorate:
        reason = _("No quorum: %(attended)s of %(expected)s attended, %(share)s needed (%(needed)s).") % {
            "attended": attended,
            "expected": expected,
            "share": rule.quorum.label(),
            "needed": rule.quorum.needed(expected),
        }
        if households is not None:
            reason += " " + _("Households: %(attended)s of %(expected)s attended, %(share)s needed (%(needed)s).") % {
                "attended": households_attended,
                "expected": households_expected,
                "share": households.label(),
                "needed": households.needed(households_expected),
            }
        return VoteOutcome(False, False, reason)
    base = expected if rule.pass_of_expected else attended
    if not rule.passing.reached(votes_for, base):
        return VoteOutcome(
            True,
            False,
            _(
                "Not passed: %(votes)s votes for, %(attended)s attended of %(expected)s who should attend; "
                "a decision needs %(rule)s, that is %(needed)s votes for."
            )
            % {
                "votes": votes_for,
                "attended": attended,
                "expected": expected,
                "rule": share_of(rule.passing, of_expected=rule.pass_of_expected),
                "needed": rule.passing.needed(base),
            },
        )
    return VoteOutcome(True, True, _("Passed: %(votes)s of %(base)s for.") % {"votes": votes_for, "base": base})


def _law_default(law: BodyLaw) -> dict:
    options = dict(
        quorum_numerator=law.quorum.numerator,
        quorum_denominator=law.quorum.denominator,
        quorum_inclusive=law.quorum.inclusive,
        pass_numerator=law.passing.numerator,
        pass_denominator=law.passing.denominator,
        pass_inclusive=law.passing.inclusive,
        pass_of_expected=law.pass_of_expected,
    )
    if law.household_quorum is not None:
        options.update(
            household_quorum_numerator=law.household_quorum.numerator,
            household_quorum_denominator=law.household_quorum.denominator,
        )
    return options


# Every body starts at the law's floor (organizations/law.py); a county may only make a rule stricter.
DEFAULT_MEETING_RULES = {MeetingBody(body): _law_default(law) for body, law in LAW.items()}


def attendance_defaults(body: str) -> dict:
    """Notice days and proxies of a body as the law sets them: written proxies only at a 成员大会 (art. 27)."""
    return {
        "notice_days": LAW_NOTICE_DAYS[body][0] if body in LAW_NOTICE_DAYS else 0,
        "proxies_per_attendee": 1 if body == MeetingBody.MEMBER_ASSEMBLY else 0,
    }


SMALL = dict(party_members=False, member_body="", township_approval=False)
MEDIUM = dict(party_members=True, member_body=MeetingBody.VILLAGER_REPRESENTATIVES, township_approval=True)
LARGE = dict(party_members=True, member_body=MeetingBody.MEMBER_ASSEMBLY, township_approval=True)
# The collective's membership and shares go to its own bodies (农村集体经济组织法 art. 26, 28), not the village's.
MEMBERS_MEDIUM = dict(MEDIUM, member_body=MeetingBody.MEMBER_REPRESENTATIVES)

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
    TransactionType.EQUITY_TRANSFER: [(Decimal("0"), None, MEMBERS_MEDIUM)],
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
    rows = [
        MeetingRule(
            rule_version=version,
            body=body,
            on_failed_vote=OnFailedVote.RETURN,
            **{**attendance_defaults(body), **options},
        )
        for body, options in DEFAULT_MEETING_RULES.items()
    ]
    rows += [
        RuleBand(
            rule_version=version,
            transaction_type=transaction_type,
            min_amount=min_amount,
            max_amount=max_amount,
            **steps,
        )
        for transaction_type, bands in DEFAULT_BANDS.items()
        for min_amount, max_amount, steps in bands
    ]
    for row in rows:
        row.full_clean()  # the defaults themselves must pass the law's floor
        row.save()
    return version
