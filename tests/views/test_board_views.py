"""The public board (阳光公开): readable on a phone without login; objections only during the period."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from flows import services
from flows.models import Notice, Objection, Step
from tests.drive import refresh

pytestmark = pytest.mark.django_db

VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'


@pytest.fixture
def notice(world, matter_at) -> Notice:
    """The resolution notice of an A1 matter, its publication period running."""
    return Notice.objects.get(matter=matter_at(Step.PUBLISH_RESOLUTION))


def objection_post(**overrides) -> dict:
    return {"name": "张三", "phone": "138 0000 0000", "text": "报价偏高，请核实", **overrides}


def end_period(notice: Notice) -> None:
    """Move the deadline into the past without closing the notice, as if beat had not swept yet."""
    Notice.objects.filter(pk=notice.pk).update(ends_at=timezone.now() - datetime.timedelta(minutes=1))


# --- reading without login ---------------------------------------------------------------


def test_board_index_lists_villages_for_anonymous_visitors(client, world, notice):
    response = client.get(reverse("board:index"))
    assert response.status_code == 200
    content = response.content.decode()
    assert world.village_a1.name in content
    assert reverse("board:village", args=[world.village_a1.pk]) in content
    assert VIEWPORT in content


def test_village_board_shows_the_notice_to_anonymous_visitors(client, world, notice):
    response = client.get(reverse("board:village", args=[world.village_a1.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert notice.title in content
    assert reverse("board:notice", args=[notice.pk]) in content
    assert VIEWPORT in content


def test_notice_page_shows_the_notice_and_the_objection_form_to_anonymous_visitors(client, world, notice):
    response = client.get(reverse("board:notice", args=[notice.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert notice.title in content
    assert notice.matter.title in content
    assert 'id="objection-form"' in content
    assert VIEWPORT in content


def test_another_villages_board_does_not_show_the_notice(client, world, notice):
    response = client.get(reverse("board:village", args=[world.village_a2.pk]))
    assert response.status_code == 200
    assert notice.title not in response.content.decode()


def test_board_of_something_that_is_not_a_village_is_404(client, world):
    assert client.get(reverse("board:village", args=[world.collective_a1.pk])).status_code == 404
    assert client.get(reverse("board:village", args=[world.township_a.pk])).status_code == 404


def test_missing_notice_is_404(client, world):
    assert client.get(reverse("board:notice", args=[999999])).status_code == 404


# --- objecting -----------------------------------------------------------------------------


def test_objection_during_the_period_is_saved_and_holds_the_matter(client, world, notice):
    response = client.post(reverse("board:notice", args=[notice.pk]), objection_post())
    assert response.status_code == 302
    assert response.url == reverse("board:objection_received")
    objection = Objection.objects.get()
    assert (objection.notice, objection.name, objection.phone, objection.text) == (
        notice,
        "张三",
        "138 0000 0000",
        "报价偏高，请核实",
    )
    assert objection.client_key == services.client_key_for("127.0.0.1")
    end_period(notice)
    assert services.publication_try_close(notice_id=notice.pk) is False
    assert refresh(notice.matter).next_step == Step.PUBLISH_RESOLUTION


def test_objection_confirmation_is_shown_after_the_redirect(client, world, notice):
    response = client.post(reverse("board:notice", args=[notice.pk]), objection_post(), follow=True)
    assert "Your objection was received. The village supervisor will handle it." in response.content.decode()


def test_objection_after_the_period_is_refused_and_not_saved(client, world, notice):
    end_period(notice)
    response = client.post(reverse("board:notice", args=[notice.pk]), objection_post())
    assert response.status_code == 400
    assert "The publication period is over." in response.content.decode()
    assert not Objection.objects.exists()


def test_objection_on_a_closed_notice_is_refused_and_not_saved(client, world, notice):
    Notice.objects.filter(pk=notice.pk).update(closed_at=timezone.now())
    response = client.post(reverse("board:notice", args=[notice.pk]), objection_post())
    assert response.status_code == 400
    assert not Objection.objects.exists()


@pytest.mark.parametrize("phone", ["abc", "12", "138-0000-0000-0000-0000-00", "<script>"])
def test_objection_with_a_bad_phone_is_refused_and_not_saved(client, world, notice, phone):
    response = client.post(reverse("board:notice", args=[notice.pk]), objection_post(phone=phone))
    assert response.status_code == 400
    assert "Enter a phone number." in response.content.decode()
    assert not Objection.objects.exists()


def test_objection_without_text_is_refused(client, world, notice):
    response = client.post(reverse("board:notice", args=[notice.pk]), objection_post(text=""))
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not Objection.objects.exists()


def test_objections_from_one_device_are_rate_limited(client, world, notice, settings):
    settings.OBJECTION_RATE_PER_HOUR = 1
    assert client.post(reverse("board:notice", args=[notice.pk]), objection_post()).status_code == 302
    response = client.post(reverse("board:notice", args=[notice.pk]), objection_post(text="再提一次"))
    assert response.status_code == 400
    assert "Too many objections from this device; try again in an hour." in response.content.decode()
    assert Objection.objects.count() == 1
