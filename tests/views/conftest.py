"""What the view tests share: an English-speaking client, a throwaway media root, matters at a given step,
and the POST body of the asset purchase form."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from PIL import Image

from flows.models import Matter, Step
from tests.drive import act, apply_purchase, end_publication, hold_meeting, refresh


def png_bytes() -> bytes:
    """A real (tiny) PNG: evidence is checked by content, so the magic bytes alone are not enough."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, format="PNG")
    return buffer.getvalue()


PNG_BYTES = png_bytes()
EXECUTABLE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


@pytest.fixture
def client(client):
    """The test client, asking for English so that assertions can quote the untranslated messages."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded evidence goes to a directory that disappears with the test."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def to_step(world, matter: Matter, step: str) -> Matter:
    """Agree every step, each by the persona who owns it, until the matter waits at ``step``."""
    for _ in range(20):
        matter = refresh(matter)
        if matter.next_step == step:
            return matter
        if matter.next_step == Step.PROPOSE:
            act(world.secretary_a1, matter)
        elif matter.next_step in (Step.DELIBERATE, Step.REVIEW_BY_PARTY_MEMBERS, Step.RESOLVE_BY_MEMBERS):
            hold_meeting(world, matter)
        elif matter.next_step in (Step.PUBLISH_RESOLUTION, Step.PUBLISH_RESULT):
            end_publication(matter)
        elif matter.next_step == Step.CHECK_BY_TOWNSHIP:
            act(world.officer_a, matter)
        elif matter.next_step == Step.APPROVE_BY_TOWNSHIP:
            act(world.leader_a, matter)
        elif matter.next_step == Step.IMPLEMENT:
            act(world.cashier_a1, matter, decision="done", opinion="已签订合同并付款")
    raise AssertionError(f"never reached {step}")


@pytest.fixture
def matter_at(world):
    """Build an A1 asset purchase and carry it to a step: ``matter_at(Step.CHECK_BY_TOWNSHIP, total="50000.00")``."""

    def build(step: str, **kwargs) -> Matter:
        return to_step(world, apply_purchase(world, **kwargs), step)

    return build


def purchase_post(
    organization,
    *,
    total="8000.00",
    items=(("台式电脑", "办公设备", "1", "8000.00"),),
    quotations=(),
    chosen_supplier="供应商1",
    **overrides,
) -> dict:
    """The POST body of the asset purchase form, management forms included.

    ``items`` are (name, category, quantity, unit price); ``quotations`` are (supplier, amount).
    """
    data = {
        "organization": str(organization.pk),
        "title": "购置办公电脑",
        "funding_source": "集体经营收入",
        "reason": "村委会办公需要",
        "chosen_supplier": chosen_supplier,
        "total": str(total),
        "items-TOTAL_FORMS": str(len(items)),
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "1",
        "items-MAX_NUM_FORMS": "1000",
        "quotations-TOTAL_FORMS": str(len(quotations)),
        "quotations-INITIAL_FORMS": "0",
        "quotations-MIN_NUM_FORMS": "0",
        "quotations-MAX_NUM_FORMS": "1000",
    }
    for index, (name, category, quantity, unit_price) in enumerate(items):
        data.update(
            {
                f"items-{index}-name": name,
                f"items-{index}-category": category,
                f"items-{index}-quantity": str(quantity),
                f"items-{index}-unit_price": str(unit_price),
            }
        )
    for index, (supplier, amount) in enumerate(quotations):
        data.update({f"quotations-{index}-supplier": supplier, f"quotations-{index}-amount": str(amount)})
    data.update(overrides)
    return data


def three_quotations(total) -> tuple:
    return tuple((f"供应商{n}", Decimal(total) + n) for n in range(1, 4))


def create_url() -> str:
    return reverse("flows:matter_create", args=["asset_purchase"])
