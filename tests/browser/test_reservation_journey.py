"""Issue 10's journey in a real browser: a second application for a holding already applied for is refused
at once, in Chinese, and goes through once the first is withdrawn."""

import pytest
from playwright.sync_api import expect

from flows.models import Matter, MatterStatus
from registers.models import Member, ReservationState, ShareKind
from registers.shares import holdings

pytestmark = pytest.mark.django_db(transaction=True)


def apply_gift(page, base, giver, receiver, shares: int, title: str):
    page.goto(f"{base}/matters/new/equity_transfer/")
    page.fill("#id_title", title)
    page.select_option("#id_kind", "gift")
    page.select_option("#id_from_member", str(giver.pk))
    page.select_option("#id_to_member", str(receiver.pk))
    page.select_option("#id_share_kind", ShareKind.LABOUR_AGE)
    page.fill("#id_shares", str(shares))
    page.fill("#id_price", "0")
    page.fill("#id_reason", "亲属间赠与")
    page.click("#application-form button[type=submit]")
    page.wait_for_load_state()


def test_a_second_application_for_a_reserved_holding_is_refused_until_the_first_is_withdrawn(demo, actor, live_server):
    base = live_server.url
    holders = [m for m in Member.objects.filter(organization__code="DH01-JJ") if holdings(m)[ShareKind.LABOUR_AGE] >= 1]
    giver, first_receiver, second_receiver = holders[:3]
    whole = holdings(giver)[ShareKind.LABOUR_AGE]

    # The secretary applies for the giver's whole labour-age holding.
    page = actor.login("sec_dh01")
    apply_gift(page, base, giver, first_receiver, whole, "赠与全部劳龄股（一）")
    expect(page.locator("#matter-status")).to_be_visible()
    first = Matter.objects.get(transaction_type="equity_transfer")
    assert first.reservations.get().state == ReservationState.HELD

    # The cashier, not knowing, applies for the same shares: refused on the form at once, nothing saved.
    page = actor.login("cashier_dh01")
    apply_gift(page, base, giver, second_receiver, whole, "赠与全部劳龄股（二）")
    expect(page.locator("#application-form .errorlist").first).to_contain_text("最多还可转让0股")
    assert Matter.objects.filter(transaction_type="equity_transfer").count() == 1

    # The secretary withdraws the first; the shares are free again and the cashier's application goes through.
    page = actor.login("sec_dh01")
    page.goto(f"{base}{first.get_absolute_url()}")
    withdraw = page.locator(f"form[action='/matters/{first.pk}/withdraw/']")
    withdraw.locator("[name=reason]").fill("重复申请，撤回")
    withdraw.locator("button[type=submit]").click()
    page.wait_for_load_state()
    first.refresh_from_db()
    assert first.status == MatterStatus.WITHDRAWN
    assert first.reservations.get().state == ReservationState.RELEASED

    page = actor.login("cashier_dh01")
    apply_gift(page, base, giver, second_receiver, whole, "赠与全部劳龄股（二）")
    expect(page.locator("#matter-status")).to_be_visible()
    second = Matter.objects.exclude(pk=first.pk).get(transaction_type="equity_transfer")
    assert second.reservations.get().shares == whole
