"""Thirty villagers' phones (one address) post objections at the same moment: exactly the limit gets through."""

import threading

import pytest
from django.db import close_old_connections, connection
from django.test import Client
from django.urls import reverse

from flows.models import Notice, Objection, Step
from tests.conftest import build_world
from tests.drive import apply_purchase
from tests.views.conftest import to_step

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
POSTS = 30


@pytest.fixture(autouse=True)
def _needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are only real on PostgreSQL (SQLite serialises whole transactions)")


def post_at_once(url: str, addresses: list[str]) -> list[int]:
    barrier = threading.Barrier(len(addresses))
    codes = [0] * len(addresses)

    def send(index, address):
        try:
            client = Client()
            barrier.wait()
            data = {"name": f"村民{index}", "phone": "13800000000", "text": "报价偏高"}
            codes[index] = client.post(url, data, REMOTE_ADDR=address).status_code
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=send, args=(i, address)) for i, address in enumerate(addresses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return codes


def test_thirty_simultaneous_objections_from_one_address_let_exactly_the_limit_through(settings):
    world = build_world()
    notice = Notice.objects.get(matter=to_step(world, apply_purchase(world), Step.PUBLISH_RESOLUTION))
    codes = post_at_once(reverse("board:notice", args=[notice.pk]), ["203.0.113.50"] * POSTS)
    assert sorted(codes) == [302] * settings.OBJECTION_RATE_PER_HOUR + [400] * (
        POSTS - settings.OBJECTION_RATE_PER_HOUR
    )
    assert Objection.objects.filter(notice=notice).count() == settings.OBJECTION_RATE_PER_HOUR


def test_simultaneous_objections_from_many_addresses_stop_at_the_notice_limit(settings):
    settings.OBJECTION_NOTICE_RATE_PER_HOUR = 7
    world = build_world()
    notice = Notice.objects.get(matter=to_step(world, apply_purchase(world), Step.PUBLISH_RESOLUTION))
    codes = post_at_once(reverse("board:notice", args=[notice.pk]), [f"198.51.100.{n}" for n in range(1, 21)])
    assert codes.count(302) == 7
    assert Objection.objects.filter(notice=notice).count() == 7
