"""The inbox and the matter list as a workdesk: filters in the URL, sorting by any column, keyset pages,
waiting time and overdue marks, batch approval and delegation pages, and messages that say what was done."""

import datetime
import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone, translation

from flows.history import history_lines
from flows.models import Decision, Delegation, Matter, Step, StepRecord
from flows.selectors import matter_history
from flows.services import task_take
from organizations.models import Post, Role
from tests.drive import act, apply_purchase, end_publication, hold_meeting, refresh
from tests.workdesk import task_of, waiting_at

from .conftest import EXECUTABLE_BYTES, create_url, purchase_post
from .test_documents_views import upload
from .test_query_counts import assert_same_queries, queries_for

pytestmark = pytest.mark.django_db


def rows(response, table="inbox") -> list[int]:
    """The matters a list shows, in order, by their data-matter attribute."""
    content = response.content.decode()
    if f'id="{table}"' not in content:
        return []  # an empty inbox shows a sentence, not a table
    body = content.split(f'id="{table}"')[1].split("</table>")[0]
    return [int(pk) for pk in re.findall(r'data-matter="(\d+)"', body)]


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def backdate(matter: Matter, days: float) -> None:
    Matter.objects.filter(pk=matter.pk).update(step_since=timezone.now() - datetime.timedelta(days=days))


@pytest.fixture
def desk(world):
    """Four matters at the township check: two villages, two amounts, one long overdue."""
    small = waiting_at(world, Step.CHECK_BY_TOWNSHIP, total="8000.00", title="购置打印机")
    large = waiting_at(world, Step.CHECK_BY_TOWNSHIP, total="60000.00", title="购置拖拉机")
    other = apply_purchase(world, user=world.secretary_a2, organization=world.collective_a2, title="桃园购置桌椅")
    act(world.secretary_a2, other)  # a small purchase: proposal, two committees, publication, then the check
    hold_meeting(world, other, user=world.supervisor_a2)
    end_publication(other)
    assert refresh(other).next_step == Step.CHECK_BY_TOWNSHIP
    late = waiting_at(world, Step.CHECK_BY_TOWNSHIP, total="9000.00", title="购置水泵")
    backdate(late, 10)
    return {"small": small, "large": large, "other": other, "late": late}


# --- filters, sorting, pages --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"village": "a2"}, {"other"}),
        ({"amount_min": "10000"}, {"large"}),
        ({"amount_max": "8500"}, {"small", "other"}),
        ({"q": "拖拉机"}, {"large"}),
        ({"type": "asset_purchase"}, {"small", "large", "other", "late"}),
        ({"type": "fund_disbursement"}, set()),
        ({"step": "check_by_township"}, {"small", "large", "other", "late"}),
        ({"step": "approve_by_township"}, set()),
        ({"overdue": "overdue"}, {"late"}),
        ({"overdue": "escalated"}, {"late"}),
    ],
)
def test_the_inbox_filters_are_in_the_url(client, world, desk, query, expected):
    if query.get("village") == "a2":
        query = {"village": world.village_a2.pk}
    client.force_login(world.officer_a)
    response = client.get(reverse("flows:inbox"), query)
    assert response.status_code == 200
    assert set(rows(response)) == {desk[name].pk for name in expected}


def test_a_date_range_filters_by_the_day_applied(client, world, desk):
    Matter.objects.filter(pk=desk["small"].pk).update(created_at=timezone.now() - datetime.timedelta(days=40))
    client.force_login(world.officer_a)
    since = (timezone.localdate() - datetime.timedelta(days=5)).isoformat()
    shown = set(rows(client.get(reverse("flows:inbox"), {"date_from": since})))
    assert shown == {desk[name].pk for name in ("large", "other", "late")}
    until = (timezone.localdate() - datetime.timedelta(days=30)).isoformat()
    assert rows(client.get(reverse("flows:inbox"), {"date_to": until})) == [desk["small"].pk]


