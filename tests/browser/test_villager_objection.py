"""Issue 13 in a real browser, on a phone: a villager objects to a notice, keeps the receipt number, and
later follows the objection to the supervisor's answer; the notice shows it without the villager's name."""

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from demo.seed import demo_collectives, matters_seed
from flows.board import lookup_counter_key
from flows.models import Notice, Objection
from protection.models import RateCounter

from .session import leave_signed_out

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = (375, 740)


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]


def test_a_villager_follows_an_objection_by_its_receipt(demo, actor, live_server, page):
    base = live_server.url
    # Every browser test comes from 127.0.0.1: lookups of earlier tests must not count against this villager.
    RateCounter.objects.all().delete()
    cache.delete(lookup_counter_key("127.0.0.1"))  # the sweep's lookups in this worker count there too
    matters_seed(count=5, collectives=demo_collectives(village_code="DH01"))
    notice = Notice.objects.filter(closed_at__isnull=True, objections__isnull=True).latest("pk")
    page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})

    # From the board's index, by township and village, to the notice.
    page.goto(f"{base}/board/")
    no_sideways_scroll(page)
    village = page.locator(
        f'#township-{notice.organization.parent.parent_id} [data-village="{notice.organization.parent_id}"]'
    )
    village.locator(f'a[href="/board/notices/{notice.pk}/"]').click()
    no_sideways_scroll(page)
    page.fill("#id_name", "王二牛")
    page.fill("#id_phone", "139 0355 1234")
    page.fill("#id_text", "路灯单价比镇上商店高出不少，请公开三家报价。")
    page.click("#objection-form button[type=submit]")
    receipt = page.locator("#receipt-number").inner_text().strip()
    assert receipt == Objection.objects.get(notice=notice).receipt
    assert receipt not in page.url
    no_sideways_scroll(page)

    # The supervisor answers on the matter's page.
    supervisor = actor.login("sup_dh01")
    supervisor.goto(f"{base}/matters/{notice.matter_id}/")
    supervisor.fill("textarea[name=handling]", "已公开三家报价单，经核实价格合理，已当面向异议人说明。")
    supervisor.click("text=登记处理情况")
    expect(supervisor.locator(".messages")).to_be_visible()
    leave_signed_out(supervisor)

    # The villager, with receipt and phone, reads the answer.
    page.goto(f"{base}/board/objections/")
    page.fill("#id_receipt", receipt.lower())
    page.fill("#id_phone", "13903551234")
    page.click("#lookup")
    expect(page.locator("#objection-state")).to_have_attribute("data-state", "handled")
    expect(page.locator("#objection-answer")).to_contain_text("经核实价格合理")
    no_sideways_scroll(page)

    # A wrong phone shows nothing.
    page.fill("#id_receipt", receipt)
    page.fill("#id_phone", "13900000000")
    page.click("#lookup")
    expect(page.locator("#objection-state")).to_have_count(0)
    expect(page.locator(".errorlist")).to_be_visible()

    # The notice tells everyone how it was handled, without name or phone.
    page.goto(f"{base}/board/notices/{notice.pk}/")
    public = page.locator("#public-objections")
    expect(public).to_contain_text("请公开三家报价")
    expect(public).to_contain_text("经核实价格合理")
    expect(page.locator("body")).not_to_contain_text("王二牛")
    expect(page.locator("body")).not_to_contain_text("1234")
