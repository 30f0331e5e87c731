"""The law's floor under every county rule: each meeting body's quorum and pass rule, and who decides what.

A county may make any rule stricter than the law, never looser (DOMAIN.md, spine step 4). This module holds
plain values only (bodies and transaction types by their stored value), so that the models validate with it
and the rule tables are seeded from it without an import cycle.
"""

import math
from dataclasses import dataclass
from fractions import Fraction

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


@dataclass(frozen=True)
class Share:
    """A share of a count: "at least 2/3" (inclusive) or "more than 1/2" (exclusive)."""

    numerator: int
    denominator: int
    inclusive: bool

    @property
    def fraction(self) -> Fraction:
        return Fraction(self.numerator, self.denominator)

    def reached(self, count: int, total: int) -> bool:
        if total <= 0:
            return False
        share = Fraction(count, total)
        return share >= self.fraction if self.inclusive else share > self.fraction

    def needed(self, total: int) -> int:
        """The fewest of ``total`` that reach the share (3 of 5 for "more than 1/2", 8 of 12 for "at least 2/3")."""
        exact = self.fraction * total
        return math.ceil(exact) if self.inclusive else math.floor(exact) + 1

    def at_least_as_strict_as(self, other: "Share") -> bool:
        """True when every count reaching this share also reaches ``other``."""
        if self.fraction != other.fraction:
            return self.fraction > other.fraction
        return other.inclusive or not self.inclusive

    def times(self, other: "Share") -> "Share":
        """The least share of the whole two shares in a row guarantee ("more than 1/2 of at least 2/3")."""
        product = self.fraction * other.fraction
        return Share(product.numerator, product.denominator, self.inclusive and other.inclusive)

    def label(self) -> str:
        values = {"fraction": f"{self.numerator}/{self.denominator}"}
        return _("at least %(fraction)s") % values if self.inclusive else _("more than %(fraction)s") % values


def share_of(share: Share, *, of_expected: bool) -> str:
    """ "at least 2/3 of those who should attend", "more than 1/2 of those who attended"."""
    values = {"fraction": f"{share.numerator}/{share.denominator}"}
    if of_expected:
        if share.inclusive:
            return _("at least %(fraction)s of those who should attend") % values
        return _("more than %(fraction)s of those who should attend") % values
    if share.inclusive:
        return _("at least %(fraction)s of those who attended") % values
    return _("more than %(fraction)s of those who attended") % values


@dataclass(frozen=True)
class BodyLaw:
    """What the law (or, where no law speaks, the rules of the party) asks of one meeting body."""

    quorum: Share
    passing: Share
    pass_of_expected: bool
    basis: Promise
    # A villagers' meeting is also quorate when this share of households attend (组织法 art. 22).
    household_quorum: Share | None = None


MORE_THAN_HALF = Share(1, 2, False)
TWO_THIRDS = Share(2, 3, True)

ORGANIC_LAW_22 = gettext_lazy("Organic Law of the Villagers' Committees, art. 22")
ORGANIC_LAW_26 = gettext_lazy("Organic Law of the Villagers' Committees, art. 26")
COLLECTIVES_LAW_26 = gettext_lazy("Rural Collective Economic Organisations Law, art. 26")
COLLECTIVES_LAW_27 = gettext_lazy("Rural Collective Economic Organisations Law, art. 27")
COLLECTIVES_LAW_28 = gettext_lazy("Rural Collective Economic Organisations Law, art. 28")

# Keys are MeetingBody values. The rule tables are seeded with exactly these (rules.DEFAULT_MEETING_RULES).
LAW: dict[str, BodyLaw] = {
    "two_committees": BodyLaw(
        quorum=MORE_THAN_HALF,
        passing=MORE_THAN_HALF,
        pass_of_expected=True,
        basis=gettext_lazy("the rules of procedure of the two village committees"),
    ),
    "party_members": BodyLaw(
        quorum=TWO_THIRDS,
        passing=MORE_THAN_HALF,
        pass_of_expected=True,
        basis=gettext_lazy("the rules of procedure of party members' meetings"),
    ),
    # 村民委员会组织法 art. 22: more than half of villagers aged 18+, or 2/3 of households; a majority of those present.
    "villager_meeting": BodyLaw(
        quorum=MORE_THAN_HALF,
        household_quorum=TWO_THIRDS,
        passing=MORE_THAN_HALF,
        pass_of_expected=False,
        basis=ORGANIC_LAW_22,
    ),
    # Art. 26: at least 2/3 of its members attend; a majority of those present.
    "villager_representatives": BodyLaw(
        quorum=TWO_THIRDS, passing=MORE_THAN_HALF, pass_of_expected=False, basis=ORGANIC_LAW_26
    ),
    # 农村集体经济组织法 art. 27: at least 2/3 of members with full capacity attend; 2/3 of ALL members agree.
    "member_assembly": BodyLaw(quorum=TWO_THIRDS, passing=TWO_THIRDS, pass_of_expected=True, basis=COLLECTIVES_LAW_27),
    # Art. 28: 2/3 of all representatives agree, so fewer than 2/3 present can never decide.
    "member_representatives": BodyLaw(
        quorum=TWO_THIRDS, passing=TWO_THIRDS, pass_of_expected=True, basis=COLLECTIVES_LAW_28
    ),
}