@pytest.mark.parametrize(
    "query, field",
    [
        ({"amount_min": "5000", "amount_max": "100"}, "amount_max"),
        ({"date_from": "2026-05-02", "date_to": "2026-05-01"}, "date_to"),
        ({"amount_min": "abc"}, "amount_min"),
        ({"amount_min": "1e5"}, "amount_min"),
        ({"amount_max": "12.345"}, "amount_max"),
        ({"amount_max": "-100"}, "amount_max"),
        ({"village": "999999"}, "village"),
        ({"step": "nonsense"}, "step"),
    ],
)
def test_a_bad_filter_is_a_clear_error_and_lists_nothing(client, world, desk, query, field):
    client.force_login(world.officer_a)
    response = client.get(reverse("flows:inbox"), query)
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert response.context["rows"] == []


def test_a_village_outside_the_jurisdiction_is_not_a_filter_choice(client, world, desk):
    client.force_login(world.officer_a)
    response = client.get(reverse("flows:inbox"), {"village": world.village_b1.pk})
    assert response.status_code == 400


@pytest.mark.parametrize("sort", ["amount", "-amount", "title", "-title", "waiting", "-waiting", "applied", "village"])
def test_the_inbox_sorts_by_any_column_with_a_stable_tiebreak(client, world, desk, sort):
    client.force_login(world.officer_a)
    shown = rows(client.get(reverse("flows:inbox"), {"sort": sort}))
    field = {"waiting": "step_since", "applied": "created_at", "village": "organization__parent__name"}.get(
        sort.removeprefix("-"), sort.removeprefix("-")
    )
    expected = list(
        Matter.objects.filter(pk__in=shown)
        .order_by(f"-{field}" if sort.startswith("-") else field, "-pk" if sort.startswith("-") else "pk")
        .values_list("pk", flat=True)
    )
    assert shown == expected


def test_the_inbox_waits_longest_first_by_default(client, world, desk):
    client.force_login(world.officer_a)
    assert rows(client.get(reverse("flows:inbox")))[0] == desk["late"].pk


def test_the_pages_follow_each_other_keeping_the_filters(client, world, desk, monkeypatch):
    monkeypatch.setattr("flows.views.LIST_PAGE_SIZE", 3)
    client.force_login(world.officer_a)
    first = client.get(reverse("flows:inbox"), {"sort": "amount", "type": "asset_purchase"})
    next_link = re.search(r'href="(\?[^"]*)" data-role="next"', first.content.decode()).group(1).replace("&amp;", "&")
    assert "type=asset_purchase" in next_link and "sort=amount" in next_link
    second = client.get(reverse("flows:inbox") + next_link)
    by_amount = [desk[name].pk for name in ("small", "other", "late", "large")]  # 8000 twice: the older first
    assert rows(first) == by_amount[:3] and rows(second) == by_amount[3:]
    previous_link = re.search(r'href="(\?[^"]*)" data-role="previous"', second.content.decode()).group(1)
    assert rows(client.get(reverse("flows:inbox") + previous_link.replace("&amp;", "&"))) == by_amount[:3]


def test_the_matter_list_filters_by_status_and_sorts(client, world, desk):
    client.force_login(world.inspector)
    response = client.get(reverse("flows:matter_list"), {"status": "in_progress", "sort": "-amount"})
    assert response.status_code == 200
    assert rows(response, "matters")[0] == desk["large"].pk


def test_inbox_queries_stay_the_same_with_filters_and_sort_at_two_sizes(client, world):
    client.force_login(world.officer_a)
    url = reverse("flows:inbox") + "?sort=-amount&overdue=&type=asset_purchase&amount_min=1"
    for n in range(2):
        waiting_at(world, Step.CHECK_BY_TOWNSHIP, title=f"购置{n}")
    few = queries_for(client, url)
    for n in range(2, 12):
        waiting_at(world, Step.CHECK_BY_TOWNSHIP, title=f"购置{n}")
    assert_same_queries(few, queries_for(client, url))


def test_matter_list_queries_stay_the_same_when_sorted_and_paged_at_two_sizes(client, world):
    client.force_login(world.inspector)
    for n in range(3):
        apply_purchase(world, title=f"购置{n}")
    url = reverse("flows:matter_list") + "?sort=village&overdue=overdue"
    few = queries_for(client, url)
    for n in range(3, 30):
        apply_purchase(world, title=f"购置{n}")
    assert_same_queries(few, queries_for(client, url))


