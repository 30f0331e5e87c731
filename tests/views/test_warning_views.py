"""The early-warning pages: who sees which warnings, the filters and counts, and who records the handling."""

import datetime
import itertools

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from registers.models import EarlyWarning, WarningLevel, WarningRule

pytestmark = pytest.mark.django_db

_subjects = itertools.count(1)
LIST = reverse("registers:warning_list")


def make_warning(organization, *, level=WarningLevel.RED, rule=WarningRule.CASH_OVER_LIMIT, title="现金超限", **fields):
    return EarlyWarning.objects.create(
        organization=organization,
        level=level,
        rule=rule,
        subject_key=f"test:{next(_subjects)}",
        title=title,
        detail="库存现金超过限额",
        **fields,
    )


def detail_url(warning) -> str:
    return reverse("registers:warning_detail", args=[warning.pk])


def handle_url(warning) -> str:
    return reverse("registers:warning_handle", args=[warning.pk])


def listed(response) -> set[int]:
    return {warning.pk for warning in response.context["page"]}


@pytest.fixture
def warnings(world):
    """One open warning of each colour in village A1, one in A2 and one in B1 (another township)."""
    return {
        "a1_red": make_warning(world.collective_a1, level=WarningLevel.RED, rule=WarningRule.PAYMENT_WITHOUT_APPROVAL),
        "a1_yellow": make_warning(world.collective_a1, level=WarningLevel.YELLOW),
        "a1_green": make_warning(world.collective_a1, level=WarningLevel.GREEN, rule=WarningRule.CONTRACT_EXPIRING),
        "a2_red": make_warning(world.collective_a2, level=WarningLevel.RED),
        "b1_red": make_warning(world.collective_b1, level=WarningLevel.RED),
    }


# --- who sees what -----------------------------------------------------------------------------


def test_the_list_needs_a_login(client):
    response = client.get(LIST)
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_user_without_a_post_is_refused(client, world):
    client.force_login(get_user_model().objects.create(username="nobody"))
    assert client.get(LIST).status_code == 403


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("leader_a", {"a1_red", "a1_yellow", "a1_green", "a2_red"}),
        ("officer_a", {"a1_red", "a1_yellow", "a1_green", "a2_red"}),
        ("inspector", {"a1_red", "a1_yellow", "a1_green", "a2_red", "b1_red"}),
        ("county_admin", {"a1_red", "a1_yellow", "a1_green", "a2_red", "b1_red"}),
        ("inspector_b", {"b1_red"}),
        ("leader_b", {"b1_red"}),
        ("secretary_a1", {"a1_red", "a1_yellow", "a1_green"}),
        ("supervisor_a2", {"a2_red"}),
    ],
)
def test_everyone_sees_the_warnings_of_their_jurisdiction(client, world, warnings, persona, expected):
    client.force_login(getattr(world, persona))
    response = client.get(LIST)
    assert response.status_code == 200
    assert listed(response) == {warnings[name].pk for name in expected}


def test_the_nav_links_to_the_warnings(client, world):
    client.force_login(world.leader_a)
    assert f'href="{LIST}"' in client.get(reverse("flows:inbox")).content.decode()


# --- filters and counts -----------------------------------------------------------------------


def test_counts_per_colour_ignore_the_colour_filter(client, world, warnings):
    client.force_login(world.leader_a)
    response = client.get(LIST, {"level": "red"})
    assert listed(response) == {warnings["a1_red"].pk, warnings["a2_red"].pk}
    assert [(value, count) for value, _label, count in response.context["counts"]] == [
        ("red", 2),
        ("yellow", 1),
        ("green", 1),
    ]
    content = response.content.decode()
    assert 'data-count-level="red"' in content and f'data-warning="{warnings["a1_red"].pk}"' in content


def test_filter_by_rule(client, world, warnings):
    client.force_login(world.inspector)
    response = client.get(LIST, {"rule": WarningRule.CONTRACT_EXPIRING})
    assert listed(response) == {warnings["a1_green"].pk}


@pytest.mark.parametrize(
    ("place", "expected"),
    [
        ("township_b", {"b1_red"}),
        ("village_a2", {"a2_red"}),
        ("township_a", {"a1_red", "a1_yellow", "a1_green", "a2_red"}),
    ],
)
def test_filter_by_township_or_village(client, world, warnings, place, expected):
    client.force_login(world.inspector)
    response = client.get(LIST, {"place": getattr(world, place).pk})
    assert listed(response) == {warnings[name].pk for name in expected}


def test_open_is_the_default_and_handled_ones_are_a_filter_away(client, world, warnings):
    handled = warnings["a1_yellow"]
    EarlyWarning.objects.filter(pk=handled.pk).update(
        handled_at=timezone.now(), handled_by=world.officer_a, handling="已处理"
    )
    client.force_login(world.leader_a)
    assert handled.pk not in listed(client.get(LIST))
    assert listed(client.get(LIST, {"state": "handled"})) == {handled.pk}
    assert handled.pk in listed(client.get(LIST, {"state": "all"}))


