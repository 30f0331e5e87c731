"""The checks a rule table passes before it is saved: its ladders and the floors above it.

Each ladder (the bands of one transaction type) starts at 0 yuan, runs without a gap or an overlap
and ends open ("10万元及以上"); every transaction type has one. A county's table is no looser than the
table in force at each level above it (city, province): the amounts up to which less is asked are no
higher, the days to publish are no fewer, every step the floor asks for is asked for too. The law's
floor is the models' own validation (``full_clean`` in rulebook/services.py).
"""

from decimal import Decimal
from fractions import Fraction

from django.utils.translation import gettext as _

from organizations.amounts import band_range_label, yuan_short
from organizations.models import MeetingBody, MeetingRule, RuleBand, RuleVersion, TransactionType

from .tables import STEP_FIELDS, Table, body_label, label_of, listed, ordered_bands, shown, type_label

INFINITY = Decimal("Infinity")


def ladder_problems(table: Table) -> list[str]:
    """Gaps, overlaps, a ladder that does not start at 0 or does not end open, a transaction type without one."""
    problems = []
    for transaction_type in TransactionType.values:
        name = type_label(transaction_type)
        bands = ordered_bands(table.bands.get(transaction_type, []))
        if not bands:
            problems.append(
                _("%(type)s has no band: every transaction type needs a ladder from 0 yuan up.") % {"type": name}
            )
            continue
        reached = Decimal("0")
        for band in bands:
            low, high = band["min_amount"], band["max_amount"]
            top = high if high is not None else INFINITY
            if top <= low:
                problems.append(
                    _("%(type)s: the band from %(low)s must end above where it starts.")
                    % {"type": name, "low": yuan_short(low)}
                )
                continue
            if low > reached:
                problems.append(
                    _("%(type)s: no band covers %(range)s (a gap between the bands).")
                    % {"type": name, "range": band_range_label(reached, low)}
                )
            elif low < reached:
                overlap_top = min(reached, top)
                problems.append(
                    _("%(type)s: two bands both cover %(range)s (the bands overlap).")
                    % {"type": name, "range": band_range_label(low, None if overlap_top == INFINITY else overlap_top)}
                )
            reached = max(reached, top)
        if reached != INFINITY:
            problems.append(
                _("%(type)s: amounts of %(amount)s and above are in no band; leave the last band's upper limit empty.")
                % {"type": name, "amount": yuan_short(reached)}
            )
    return problems


# --- no looser than the level above ----------------------------------------------------------------

# Days and limits: "up" when a higher value is stricter, "down" when a lower one is.
UP, DOWN = "up", "down"
VERSION_DIRECTIONS = {
    "publication_days": UP,
    "quotation_threshold": DOWN,
    "quotations_required": UP,
    "trading_threshold": DOWN,
    "reminder_days": DOWN,
    "escalation_days": DOWN,
    "split_window_days": UP,
    "cash_limit": DOWN,
    "contract_expiry_days": UP,
    "rent_grace_days": DOWN,
    "asset_idle_days": DOWN,
    "batch_approval_limit": DOWN,
}
# A member meeting of all members decides more than one of their representatives, which decides more than none.
BODY_RANK = {
    "": 0,
    MeetingBody.VILLAGER_REPRESENTATIVES: 1,
    MeetingBody.MEMBER_REPRESENTATIVES: 1,
    MeetingBody.VILLAGER_MEETING: 2,
    MeetingBody.MEMBER_ASSEMBLY: 2,
}


def level_name(version: RuleVersion) -> str:
    """ "the city table of 示范市 (v2)" """
    return _("the %(level)s rule table of %(place)s (version %(number)s)") % {
        "level": version.county.get_kind_display().lower(),
        "place": version.county.name,
        "number": version.number,
    }


def looser_than(table: Table, floor: Table, floor_name: str) -> list[str]:
    """Every way the table is looser than the floor, each naming the floor's level."""
    problems = []
    for name, direction in VERSION_DIRECTIONS.items():
        if name not in table.values or name not in floor.values:
            continue
        mine, theirs = table.values[name], floor.values[name]
        if (direction == UP and mine < theirs) or (direction == DOWN and mine > theirs):
            problems.append(
                _("%(field)s: %(value)s is looser than %(floor)s, which sets %(limit)s.")
                % {
                    "field": label_of(RuleVersion, name),
                    "value": shown(RuleVersion, name, mine),
                    "floor": floor_name,
                    "limit": shown(RuleVersion, name, theirs),
                }
            )
    problems += _looser_bands(table, floor, floor_name)
    problems += _looser_meetings(table, floor, floor_name)
    return problems