# --- waiting and overdue ------------------------------------------------------------------------------


def test_the_inbox_marks_overdue_and_escalated_waits(client, world, desk):
    version = world.rule_version  # reminder after 3 days, escalation after 3 more
    backdate(desk["small"], version.reminder_days + 0.5)
    client.force_login(world.officer_a)
    content = client.get(reverse("flows:inbox")).content.decode()
    small_row = content.split(f'data-matter="{desk["small"].pk}"')[1].split("</tr>")[0]
    late_row = content.split(f'data-matter="{desk["late"].pk}"')[1].split("</tr>")[0]
    assert 'data-level="overdue"' in small_row and "3 days" in small_row
    assert 'data-level="escalated"' in late_row and "10 days" in late_row
    fresh_row = content.split(f'data-matter="{desk["large"].pk}"')[1].split("</tr>")[0]
    assert "data-level" not in fresh_row and "under a day" in fresh_row


def test_the_matter_page_says_how_long_it_has_waited(client, world, desk):
    client.force_login(world.officer_a)
    content = client.get(desk["late"].get_absolute_url()).content.decode()
    waiting = content.split('id="waiting"')[1].split("</p>")[0]
    assert "Township officer check" in waiting and "10 days" in waiting and "Escalated" in waiting


def test_a_returned_matter_is_headed_by_the_reason(client, world):
    matter = waiting_at(world, Step.CHECK_BY_TOWNSHIP)
    act(world.officer_a, matter, decision=Decision.RETURN, opinion="缺少盖章报价单", return_to=Step.APPLY)
    client.force_login(world.secretary_a1)
    content = client.get(matter.get_absolute_url()).content.decode()
    heading = content.split('id="return-reason"')[1].split("</div>")[0]
    assert "缺少盖章报价单" in heading and "Pre-application" in heading
    assert content.index('id="return-reason"') < content.index('id="path"')


# --- messages that say what was done -------------------------------------------------------------------


def test_agreeing_a_step_says_what_was_done_and_where_the_matter_went(client, world):
    matter = waiting_at(world, Step.CHECK_BY_TOWNSHIP)
    client.force_login(world.officer_a)
    response = client.post(reverse("flows:perform_step", args=[task_of(matter).pk]), {"decision": "agree"})
    assert response.status_code == 302
    (message,) = messages_of(response)
    assert "Township officer check" in message and matter.title in message and "Township leader approval" in message
    assert message != "Recorded."


