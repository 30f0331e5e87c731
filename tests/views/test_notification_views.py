"""The notification centre, marking read, opening, the HTTP fallback of the live stream, and the bell."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from flows.context_processors import live_status
from flows.models import Notification, NotificationKind
from flows.notifications import notify
from tests.drive import apply_purchase

pytestmark = pytest.mark.django_db

CENTRE = reverse("flows:notifications")
MARK_READ = reverse("flows:notifications_mark_read")
POLL = reverse("flows:notifications_poll")


def open_url(notification) -> str:
    return reverse("flows:notification_open", args=[notification.pk])


def warn(user, title="现金库存超限", **kwargs) -> Notification:
    return notify([user], kind=kwargs.pop("kind", NotificationKind.WARNING), title=title, **kwargs)[0]


def listed_ids(response) -> list[int]:
    return [row.pk for row in response.context["page"].object_list]


# --- who may come in ---------------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get(reverse("flows:notifications"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_signed_out_page_polling_gets_401_and_no_new_csrf_cookie(client):
    """Not the login page: a background script following that redirect would replace the CSRF cookie."""
    response = client.get(POLL)
    assert response.status_code == 401
    assert response.json() == {"signed_in": False}
    assert "csrftoken" not in response.cookies
    assert response["Cache-Control"] == "no-store"


def test_anonymous_users_cannot_mark_or_open(client, world):
    row = warn(world.officer_a)
    for url in (MARK_READ, open_url(row)):
        response = client.post(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    row.refresh_from_db()
    assert not row.is_read


def test_another_users_notification_is_a_404_and_stays_unread(client, world):
    row = warn(world.officer_a, url="/registers/warnings/")
    client.force_login(world.officer_b)
    assert client.post(open_url(row)).status_code == 404
    assert client.get(open_url(row)).status_code == 404
    row.refresh_from_db()
    assert not row.is_read


def test_another_users_notifications_are_never_listed_polled_or_marked(client, world):
    theirs = warn(world.officer_a)
    mine = warn(world.officer_b)
    client.force_login(world.officer_b)
    assert listed_ids(client.get(CENTRE)) == [mine.pk]
    assert [event["id"] for event in client.get(POLL, {"after": 0}).json()["events"]] == [mine.pk]
    client.post(MARK_READ, {"ids": [theirs.pk]})
    client.post(MARK_READ)
    theirs.refresh_from_db()
    assert not theirs.is_read


# --- the centre --------------------------------------------------------------------------------------


def test_the_centre_lists_newest_first_without_job_progress(client, world):
    older = warn(world.officer_a, "一")
    notify([world.officer_a], kind=NotificationKind.JOB_PROGRESS, title="渲染中", data={"progress": 50})
    newer = warn(world.officer_a, "二", kind=NotificationKind.JOB_DONE)
    client.force_login(world.officer_a)
    response = client.get(CENTRE)
    assert response.status_code == 200
    assert listed_ids(response) == [newer.pk, older.pk]
    assert b'data-notification="%d"' % newer.pk in response.content


def test_the_centre_filters_read_and_unread(client, world):
    read = warn(world.officer_a, "已读")
    unread = warn(world.officer_a, "未读")
    Notification.objects.filter(pk=read.pk).update(read_at=read.created_at)
    client.force_login(world.officer_a)
    assert listed_ids(client.get(CENTRE, {"state": "unread"})) == [unread.pk]
    assert listed_ids(client.get(CENTRE, {"state": "read"})) == [read.pk]
    assert listed_ids(client.get(CENTRE, {"state": "all"})) == [unread.pk, read.pk]
    response = client.get(CENTRE, {"state": "bogus"})
    assert (response.context["state"], listed_ids(response)) == ("all", [unread.pk, read.pk])


def test_the_centre_is_paginated_and_keeps_the_filter(client, world):
    for index in range(31):
        warn(world.officer_a, f"预警{index}")
    client.force_login(world.officer_a)
    first = client.get(CENTRE, {"state": "unread"})
    assert len(listed_ids(first)) == 30
    after = first.context["page"].next_cursor
    assert f"?state=unread&amp;after={after}".encode() in first.content
    second = client.get(CENTRE, {"state": "unread", "after": after})
    assert len(listed_ids(second)) == 1
    assert set(listed_ids(second)).isdisjoint(listed_ids(first))


def test_the_centre_runs_the_same_queries_for_few_and_many_rows(client, world):
    client.force_login(world.officer_a)
    matter = apply_purchase(world)
    for index in range(3):
        warn(world.officer_a, f"预警{index}", matter=matter, url=matter.get_absolute_url())
    client.get(CENTRE)
    with CaptureQueriesContext(connection) as few:
        client.get(CENTRE)
    for index in range(27):
        warn(world.officer_a, f"更多{index}", matter=matter, url=matter.get_absolute_url())
    with CaptureQueriesContext(connection) as many:
        response = client.get(CENTRE)
    assert len(listed_ids(response)) == 30
    assert len(few.captured_queries) == len(many.captured_queries)


# --- opening and marking read ------------------------------------------------------------------------


def test_opening_marks_read_and_goes_where_the_notification_points(client, world):
    matter = apply_purchase(world)
    row = warn(world.secretary_a1, url=matter.get_absolute_url(), matter=matter)
    client.force_login(world.secretary_a1)
    response = client.post(open_url(row))
    assert (response.status_code, response.url) == (302, matter.get_absolute_url())
    row.refresh_from_db()
    assert row.is_read


def test_opening_by_get_goes_there_but_changes_nothing(client, world):
    row = warn(world.officer_a, url="/registers/warnings/")
    client.force_login(world.officer_a)
    response = client.get(open_url(row))
    assert (response.status_code, response.url) == (302, "/registers/warnings/")
    row.refresh_from_db()
    assert not row.is_read


def test_opening_never_leaves_the_site(client, world):
    row = warn(world.officer_a, url="https://evil.example/phish")
    client.force_login(world.officer_a)
    assert client.post(open_url(row)).url == CENTRE


def test_marking_all_read_leaves_other_users_alone(client, world):
    mine = [warn(world.officer_a), warn(world.officer_a)]
    theirs = warn(world.officer_b)
    client.force_login(world.officer_a)
    response = client.post(MARK_READ, {"next": CENTRE + "?state=unread"})
    assert (response.status_code, response.url) == (302, CENTRE + "?state=unread")
    assert all(Notification.objects.get(pk=row.pk).is_read for row in mine)
    assert not Notification.objects.get(pk=theirs.pk).is_read


def test_marking_some_read_answers_scripts_in_json(client, world):
    first, second = warn(world.officer_a), warn(world.officer_a)
    client.force_login(world.officer_a)
    response = client.post(MARK_READ, {"ids": [first.pk]}, headers={"accept": "application/json"})
    assert response.json() == {"marked": 1, "unread": 1}
    assert Notification.objects.get(pk=first.pk).is_read
    assert not Notification.objects.get(pk=second.pk).is_read


def test_marking_with_a_bad_id_is_refused_and_changes_nothing(client, world):
    row = warn(world.officer_a)
    client.force_login(world.officer_a)
    response = client.post(MARK_READ, {"ids": [str(row.pk), "x"]})
    assert response.status_code == 400
    row.refresh_from_db()
    assert not row.is_read


def test_marking_read_needs_a_post(client, world):
    client.force_login(world.officer_a)
    assert client.get(MARK_READ).status_code == 405


def test_marking_read_never_redirects_off_the_site(client, world):
    client.force_login(world.officer_a)
    assert client.post(MARK_READ, {"next": "https://evil.example/"}).url == CENTRE


# --- the HTTP fallback -------------------------------------------------------------------------------


def test_polling_returns_rows_after_the_id_with_the_unread_count(client, world):
    first = warn(world.officer_a, "一")
    second = warn(world.officer_a, "二", kind=NotificationKind.REMINDER)
    notify([world.officer_a], kind=NotificationKind.JOB_PROGRESS, title="渲染中")
    client.force_login(world.officer_a)
    response = client.get(POLL, {"after": first.pk})
    assert response["Cache-Control"] == "no-store"
    data = response.json()
    assert [event["kind"] for event in data["events"]] == [NotificationKind.REMINDER, NotificationKind.JOB_PROGRESS]
    assert data["events"][0]["id"] == second.pk
    assert data["unread"] == 2  # job progress rows are born read
    assert data["latest"] == data["events"][-1]["id"]


def test_polling_with_nothing_new_keeps_the_id(client, world):
    row = warn(world.officer_a)
    client.force_login(world.officer_a)
    assert client.get(POLL, {"after": row.pk}).json() == {"events": [], "unread": 1, "latest": row.pk}
    assert client.get(POLL).json() == {"events": [], "unread": 1, "latest": row.pk}


def test_polling_with_a_bad_id_is_refused(client, world):
    client.force_login(world.officer_a)
    assert client.get(POLL, {"after": "-1"}).status_code == 400


def test_polling_needs_a_get(client, world):
    client.force_login(world.officer_a)
    assert client.post(POLL).status_code == 405


# --- the bell and the live parts of pages ------------------------------------------------------------


def test_every_page_shows_the_unread_count_and_where_the_stream_starts(client, world):
    warn(world.officer_a)
    latest = warn(world.officer_a)
    notify([world.officer_a], kind=NotificationKind.JOB_PROGRESS, title="渲染中")
    client.force_login(world.officer_a)
    content = client.get(reverse("flows:inbox")).content.decode()
    assert 'id="live-unread" data-unread="2"' in content
    assert f'data-live-after="{latest.pk + 1}"' in content
    assert "live.js" in content
    assert 'data-live-region data-live-kinds="task_new' in content


def test_the_bell_costs_one_query(world):
    warn(world.officer_a)
    user = type(world.officer_a).objects.get(pk=world.officer_a.pk)
    with CaptureQueriesContext(connection) as context:
        status = live_status(user)
    assert len(context.captured_queries) == 1
    assert status["live_unread"] == 1


def test_anonymous_pages_have_no_bell_and_no_stream(client):
    content = client.get(reverse("login")).content.decode()
    assert "live-bell" not in content
    assert "data-live-socket" not in content


def test_the_matter_page_marks_its_live_regions(client, world):
    matter = apply_purchase(world)
    client.force_login(world.secretary_a1)
    content = client.get(matter.get_absolute_url()).content.decode()
    for region in ("matter-live-summary", "matter-live-records", "matter-live-publication", "matter-live-task-log"):
        assert f'id="{region}" data-live-region data-live-matter="{matter.pk}"' in content
