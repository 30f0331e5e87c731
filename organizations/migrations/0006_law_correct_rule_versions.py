"""Each county gets a new rule version, in force from today, whose meeting rules and bands meet the law.

Until now every pass rule was "more than half", a members' assembly's included (农村集体经济组织法 art. 27
asks for 2/3 of all members), and equity transfer went to the villager representatives. Versions in force
keep their rows, so running matters keep the rules they started under; a version that only takes effect
later has no matters yet and is corrected where it stands. The county's own choices that are stricter than
the law are kept. The law's floor is frozen here as it stood when this migration was written.
"""

from fractions import Fraction

from django.db import migrations
from django.utils import timezone

# body: (quorum, household quorum, pass, pass counted against those who should attend);
# a share is (numerator, denominator, inclusive).
LAW = {
    "two_committees": ((1, 2, False), None, (1, 2, False), True),
    "party_members": ((2, 3, True), None, (1, 2, False), True),
    "villager_meeting": ((1, 2, False), (2, 3, True), (1, 2, False), False),
    "villager_representatives": ((2, 3, True), None, (1, 2, False), False),
    "member_assembly": ((2, 3, True), None, (2, 3, True), True),
    "member_representatives": ((2, 3, True), None, (2, 3, True), True),
}
VILLAGER_TO_COLLECTIVE = {"villager_meeting": "member_assembly", "villager_representatives": "member_representatives"}
NOTE = "依《农村集体经济组织法》更正会议规则与事项分档"


def _strict_enough(share, law):
    value, floor = Fraction(share[0], share[1]), Fraction(law[0], law[1])
    return value > floor or (value == floor and (law[2] or not share[2]))


def _corrected_rule(rule):
    """The rule's fields to change so it meets the law, {} when it does."""
    law = LAW.get(rule.body)
    if law is None:
        return {}
    quorum_law, household_law, pass_law, law_of_expected = law
    changes = {}
    quorum = (rule.quorum_numerator, rule.quorum_denominator, rule.quorum_inclusive)
    if not _strict_enough(quorum, quorum_law):
        changes.update(zip(("quorum_numerator", "quorum_denominator", "quorum_inclusive"), quorum_law))
    household = None
    if rule.household_quorum_numerator and rule.household_quorum_denominator:
        household = (rule.household_quorum_numerator, rule.household_quorum_denominator, True)
    if household is not None and (household_law is None or not _strict_enough(household, household_law)):
        changes["household_quorum_numerator"] = household_law[0] if household_law else None
        changes["household_quorum_denominator"] = household_law[1] if household_law else None
    passing = (rule.pass_numerator, rule.pass_denominator, rule.pass_inclusive)
    if not _strict_enough(passing, pass_law) or (law_of_expected and not rule.pass_of_expected):
        changes.update(zip(("pass_numerator", "pass_denominator", "pass_inclusive"), pass_law))
        changes["pass_of_expected"] = law_of_expected
    return changes


def _corrected_band(band):
    changes = {}
    body = band.member_body
    if band.transaction_type == "member_confirmation" and body != "member_assembly":
        body = changes["member_body"] = "member_assembly"
    elif band.transaction_type == "equity_transfer" and body in VILLAGER_TO_COLLECTIVE:
        body = changes["member_body"] = VILLAGER_TO_COLLECTIVE[body]
    if body in ("member_assembly", "member_representatives") and not band.party_proposal:
        changes["party_proposal"] = True
    return changes


def _needs_correction(version):
    return any(_corrected_rule(rule) for rule in version.meeting_rules.all()) or any(
        _corrected_band(band) for band in version.bands.all()
    )


def _apply(row, changes):
    for name, value in changes.items():
        setattr(row, name, value)


def _copy_of(model, row, **overrides):
    values = {
        field.attname: getattr(row, field.attname)
        for field in model._meta.concrete_fields
        if not field.primary_key and field.attname not in ("created_at",)
    }
    values.update(overrides)
    return model(**values)


def correct_rule_versions(apps, schema_editor):
    RuleVersion = apps.get_model("organizations", "RuleVersion")
    MeetingRule = apps.get_model("organizations", "MeetingRule")
    RuleBand = apps.get_model("organizations", "RuleBand")
    today = timezone.localdate()
    for county_id in RuleVersion.objects.values_list("county_id", flat=True).distinct().order_by("county_id"):
        versions = RuleVersion.objects.filter(county_id=county_id)
        for later in versions.filter(effective_from__gt=today):
            for row in list(later.meeting_rules.all()) + list(later.bands.all()):
                changes = _corrected_rule(row) if isinstance(row, MeetingRule) else _corrected_band(row)
                if changes:
                    _apply(row, changes)
                    row.save()
        in_force = versions.filter(effective_from__lte=today).order_by("-effective_from", "-number").first()
        if in_force is None or not _needs_correction(in_force):
            continue
        number = versions.order_by("-number").values_list("number", flat=True).first() + 1
        corrected = _copy_of(RuleVersion, in_force, number=number, effective_from=today, note=NOTE)
        corrected.save()
        for rule in in_force.meeting_rules.all():
            copy = _copy_of(MeetingRule, rule, rule_version_id=corrected.pk)
            _apply(copy, _corrected_rule(rule))
            copy.save()
        for band in in_force.bands.all():
            copy = _copy_of(RuleBand, band, rule_version_id=corrected.pk)
            _apply(copy, _corrected_band(band))
            copy.save()


class Migration(migrations.Migration):
    dependencies = [("organizations", "0005_meeting_pass_fraction")]

    operations = [migrations.RunPython(correct_rule_versions, migrations.RunPython.noop)]