def test_the_decision_choices_read_alike(client, world):
    matter = waiting_at(world, Step.CHECK_BY_TOWNSHIP)
    client.force_login(world.officer_a)
    response = client.get(matter.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans")
    choices = [label for value, label in response.context["step_form"].fields["decision"].choices]
    assert sorted(str(label) for label in choices) == sorted(["同意", "退回", "驳回"])


# --- batch approval pages -----------------------------------------------------------------------------


def test_the_leader_selects_from_the_inbox_and_confirms_a_batch(client, world):
    matters = [waiting_at(world, Step.APPROVE_BY_TOWNSHIP, title=f"购置{n}") for n in range(3)]
    above = waiting_at(world, Step.APPROVE_BY_TOWNSHIP, total="90000.00", title="购置大件")
    client.force_login(world.leader_a)
    inbox = client.get(reverse("flows:inbox")).content.decode()
    for matter in matters:
        assert f'name="task" value="{task_of(matter).pk}"' in inbox
    assert f'name="task" value="{task_of(above).pk}"' not in inbox
    ids = [task_of(m).pk for m in [*matters, above]]
    confirm = client.get(reverse("flows:batch_confirm"), {"task": ids, "next": "/?sort=amount"})
    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert "50000.00" in page and page.count('data-included="yes"') == 3 and 'data-included="no"' in page
    response = client.post(
        reverse("flows:batch_confirm"), {"task": ids, "opinion": "同意，请按规定实施。", "next": "/?sort=amount"}
    )
    assert response.status_code == 302 and response.url == "/?sort=amount"
    assert all(refresh(m).next_step == Step.IMPLEMENT for m in matters)
    assert refresh(above).next_step == Step.APPROVE_BY_TOWNSHIP
    done, failed = messages_of(response)
    assert "3 matters" in done and "购置大件" in failed and "batch limit" in failed


def test_a_batch_without_an_opinion_is_refused_and_nothing_is_done(client, world):
    matter = waiting_at(world, Step.APPROVE_BY_TOWNSHIP)
    client.force_login(world.leader_a)
    response = client.post(reverse("flows:batch_confirm"), {"task": [task_of(matter).pk], "opinion": ""})
    assert response.status_code == 400
    assert refresh(matter).next_step == Step.APPROVE_BY_TOWNSHIP
    assert not StepRecord.objects.filter(matter=matter, step=Step.APPROVE_BY_TOWNSHIP).exists()


def test_a_batch_of_mixed_steps_goes_back_with_the_reason(client, world):
    at_check = waiting_at(world, Step.CHECK_BY_TOWNSHIP)
    at_approve = waiting_at(world, Step.APPROVE_BY_TOWNSHIP)
    client.force_login(world.leader_a)
    response = client.get(reverse("flows:batch_confirm"), {"task": [task_of(at_check).pk, task_of(at_approve).pk]})
    assert response.status_code == 302
    assert "one and the same step" in messages_of(response)[0]


@pytest.mark.parametrize("persona", ["leader_b", "inspector", "secretary_a1"])
def test_the_wrong_persona_cannot_batch_approve(client, world, persona):
    matter = waiting_at(world, Step.APPROVE_BY_TOWNSHIP)
    client.force_login(getattr(world, persona))
    response = client.post(reverse("flows:batch_confirm"), {"task": [task_of(matter).pk], "opinion": "同意"})
    assert response.status_code == 403
    assert refresh(matter).next_step == Step.APPROVE_BY_TOWNSHIP


def test_the_batch_page_needs_a_login(client, world):
    response = client.get(reverse("flows:batch_confirm"))
    assert response.status_code == 302 and reverse("login") in response.url


# --- delegation pages ---------------------------------------------------------------------------------


def delegation_post(world, **overrides) -> dict:
    today = timezone.localdate()
    post = Post.objects.get(user=world.leader_a, role=Role.TOWNSHIP_LEADER)
    return {
        "post": str(post.pk),
        "delegate": str(world.second_leader_a.pk),
        "starts_on": today.isoformat(),
        "ends_on": (today + datetime.timedelta(days=3)).isoformat(),
        "reason": "下乡督导防汛",
        "hand_over_now": "on",
        **overrides,
    }


def test_the_leader_hands_over_tasks_from_the_delegation_page(client, world):
    matter = waiting_at(world, Step.APPROVE_BY_TOWNSHIP)
    task_take(user=world.leader_a, task_id=task_of(matter).pk)
    client.force_login(world.leader_a)
    page = client.get(reverse("flows:delegations"))
    assert page.status_code == 200 and 'id="delegation-form"' in page.content.decode()
    response = client.post(reverse("flows:delegations"), delegation_post(world))
    assert response.status_code == 302
    assert task_of(matter).owner == world.second_leader_a
    assert "1 tasks you held" in messages_of(response)[0]
    listing = client.get(reverse("flows:delegations")).content.decode()
    assert "下乡督导防汛" in listing and 'data-delegation="' in listing


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"delegate": ""}, "delegate"),
        ({"reason": ""}, "reason"),
        ({"ends_on": "2000-01-01"}, "ends_on"),
        ({"starts_on": "not a date"}, "starts_on"),
    ],
)
def test_a_bad_delegation_form_says_why_and_saves_nothing(client, world, overrides, field):
    client.force_login(world.leader_a)
    response = client.post(reverse("flows:delegations"), delegation_post(world, **overrides))
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not Delegation.objects.exists()


