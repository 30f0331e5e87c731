"""The villager's side of the board: a receipt for each objection, following it by receipt and phone,
the notice telling how objections were handled without names, and the index by township."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from flows import services
from flows.models import Notice, Objection, Step

pytestmark = pytest.mark.django_db

RECEIPT = re.compile(r"^\d{6}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


@pytest.fixture
def notice(world, matter_at) -> Notice:
    return Notice.objects.get(matter=matter_at(Step.PUBLISH_RESOLUTION))


def raise_objection(client, notice, phone="138 0013 8000"):
    return client.post(
        reverse("board:notice", args=[notice.pk]), {"name": "张三", "phone": phone, "text": "报价偏高，请核实"}
    )


def lookup(client, receipt, phone):
    return client.post(reverse("board:objection_lookup"), {"receipt": receipt, "phone": phone})


def test_an_objection_gets_a_receipt_shown_once_after_sending(client, world, notice):
    response = raise_objection(client, notice)
    assert response.status_code == 302 and response.url == reverse("board:objection_received")
    objection = Objection.objects.get()
    assert RECEIPT.match(objection.receipt)
    page = client.get(reverse("board:objection_received")).content.decode()
    assert objection.receipt in page
    # The receipt is not in any address, and a reload no longer shows it.
    assert objection.receipt not in response.url
    assert client.get(reverse("board:objection_received")).status_code == 302


def test_receipts_differ(world, notice):
    receipts = {
        services.objection_submit(notice=notice, name="甲", phone="13800138000", text="一", client_key=str(n)).receipt
        for n in range(4)
    }
    assert len(receipts) == 4


def test_the_villager_follows_the_objection_by_receipt_and_phone(client, world, notice):
    raise_objection(client, notice)
    objection = Objection.objects.get()
    open_state = lookup(client, objection.receipt, "138-0013-8000")
    assert open_state.status_code == 200
    assert 'data-state="open"' in open_state.content.decode()
    services.objection_handle(user=world.supervisor_a1, objection_id=objection.pk, handling="已核实报价，属实价格。")
    handled = lookup(client, objection.receipt.lower().replace("-", " "), "+86 13800138000").content.decode()
    assert 'data-state="handled"' in handled and "已核实报价，属实价格。" in handled


@pytest.mark.parametrize("receipt, phone", [("wrong", "13800138000"), (None, "13900000000"), (None, ""), ("", "x")])
def test_a_wrong_receipt_or_phone_shows_nothing_and_says_the_same(client, world, notice, receipt, phone):
    raise_objection(client, notice)
    objection = Objection.objects.get()
    response = lookup(client, objection.receipt if receipt is None else receipt, phone)
    assert response.status_code == 400
    assert response.context["objection"] is None
    assert "报价偏高" not in response.content.decode()


def test_the_phone_is_compared_in_python_not_in_sql(world, notice):
    objection = services.objection_submit(notice=notice, name="张三", phone="13800138000", text="异议", client_key="k")
    with CaptureQueriesContext(connection) as queries:
        assert services.objection_find(receipt=objection.receipt, phone="13800138000") == objection
    assert all(
        "13800138000" not in query["sql"] and "phone" not in query["sql"].split("WHERE")[-1]
        for query in queries.captured_queries
    )


def test_lookups_from_one_device_are_limited(client, world, notice, monkeypatch):
    monkeypatch.setattr("flows.board.LOOKUPS_PER_HOUR", 2)
    for _attempt in range(2):
        assert lookup(client, "260501-AAAA-BBBB", "13800138000").status_code == 400
    response = lookup(client, "260501-AAAA-BBBB", "13800138000")
    assert "Too many lookups" in response.content.decode()


def test_the_notice_tells_how_objections_were_handled_without_names(client, world, notice):
    raise_objection(client, notice)
    objection = Objection.objects.get()
    services.objection_handle(user=world.supervisor_a1, objection_id=objection.pk, handling="已向异议人说明询价过程")
    client.logout()
    page = client.get(reverse("board:notice", args=[notice.pk])).content.decode()
    public = page.split('id="public-objections"')[1].split("</section>")[0]
    assert "报价偏高，请核实" in public and "已向异议人说明询价过程" in public and 'data-state="handled"' in public
    assert "张三" not in page and "138" not in public


def test_the_board_lists_villages_by_township_with_their_latest_notices(client, world, notice):
    content = client.get(reverse("board:index")).content.decode()
    township = content.split(f'id="township-{world.township_a.pk}"')[1].split("</section>")[0]
    village = township.split(f'data-village="{world.village_a1.pk}"')[1].split("</div>")[0]
    assert notice.title in village
    assert world.village_b1.name not in township


def test_the_board_index_runs_the_same_queries_with_more_notices(client, world, notice, matter_at):
    client.get(reverse("board:index"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("board:index"))
    for _n in range(3):
        matter_at(Step.PUBLISH_RESOLUTION)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("board:index"))
    assert len(few) == len(many)


def test_periods_read_as_dates_in_one_style(client, world, notice):
    content = client.get(reverse("board:notice", args=[notice.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    start = timezone.localtime(notice.published_at).date()
    assert f"{start.year}年{start.month}月{start.day}日至" in content