STRICTER_ONLY = gettext_lazy("A county may make the law's rule stricter, never looser.")


def _sane(share: Share) -> str:
    """Why no meeting could ever reach the share, or ""."""
    if share.numerator > share.denominator or (share.numerator == share.denominator and not share.inclusive):
        return _("No meeting can reach %(share)s: a share cannot exceed the whole.") % {"share": share.label()}
    return ""


def meeting_rule_law_errors(
    *,
    body: str,
    quorum: Share,
    household_quorum: Share | None,
    passing: Share,
    pass_of_expected: bool,
) -> dict[str, str]:
    """Where a body's rule is looser than the law (or cannot be met): {field name: message}; {} when lawful."""
    errors = {}
    for field, share in (
        ("quorum_numerator", quorum),
        ("household_quorum_numerator", household_quorum),
        ("pass_numerator", passing),
    ):
        problem = share and _sane(share)
        if problem:
            errors[field] = problem
    law = LAW.get(body)
    if law is None or errors:
        return errors
    if not quorum.at_least_as_strict_as(law.quorum):
        errors["quorum_numerator"] = _(
            "The quorum would be looser than %(basis)s allows: %(share)s must attend. %(stricter)s"
        ) % {"basis": law.basis, "share": share_of(law.quorum, of_expected=True), "stricter": STRICTER_ONLY}
    if household_quorum is not None:
        if law.household_quorum is None:
            errors["household_quorum_numerator"] = _(
                "%(basis)s knows no quorum by households for this body: leave the household quorum empty."
            ) % {"basis": law.basis}
        elif not household_quorum.at_least_as_strict_as(law.household_quorum):
            errors["household_quorum_numerator"] = _(
                "The household quorum would be looser than %(basis)s allows: %(share)s of households. %(stricter)s"
            ) % {"basis": law.basis, "share": law.household_quorum.label(), "stricter": STRICTER_ONLY}
    if pass_of_expected or not law.pass_of_expected:
        # Votes counted against those who should attend are never more of them than against those present.
        strict_enough = passing.at_least_as_strict_as(law.passing)
    else:
        # Counted against those present, the rule still guarantees its share of the quorum of everyone,
        # unless a household quorum lets a meeting sit with fewer people.
        strict_enough = household_quorum is None and passing.times(quorum).at_least_as_strict_as(law.passing)
    if not strict_enough:
        errors["pass_numerator"] = _(
            "The pass rule would be looser than %(basis)s allows: a decision needs %(share)s. %(stricter)s"
        ) % {
            "basis": law.basis,
            "share": share_of(law.passing, of_expected=law.pass_of_expected),
            "stricter": STRICTER_ONLY,
        }
    return errors


# Art. 28: the members' representative assembly may not decide what art. 26 items 1, 3, 8, 10 and 12 reserve to
# the full members' assembly; of our transaction types that is member confirmation (item 3).
RESERVED_TO_MEMBER_ASSEMBLY = frozenset({"member_confirmation"})
# The collective economic organisation's membership and shares are decided by its own bodies, not the village's.
COLLECTIVE_MATTERS = frozenset({"member_confirmation", "equity_transfer"})
COLLECTIVE_BODIES = frozenset({"member_assembly", "member_representatives"})
VILLAGER_BODIES = frozenset({"villager_meeting", "villager_representatives"})


def band_law_errors(*, transaction_type: str, member_body: str, party_proposal: bool) -> dict[str, str]:
    """Where a rule band sends a matter to a body the law does not let decide it: {field name: message}."""
    errors = {}
    if transaction_type in RESERVED_TO_MEMBER_ASSEMBLY and member_body != "member_assembly":
        if member_body == "member_representatives":
            errors["member_body"] = _(
                "The members' representative assembly may not decide member confirmation (%(basis)s): "
                "send it to the members' assembly."
            ) % {"basis": COLLECTIVES_LAW_28}
        else:
            errors["member_body"] = _(
                "Member confirmation is decided by the members' assembly (%(basis)s, item 3): "
                "send it to the members' assembly."
            ) % {"basis": COLLECTIVES_LAW_26}
    elif transaction_type in COLLECTIVE_MATTERS and member_body in VILLAGER_BODIES:
        errors["member_body"] = _(
            "Equity transfer concerns the shares of the collective economic organisation: it is decided by its "
            "own members' assembly or members' representative assembly (%(basis)s), not by a villagers' body."
        ) % {"basis": COLLECTIVES_LAW_26}
    if member_body in COLLECTIVE_BODIES and not party_proposal:
        errors["party_proposal"] = _(
            "A matter for the members' (representative) assembly first goes to the village party organisation "
            "(%(basis)s): keep the party branch proposal."
        ) % {"basis": COLLECTIVES_LAW_26}
    return errors
