"""Amounts and rule bands as people say them: 2万元以下, not "[0.00, 20000.00)"."""

from decimal import Decimal

import pytest
from django.utils import translation

from organizations.amounts import band_range_label, yuan_short
from tests.drive import apply_purchase

D = Decimal


@pytest.mark.parametrize(
    "amount, zh, en",
    [
        (D("20000"), "2万元", "20,000 yuan"),
        (D("15000"), "1.5万元", "15,000 yuan"),
        (D("5000"), "5,000元", "5,000 yuan"),
        (D("12.50"), "12.5元", "12.5 yuan"),
        (D("1000000"), "100万元", "1,000,000 yuan"),
    ],
)
def test_yuan_short(amount, zh, en):
    with translation.override("zh-hans"):
        assert yuan_short(amount) == zh
    with translation.override("en"):
        assert yuan_short(amount) == en


@pytest.mark.parametrize(
    "low, high, words",
    [
        (D("0"), D("20000"), "2万元以下"),
        (D("20000"), D("100000"), "2万元至10万元"),
        (D("100000"), None, "10万元及以上"),
        (D("0"), None, "不限金额"),
    ],
)
def test_band_range_label(low, high, words):
    with translation.override("zh-hans"):
        assert band_range_label(low, high) == words


@pytest.mark.django_db
def test_the_matter_page_shows_the_band_in_words(client, world):
    matter = apply_purchase(world)
    client.force_login(world.secretary_a1)
    content = client.get(matter.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "2万元以下" in content and "[0.00" not in content