def test_filter_by_date_raised(client, world, warnings):
    old = warnings["a1_red"]
    EarlyWarning.objects.filter(pk=old.pk).update(raised_at=timezone.now() - datetime.timedelta(days=40))
    client.force_login(world.leader_a)
    since = (timezone.localdate() - datetime.timedelta(days=10)).isoformat()
    assert old.pk not in listed(client.get(LIST, {"date_from": since}))
    assert listed(client.get(LIST, {"date_to": since})) == {old.pk}


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "2026-13-40"},
        {"date_from": "2026-05-02", "date_to": "2026-05-01"},
        {"level": "purple"},
        {"rule": "no_such_rule"},
    ],
)
def test_bad_filters_are_a_clear_400(client, world, warnings, params):
    client.force_login(world.leader_a)
    response = client.get(LIST, params)
    assert response.status_code == 400
    assert response.context["form"].errors


def test_a_place_outside_the_jurisdiction_is_not_a_choice(client, world, warnings):
    client.force_login(world.leader_a)
    response = client.get(LIST, {"place": world.township_b.pk})
    assert response.status_code == 400
    assert "place" in response.context["form"].errors


def _queries(client, params=None) -> int:
    client.get(LIST, params)
    with CaptureQueriesContext(connection) as context:
        assert client.get(LIST, params).status_code == 200
    return len(context.captured_queries)


def test_the_list_runs_a_fixed_number_of_queries(client, world):
    client.force_login(world.inspector)
    for organization in (world.collective_a1, world.collective_b1):
        make_warning(organization, handled_by=world.officer_a, handled_at=timezone.now(), handling="已处理")
    few = _queries(client, {"state": "all"})
    for index in range(30):
        organization = (world.collective_a1, world.collective_a2, world.collective_b1)[index % 3]
        make_warning(organization, level=WarningLevel.values[index % 3], handled_by=world.leader_a)
    assert _queries(client, {"state": "all"}) == few


# --- the page of one warning ------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["leader_a", "officer_a", "inspector", "county_admin", "secretary_a1"])
def test_the_warning_page_opens_for_those_over_the_village(client, world, warnings, persona):
    client.force_login(getattr(world, persona))
    response = client.get(detail_url(warnings["a1_red"]))
    assert response.status_code == 200
    assert 'data-state="open"' in response.content.decode()


@pytest.mark.parametrize("persona", ["leader_b", "officer_b", "inspector_b", "secretary_a2", "secretary_b1"])
def test_a_warning_outside_the_jurisdiction_is_404(client, world, warnings, persona):
    client.force_login(getattr(world, persona))
    assert client.get(detail_url(warnings["a1_red"])).status_code == 404
    assert client.post(handle_url(warnings["a1_red"]), {"handling": "已处理"}).status_code == 404


@pytest.mark.parametrize(
    ("persona", "form_shown"), [("officer_a", True), ("inspector", False), ("secretary_a1", False)]
)
def test_only_the_township_gets_the_handling_form(client, world, warnings, persona, form_shown):
    client.force_login(getattr(world, persona))
    content = client.get(detail_url(warnings["a1_red"])).content.decode()
    assert ('id="handle-form"' in content) is form_shown


def test_the_township_records_the_handling_and_returns_to_the_list(client, world, warnings):
    warning = warnings["a1_red"]
    client.force_login(world.leader_a)
    back = f"{LIST}?level=red"
    response = client.post(handle_url(warning), {"handling": "已责令补办审批手续，款项已追回", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    warning.refresh_from_db()
    assert warning.handled_by == world.leader_a and warning.handling == "已责令补办审批手续，款项已追回"
    assert warning.pk not in listed(client.get(back))


def test_a_foreign_next_is_ignored(client, world, warnings):
    client.force_login(world.officer_a)
    response = client.post(handle_url(warnings["a1_red"]), {"handling": "已处理", "next": "https://evil.example/"})
    assert response["Location"] == LIST


def test_a_handled_warning_shows_who_when_and_how(client, world, warnings):
    warning = warnings["a1_red"]
    client.force_login(world.officer_a)
    client.post(handle_url(warning), {"handling": "已存入银行"})
    client.force_login(world.inspector)
    content = client.get(detail_url(warning)).content.decode()
    assert 'data-state="handled"' in content and "已存入银行" in content and "吴农经" in content
    assert 'id="handle-form"' not in content


@pytest.mark.parametrize("handling", ["", "   "])
def test_an_empty_handling_is_refused_and_nothing_is_saved(client, world, warnings, handling):
    warning = warnings["a1_red"]
    client.force_login(world.officer_a)
    response = client.post(handle_url(warning), {"handling": handling})
    assert response.status_code == 400
    assert "handling" in response.context["form"].errors
    warning.refresh_from_db()
    assert warning.is_open and warning.handling == ""


@pytest.mark.parametrize("persona", ["inspector", "county_admin", "secretary_a1", "supervisor_a1", "cashier_a1"])
def test_only_the_township_may_record_the_handling(client, world, warnings, persona):
    warning = warnings["a1_red"]
    client.force_login(getattr(world, persona))
    assert client.post(handle_url(warning), {"handling": "已处理"}).status_code == 403
    warning.refresh_from_db()
    assert warning.is_open


def test_a_warning_is_handled_once(client, world, warnings):
    warning = warnings["a1_red"]
    client.force_login(world.officer_a)
    client.post(handle_url(warning), {"handling": "第一次"})
    client.force_login(world.leader_a)
    assert client.post(handle_url(warning), {"handling": "第二次"}).status_code == 409
    warning.refresh_from_db()
    assert warning.handling == "第一次"


def test_getting_the_handle_address_goes_to_the_warning_page(client, world, warnings):
    client.force_login(world.officer_a)
    response = client.get(handle_url(warnings["a1_red"]))
    assert response.status_code == 302 and response["Location"] == detail_url(warnings["a1_red"])
