"""Issue 3's journey in a real browser: an equity transfer from application to the new share certificate."""

import pytest
from playwright.sync_api import expect

from flows.models import Matter, MatterStatus
from registers.models import Member, ShareCertificate, ShareKind
from registers.shares import holdings

from .test_asset_purchase_journey import hold_meeting, open_matter, record_step

pytestmark = pytest.mark.django_db(transaction=True)


def test_equity_transfer_from_application_to_new_certificate(demo, actor, live_server, let_publications_end):
    base = live_server.url
    holders = [m for m in Member.objects.filter(organization__code="DH01-JJ") if holdings(m)[ShareKind.LABOUR_AGE] >= 1]
    giver, receiver = holders[0], holders[1]
    before = holdings(receiver)[ShareKind.LABOUR_AGE]

    # The secretary applies: the giver passes one labour-age share to the receiver as a gift.
    page = actor.login("sec_dh01")
    page.goto(f"{base}/matters/new/equity_transfer/")
    page.fill("#id_title", f"{giver.name}赠与{receiver.name}劳龄股")
    page.select_option("#id_kind", "gift")
    page.select_option("#id_from_member", str(giver.pk))
    page.select_option("#id_to_member", str(receiver.pk))
    page.select_option("#id_share_kind", ShareKind.LABOUR_AGE)
    page.fill("#id_shares", "1")
    page.fill("#id_price", "0")
    page.fill("#id_reason", "亲属间赠与")
    page.click("#application-form button[type=submit]")
    expect(page.locator("#matter-status")).to_be_visible()
    matter = Matter.objects.get(transaction_type="equity_transfer")
    record_step(page, "提议上会")

    for body in ("two_committees", "party_members", "member_representatives"):
        hold_meeting(actor, base, matter, body)
    assert let_publications_end() == 1

    page = actor.login("officer_dh")
    open_matter(page, base, matter)
    record_step(page, "符合章程")
    page = actor.login("leader_dh")
    open_matter(page, base, matter)
    record_step(page, "同意")
    page = actor.login("cashier_dh01")
    open_matter(page, base, matter)
    record_step(page, "已办理股权变更")
    assert let_publications_end() == 1

    matter.refresh_from_db()
    assert matter.status == MatterStatus.ARCHIVED
    assert holdings(receiver)[ShareKind.LABOUR_AGE] == before + 1
    certificate = ShareCertificate.objects.get(member=receiver, matter=matter, superseded_at__isnull=True)

    # The receiver's new certificate is on the matter page and opens as a PDF.
    open_matter(page, base, matter)
    link = page.locator(f"a[href='{certificate.get_absolute_url()}']").first
    expect(link).to_be_visible()
    response = page.request.get(f"{base}{certificate.get_absolute_url()}")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
