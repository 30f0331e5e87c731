"""The county's rule table (today the admin's rule version page) refuses rules looser than the law."""

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import translation

from organizations.models import MeetingBody, MeetingRule, RuleBand, TransactionType

pytestmark = pytest.mark.django_db


def _field_values(row, exclude=()) -> dict:
    values = {}
    for name, value in model_to_dict(row).items():
        if name in exclude:
            continue
        if value is True:
            values[name] = "on"
        elif value is False:
            continue
        else:
            values[name] = "" if value is None else str(value)
    return values


def rule_table_post(version, *, rule_changes=None, band_changes=None) -> dict:
    """The POST body of the rule version page as it stands, with changes to one meeting rule and one band."""
    data = _field_values(version, exclude=("id",))
    for prefix, rows, changes in (
        ("meeting_rules", list(version.meeting_rules.order_by("pk")), rule_changes or {}),
        ("bands", list(version.bands.order_by("pk")), band_changes or {}),
    ):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": str(len(rows)),
                f"{prefix}-INITIAL_FORMS": str(len(rows)),
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
        for index, row in enumerate(rows):
            values = _field_values(row, exclude=("rule_version",))
            for match, new in changes.values():
                if all(getattr(row, name) == value for name, value in match.items()):
                    values.update(new)
                    values = {name: value for name, value in values.items() if value is not False}
            data.update({f"{prefix}-{index}-{name}": value for name, value in values.items()})
            data[f"{prefix}-{index}-rule_version"] = str(version.pk)
    return data


@pytest.fixture
def root(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", password="Maint-2026-x")
    client.force_login(user)
    return user


def change_url(version):
    return reverse("admin:organizations_ruleversion_change", args=[version.pk])


def test_the_rule_table_as_seeded_saves(client, world, root):
    version = world.rule_version
    data = rule_table_post(
        version,
        rule_changes={"r": ({"body": MeetingBody.MEMBER_ASSEMBLY}, {"pass_numerator": "3", "pass_denominator": "4"})},
    )
    response = client.post(change_url(version), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert MeetingRule.objects.get(rule_version=version, body=MeetingBody.MEMBER_ASSEMBLY).pass_numerator == 3


def test_a_members_assembly_passing_by_half_is_refused_and_nothing_is_saved(client, world, root):
    version = world.rule_version
    data = rule_table_post(
        version,
        rule_changes={
            "r": (
                {"body": MeetingBody.MEMBER_ASSEMBLY},
                {"pass_numerator": "1", "pass_denominator": "2", "pass_inclusive": False},
            )
        },
    )
    with translation.override("zh-hans"):
        response = client.post(change_url(version), data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    content = response.content.decode()
    assert "表决通过规则低于《农村集体经济组织法》第二十七条的规定" in content
    assert "县级规则只能严于法定标准，不得放宽。" in content
    rule = MeetingRule.objects.get(rule_version=version, body=MeetingBody.MEMBER_ASSEMBLY)
    assert (rule.pass_numerator, rule.pass_denominator, rule.pass_inclusive) == (2, 3, True)


def test_member_confirmation_sent_to_the_representatives_is_refused_naming_article_28(client, world, root):
    version = world.rule_version
    data = rule_table_post(
        version,
        band_changes={
            "b": (
                {"transaction_type": TransactionType.MEMBER_CONFIRMATION},
                {"member_body": MeetingBody.MEMBER_REPRESENTATIVES},
            )
        },
    )
    with translation.override("zh-hans"):
        response = client.post(change_url(version), data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert "成员代表大会不得决定成员身份确认事项（《农村集体经济组织法》第二十八条）" in response.content.decode()
    band = RuleBand.objects.get(rule_version=version, transaction_type=TransactionType.MEMBER_CONFIRMATION)
    assert band.member_body == MeetingBody.MEMBER_ASSEMBLY
