"""A real Celery worker closes a due publication: the path the demo and production take."""

import datetime
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from flows.models import Notice, Step
from flows.tasks import close_due_publications, close_publication
from project.celery import app
from tests.conftest import build_world
from tests.drive import apply_purchase, refresh
from tests.flows.test_spine import to_step

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def real_worker():
    """An in-process worker on Redis when REDIS_URL is set, else on kombu's in-memory transport."""
    previous = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager = False
    app.conf.broker_url = settings.REDIS_URL or "memory://"
    # Producers are pooled per app: one made by an earlier test would still point at the old broker.
    _reset_connection_pools()
    try:
        with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
            yield
    finally:
        app.conf.task_always_eager, app.conf.broker_url = previous
        _reset_connection_pools()


def _reset_connection_pools():
    app._pool = None
    app.amqp._producer_pool = None


def wait_until(predicate, seconds=45.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except OperationalError:
            # SQLite's shared in-memory test database answers "table is locked" to a read while the
            # worker's thread holds a write: transient, so look again.
            pass
        time.sleep(0.1)
    return False


def test_worker_closes_a_due_publication_and_the_matter_moves_on(real_worker):
    world = build_world()
    matter = to_step(world, apply_purchase(world), Step.PUBLISH_RESOLUTION)
    notice = Notice.objects.get(matter=matter)
    Notice.objects.filter(pk=notice.pk).update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
    close_publication.delay(notice.pk)
    assert wait_until(lambda: refresh(matter).next_step == Step.CHECK_BY_TOWNSHIP)


def test_worker_sweep_closes_only_due_publications(real_worker):
    world = build_world()
    due = to_step(world, apply_purchase(world, title="到期"), Step.PUBLISH_RESOLUTION)
    running = to_step(world, apply_purchase(world, title="未到期"), Step.PUBLISH_RESOLUTION)
    Notice.objects.filter(matter=due).update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
    close_due_publications.delay()
    assert wait_until(lambda: refresh(due).next_step == Step.CHECK_BY_TOWNSHIP)
    assert refresh(running).next_step == Step.PUBLISH_RESOLUTION
    assert Notice.objects.get(matter=running).closed_at is None