def test_a_delegate_from_another_township_is_refused(client, world):
    client.force_login(world.leader_a)
    response = client.post(reverse("flows:delegations"), delegation_post(world, delegate=str(world.leader_b.pk)))
    assert response.status_code == 400
    assert not Delegation.objects.exists()


def test_a_village_post_has_no_delegation_form(client, world):
    client.force_login(world.secretary_a1)
    page = client.get(reverse("flows:delegations"))
    assert page.status_code == 200 and 'id="delegation-form"' not in page.content.decode()
    assert client.post(reverse("flows:delegations"), delegation_post(world)).status_code == 403


def test_only_the_delegator_ends_a_delegation(client, world):
    client.force_login(world.leader_a)
    client.post(reverse("flows:delegations"), delegation_post(world, hand_over_now=""))
    delegation = Delegation.objects.get()
    client.force_login(world.second_leader_a)
    assert client.post(reverse("flows:delegation_end", args=[delegation.pk])).status_code == 403
    client.force_login(world.leader_a)
    assert client.post(reverse("flows:delegation_end", args=[delegation.pk])).status_code == 302
    assert Delegation.objects.get().revoked_at is not None


def test_the_matter_page_shows_who_acted_for_whom(client, world):
    matter = waiting_at(world, Step.APPROVE_BY_TOWNSHIP)
    task_take(user=world.leader_a, task_id=task_of(matter).pk)
    client.force_login(world.leader_a)
    client.post(reverse("flows:delegations"), delegation_post(world))
    act(world.second_leader_a, matter)
    client.force_login(world.inspector)
    records = client.get(matter.get_absolute_url()).content.decode().split('id="records"')[1].split("</table>")[0]
    assert "冯副镇长 (for 郑镇长)" in records
    assert "Hand over" in records


@pytest.mark.parametrize("persona, shown", [("leader_a", False), ("officer_a", False), ("secretary_a1", True)])
def test_the_new_application_button_is_for_those_who_apply(client, world, persona, shown):
    client.force_login(getattr(world, persona))
    main = client.get(reverse("flows:inbox")).content.decode().split("<main>")[1]
    assert (reverse("flows:matter_new") in main) is shown


# --- file errors and limits by the file field --------------------------------------------------------


def test_a_bad_file_is_refused_next_to_the_file_field_with_the_limit_shown(client, world):
    client.force_login(world.secretary_a1)
    form = client.get(create_url()).content.decode()
    assert "at most 20 MB per file" in form.split('id="id_files"')[1].split("</div>")[0]
    response = client.post(
        create_url(), purchase_post(world.collective_a1, files=[upload("scan.exe", EXECUTABLE_BYTES)])
    )
    assert response.status_code == 400
    content = response.content.decode()
    errors = content.split('id="file-errors"')[1].split("</ul>")[0]
    assert "scan.exe" in errors
    assert not Matter.objects.exists()


def test_a_bad_file_at_a_step_is_shown_under_the_steps_file_field(client, world):
    matter = waiting_at(world, Step.CHECK_BY_TOWNSHIP)
    client.force_login(world.officer_a)
    response = client.post(
        reverse("flows:perform_step", args=[task_of(matter).pk]),
        {"decision": "agree", "files": [upload("scan.exe", EXECUTABLE_BYTES)]},
    )
    assert response.status_code == 400
    assert response.context["step_form"].errors["files"]
    assert refresh(matter).next_step == Step.CHECK_BY_TOWNSHIP


def test_the_history_names_fields_and_values_in_words(world):
    matter = waiting_at(world, Step.CHECK_BY_TOWNSHIP, total="8000.00")
    act(world.officer_a, matter, decision=Decision.REJECT, opinion="不符合规定")
    with translation.override("zh-hans"):
        lines = history_lines(matter_history(refresh(matter)))
    newest = next(line for line in lines if line.changes)  # newest first: the rejection
    changes = {change.label: (change.old, change.new) for change in newest.changes}
    assert newest.what == "修改事项"
    assert changes["状态"] == ("办理中", "已驳回")
    assert changes["下一环节"] == ("乡镇初审", "办结")
    assert changes["办结时间"][0] == "—"
