"""Certificate and publication jobs safe to lose: a broker that is down, the sweep, and the SQLite broker's upkeep."""

import datetime
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone
from kombu import Connection
from kombu.exceptions import OperationalError as BrokerDown
from sqlalchemy import create_engine, text

from flows import services
from flows.models import Step
from flows.tasks import close_publication
from project.celery import purge_handled_messages
from registers.models import ShareCertificate, ShareKind
from registers.shares import certificates_reissue, shares_allocate
from registers.tasks import render_certificate, render_missing_certificates
from tests.drive import apply_purchase
from tests.factories import MemberFactory
from tests.flows.test_spine import to_step

from .test_shares import english, media_root  # noqa: F401 — autouse fixtures shared with the share tests

pytestmark = pytest.mark.django_db


@pytest.fixture
def holder(world):
    member = MemberFactory(organization=world.collective_a1, name="张三丰", household="A1-09")
    shares_allocate(member=member, kind=ShareKind.POPULATION, shares=10)
    return member


def issued_long_ago(certificate, settings) -> None:
    earlier = timezone.now() - datetime.timedelta(seconds=settings.JOB_REQUEUE_SECONDS + 1)
    ShareCertificate.objects.filter(pk=certificate.pk).update(issued_at=earlier)


def test_a_certificate_page_with_the_broker_down_says_it_will_follow(client, world, holder):
    (certificate,) = certificates_reissue(members=[holder], render=False)
    client.force_login(world.secretary_a1)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with mock.patch.object(render_certificate, "apply_async", side_effect=BrokerDown("Error 111")) as sent:
        response = client.get(reverse("registers:certificate_pdf", args=[certificate.pk]))
    sent.assert_called_once()
    assert response.status_code == 202
    assert "being rendered" in response.content.decode()


def test_the_sweep_queues_certificates_of_a_matter_whose_pdf_never_came(world, holder, settings):
    matter = apply_purchase(world)
    (lost,) = certificates_reissue(members=[holder], matter=matter, render=False)
    issued_long_ago(lost, settings)
    with mock.patch("registers.tasks.enqueue", return_value=True) as enqueue:
        assert render_missing_certificates() == 1
    enqueue.assert_called_once_with(render_certificate, lost.pk)


def test_the_sweep_leaves_seeded_recent_superseded_and_rendered_certificates(world, holder, settings):
    matter = apply_purchase(world)
    (seeded,) = certificates_reissue(members=[holder], render=False)
    issued_long_ago(seeded, settings)
    (recent,) = certificates_reissue(members=[holder], matter=matter, render=False)
    seeded.refresh_from_db()
    assert seeded.superseded_at is not None
    with mock.patch("registers.tasks.enqueue", return_value=True) as enqueue:
        assert render_missing_certificates() == 0
        render_certificate(recent.pk)
        issued_long_ago(recent, settings)
        assert render_missing_certificates() == 0
    enqueue.assert_not_called()


def test_a_period_longer_than_redis_keeps_a_message_is_left_to_the_sweep(
    world, settings, django_capture_on_commit_callbacks
):
    matter = to_step(world, apply_purchase(world), Step.PROPOSE)
    with (
        mock.patch.object(close_publication, "apply_async") as scheduled,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.publication_open(matter=matter, step="open_resolution_publication")  # 7 days: beat closes it
        settings.REDIS_VISIBILITY_TIMEOUT = 30 * 24 * 3600
        notice = services.publication_open(matter=matter, step="open_resolution_publication")
    scheduled.assert_called_once_with((notice.pk,), eta=notice.ends_at)


def test_handled_messages_of_the_sqlite_broker_are_purged_after_a_day(tmp_path, settings):
    url = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    settings.CELERY_BROKER_URL = url
    with Connection(url) as connection:
        queue = connection.SimpleQueue("upkeep")
        queue.put({"n": 1})
        queue.put({"n": 2})
        queue.get(timeout=5).ack()  # handled: kept with visible=0
        queue.close()
    assert purge_handled_messages() == 0  # handled just now
    engine = create_engine(url.removeprefix("sqla+"))
    with engine.begin() as sql:
        sql.execute(
            text("UPDATE kombu_message SET timestamp = :old WHERE visible = 0"), {"old": datetime.datetime(2020, 1, 1)}
        )
    assert purge_handled_messages() == 1
    with engine.begin() as sql:
        assert sql.execute(text("SELECT COUNT(*) FROM kombu_message")).scalar() == 1  # the waiting one stays
    engine.dispose()


def test_purging_on_redis_is_nothing_to_do(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/15"
    assert purge_handled_messages() == 0
