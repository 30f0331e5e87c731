"""Capturing pages with a document camera in a real browser: Chromium's fake camera stands in for the 高拍仪."""

import hashlib
import io

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from PIL import Image
from playwright.sync_api import expect

from documents.models import Evidence
from flows import services
from organizations.models import Organization
from tests.conftest import purchase_data

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    # The live server runs in this process, so the throwaway media root applies to it too.
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def matter(demo):
    """The DH01 secretary's asset purchase, applied for through the services."""
    return services.matter_apply(
        user=get_user_model().objects.get(username="sec_dh01"),
        organization=Organization.objects.get(code="DH01-JJ"),
        transaction_type="asset_purchase",
        data=purchase_data(),
    )


@pytest.fixture
def small_matter(world):
    """The same kind of matter in the small test world (quicker to build than the demo county)."""
    return services.matter_apply(
        user=world.secretary_a1,
        organization=world.collective_a1,
        transaction_type="asset_purchase",
        data=purchase_data(),
    )


def page_names(page) -> list[str]:
    return page.locator("#pages li").evaluate_all("items => items.map(item => item.dataset.name)")


def test_secretary_takes_pages_with_the_camera_reorders_and_submits(actor, live_server, matter):
    page = actor.login("sec_dh01")
    page.goto(live_server.url + reverse("documents:capture", args=[matter.pk]))
    expect(page.locator("#id_step")).to_have_value(matter.next_step)

    page.click("#camera-start")
    expect(page.locator("#camera-video")).to_be_visible()
    expect(page.locator("#camera-take")).to_be_enabled()
    for count in (1, 2, 3):
        page.click("#camera-take")
        expect(page.locator("#pages li")).to_have_count(count)
        expect(page.locator("#camera-take")).to_be_enabled()
    # Each page is fingerprinted in the browser before it is sent.
    expect(page.locator("#pages li[data-sha256]")).to_have_count(3)
    assert page_names(page) == ["page-1.jpg", "page-2.jpg", "page-3.jpg"]

    page.locator("#pages li").nth(1).locator(".page-remove").click()
    expect(page.locator("#pages li")).to_have_count(2)
    page.locator("#pages li").nth(1).locator(".page-up").click()
    assert page_names(page) == ["page-3.jpg", "page-1.jpg"]
    expect(page.locator("#page-count")).to_have_text("2")
    hashes = page.locator("#pages li").evaluate_all("items => items.map(item => item.dataset.sha256)")

    page.click("#capture-submit")
    page.wait_for_url(live_server.url + matter.get_absolute_url())
    expect(page.locator(".messages")).to_be_visible()

    files = list(Evidence.objects.filter(matter=matter).order_by("position", "pk"))
    assert [e.original_name for e in files] == ["page-3.jpg", "page-1.jpg"]
    assert [e.step for e in files] == [matter.next_step] * 2
    assert [e.sha256 for e in files] == hashes
    for evidence in files:
        with evidence.file.open("rb") as file:
            content = file.read()
        assert hashlib.sha256(content).hexdigest() == evidence.sha256
        image = Image.open(io.BytesIO(content))
        assert (evidence.content_type, evidence.extension, image.format) == ("image/jpeg", ".jpg", "JPEG")
        assert image.width >= 320
        assert evidence.thumbnail
        assert evidence.page_count == 1


def test_a_refused_camera_is_explained_in_words(actor, live_server, small_matter):
    matter = small_matter
    page = actor.login("sec_a1", password="pw")
    # As if the user had clicked "Block" on the browser's camera prompt.
    page.add_init_script(
        "navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));"
    )
    page.goto(live_server.url + reverse("documents:capture", args=[matter.pk]))
    page.click("#camera-start")
    expect(page.locator("#camera-error")).to_be_visible()
    expect(page.locator("#camera-error")).not_to_be_empty()
    expect(page.locator("#camera-take")).to_be_disabled()
    assert not Evidence.objects.exists()


def test_files_chosen_without_the_camera_are_sent_in_the_list_order(actor, live_server, small_matter):
    matter = small_matter
    page = actor.login("cashier_a1", password="pw")
    page.goto(live_server.url + reverse("documents:capture", args=[matter.pk]))
    png = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 120, 40)).save(png, "PNG")
    page.set_input_files(
        "#id_files",
        files=[
            {"name": "报价单一.png", "mimeType": "image/png", "buffer": png.getvalue()},
            {"name": "报价单二.png", "mimeType": "image/png", "buffer": png.getvalue()},
        ],
    )
    expect(page.locator("#pages li")).to_have_count(2)
    page.locator("#pages li").nth(0).locator(".page-down").click()
    assert page_names(page) == ["报价单二.png", "报价单一.png"]
    page.click("#capture-submit")
    page.wait_for_url(live_server.url + matter.get_absolute_url())
    files = list(Evidence.objects.filter(matter=matter).order_by("position", "pk"))
    assert [e.original_name for e in files] == ["报价单二.png", "报价单一.png"]
