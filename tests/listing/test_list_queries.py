"""Each list and search runs the same number of queries whatever the data size (issue 15 §3)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from flows.models import Step
from tests.drive import apply_purchase
from tests.views.conftest import to_step

pytestmark = pytest.mark.django_db

STEPS = [Step.CHECK_BY_TOWNSHIP, Step.CHECK_BY_TOWNSHIP, Step.DELIBERATE, Step.DELIBERATE]


def _pages(world):
    search = reverse("documents:archive_search")
    return [
        ("inbox", world.leader_a, reverse("flows:inbox")),
        ("matter list", world.leader_a, reverse("flows:matter_list")),
        ("archive text", world.inspector, f"{search}?all=on&text=购置"),
        ("archive party", world.inspector, f"{search}?all=on&party=东湖"),
        ("archive amount", world.inspector, f"{search}?all=on&amount_min=1&amount_max=99999999&date_field=applied"),
        ("members", world.secretary_a1, reverse("registers:member_list")),
        ("village board", None, reverse("board:village", args=[world.village_a1.pk])),
        ("board index", None, reverse("board:index")),
    ]


def _counts(client, world) -> dict[str, int]:
    counts = {}
    for name, user, url in _pages(world):
        client.logout()
        if user is not None:
            client.force_login(user)
        client.get(url)  # warm caches (sessions, user posts) as a second visit would
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, name
        counts[name] = len(captured)
    return counts


def test_every_list_runs_the_same_queries_with_more_matters(client, world):
    to_step(world, apply_purchase(world), Step.CHECK_BY_TOWNSHIP)
    few = _counts(client, world)
    for step in STEPS:
        to_step(world, apply_purchase(world), step)
    many = _counts(client, world)
    assert few == many


def test_the_archive_search_counts_no_further_than_a_thousand(client, world):
    from flows.models import Matter
    from listing.keyset import bounded_count

    to_step(world, apply_purchase(world), Step.CHECK_BY_TOWNSHIP)
    to_step(world, apply_purchase(world), Step.CHECK_BY_TOWNSHIP)
    assert bounded_count(Matter.objects.all(), limit=1) == 2  # limit + 1: "more than one"
    with CaptureQueriesContext(connection) as captured:
        assert bounded_count(Matter.objects.all(), limit=5) == 2
    assert len(captured) == 1 and "LIMIT" in captured[0]["sql"].upper()
    assert "COUNT(*)" not in captured[0]["sql"].upper().replace("SELECT COUNT(*) FROM (SELECT", "")


def test_the_board_index_shows_one_township_at_a_time(client, world):
    content = client.get(reverse("board:index")).content.decode()
    assert f'id="township-{world.township_a.pk}"' in content
    assert f'id="township-{world.township_b.pk}"' not in content
    assert world.village_b1.name not in content
    assert f"?township={world.township_b.pk}" in content
    content = client.get(reverse("board:index"), {"township": world.township_b.pk}).content.decode()
    assert world.village_b1.name in content and world.village_a1.name not in content
    # An unknown township shows the first one, not an error.
    assert client.get(reverse("board:index"), {"township": "x"}).status_code == 200