def _band_at(bands: list[dict], amount: Decimal) -> dict | None:
    for band in bands:
        top = band["max_amount"] if band["max_amount"] is not None else INFINITY
        if band["min_amount"] <= amount < top:
            return band
    return None


def _looser_bands(table: Table, floor: Table, floor_name: str) -> list[str]:
    problems = []
    for transaction_type in TransactionType.values:
        mine, theirs = table.bands.get(transaction_type, []), floor.bands.get(transaction_type, [])
        # Every amount where either ladder changes: between two of them both ladders are constant.
        points = sorted(
            {band["min_amount"] for band in mine + theirs}
            | {band["max_amount"] for band in mine + theirs if band["max_amount"] is not None}
        )
        for position, point in enumerate(points):
            band, floor_band = _band_at(mine, point), _band_at(theirs, point)
            if band is None or floor_band is None:
                continue
            missing = _missing_steps(band, floor_band)
            if missing:
                top = points[position + 1] if position + 1 < len(points) else None
                problems.append(
                    _("%(type)s, %(range)s: %(floor)s asks for %(steps)s.")
                    % {
                        "type": type_label(transaction_type),
                        "range": band_range_label(point, top),
                        "floor": floor_name,
                        "steps": listed(missing),
                    }
                )
    return problems


def _missing_steps(band: dict, floor_band: dict) -> list[str]:
    missing = []
    for name in STEP_FIELDS:
        if name == "member_body":
            if BODY_RANK.get(band.get(name) or "", 0) < BODY_RANK.get(floor_band.get(name) or "", 0):
                missing.append(shown(RuleBand, name, floor_band[name]))
        elif floor_band.get(name) is True and band.get(name) is not True:
            missing.append(label_of(RuleBand, name))
    return missing


def _reaches(fraction: Fraction, inclusive: bool, floor_fraction: Fraction, floor_inclusive: bool) -> bool:
    """At least as strict: a higher share, or the same share with "more than" where the floor has "at least"."""
    if fraction != floor_fraction:
        return fraction > floor_fraction
    return floor_inclusive or not inclusive


def _fraction(numerator, denominator) -> Fraction | None:
    if not numerator or not denominator:
        return None
    return Fraction(numerator, denominator)


def _looser_meetings(table: Table, floor: Table, floor_name: str) -> list[str]:
    problems = []
    for body in MeetingBody.values:
        mine, theirs = table.meeting_rules.get(body), floor.meeting_rules.get(body)
        if not mine or not theirs:
            continue
        looser = []
        quorum = _fraction(mine["quorum_numerator"], mine["quorum_denominator"])
        floor_quorum = _fraction(theirs["quorum_numerator"], theirs["quorum_denominator"])
        if quorum is not None and floor_quorum is not None:
            if not _reaches(quorum, mine["quorum_inclusive"], floor_quorum, theirs["quorum_inclusive"]):
                looser.append(_("quorum"))
        households = _fraction(mine.get("household_quorum_numerator"), mine.get("household_quorum_denominator"))
        floor_households = _fraction(
            theirs.get("household_quorum_numerator"), theirs.get("household_quorum_denominator")
        )
        # Another way to a quorum is looser unless the floor has it too, at most as easily.
        if households is not None and (floor_households is None or households < floor_households):
            looser.append(_("household quorum"))
        # The pass fraction, where the model has one (a members' assembly: 2/3 of all members).
        passing = _fraction(mine.get("pass_numerator"), mine.get("pass_denominator"))
        floor_passing = _fraction(theirs.get("pass_numerator"), theirs.get("pass_denominator"))
        if passing is not None and floor_passing is not None:
            if not _reaches(passing, mine.get("pass_inclusive"), floor_passing, theirs.get("pass_inclusive")):
                looser.append(_("pass rule"))
        if theirs.get("pass_of_expected") and not mine.get("pass_of_expected"):
            looser.append(label_of(MeetingRule, "pass_of_expected"))
        if looser:
            problems.append(
                _("%(body)s: the %(what)s is looser than %(floor)s.")
                % {"body": body_label(body), "what": listed(looser), "floor": floor_name}
            )
    return problems
