"""Amounts and rule bands as people say them: 2万元以下, not "[0.00, 20000.00)"."""

import importlib
from decimal import Decimal

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from organizations.amounts import AmountField, band_range_label, yuan_short
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


# --- amounts as a person writes them ---------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, value",
    [
        ("100000", D("100000")),
        ("12500.5", D("12500.5")),
        ("12,500.50", D("12500.50")),
        ("1,250,000", D("1250000")),
        ("1，250，000.00", D("1250000.00")),  # full-width commas, as a Chinese input method types them
        ("１２５００", D("12500")),  # full-width digits
        ("  800.00 ", D("800.00")),
        ("0.01", D("0.01")),
    ],
)
def test_an_amount_field_takes_amounts_as_people_write_them(typed, value):
    assert AmountField().clean(typed) == value


@pytest.mark.parametrize(
    "typed, message",
    [
        ("1e5", "请用数字填写金额"),
        ("1E5", "请用数字填写金额"),
        ("100000e0", "请用数字填写金额"),
        ("12万", "请用数字填写金额"),
        ("abc", "请用数字填写金额"),
        ("0x10", "请用数字填写金额"),
        ("Infinity", "请用数字填写金额"),
        ("NaN", "请用数字填写金额"),
        ("10 000", "请用数字填写金额"),
        ("+500", "请用数字填写金额"),
        ("10²", "请用数字填写金额"),
        ("5.", "请用数字填写金额"),
        ("1.2.3", "请用数字填写金额"),
        ("12.345", "最多两位小数"),
        ("1,0000", "每三位"),
        ("12,50", "每三位"),
        ("-500", "不能为负数"),
    ],
)
def test_an_amount_field_refuses_anything_else_with_a_clear_chinese_message(typed, message):
    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as refused:
            AmountField().clean(typed)
        # The messages are lazy: read them in the language they are asked in.
        assert message in " ".join(refused.value.messages)


def test_an_amount_field_takes_a_negative_only_where_allowed():
    assert AmountField(allow_negative=True).clean("-1,200.50") == D("-1200.50")


def test_an_amount_field_is_a_text_box_not_a_number_box():
    # A browser's type="number" takes "1e5" and silently empties "12,500".
    html = str(type("AmountForm", (forms.Form,), {"amount": AmountField()})()["amount"])
    assert 'type="text"' in html and 'inputmode="decimal"' in html


AMOUNT_FORM_MODULES = [
    "flows.filters",
    "documents.review_views",
    "forms.asset_purchase",
    "forms.disposal",
    "forms.equity_transfer",
    "forms.fund_disbursement",
    "forms.leasing",
    "forms.resource_contracting",
]


def amount_inputs():
    """Every form field of the product whose value is an amount in yuan, by form and field."""
    for module in map(importlib.import_module, AMOUNT_FORM_MODULES):
        for form_class in vars(module).values():
            if isinstance(form_class, type) and issubclass(form_class, forms.BaseForm):
                for name, field in form_class.base_fields.items():
                    if isinstance(field, forms.DecimalField):
                        yield f"{form_class.__name__}.{name}", field


def test_every_amount_input_of_the_product_is_an_amount_field():
    fields = dict(amount_inputs())
    assert len(fields) >= 12
    assert [name for name, field in fields.items() if not isinstance(field, AmountField)] == []
    for name, field in fields.items():
        with pytest.raises(ValidationError):
            field.clean("1e5")
        assert field.clean("1,000.00") == D("1000.00"), name


def test_the_rule_table_admin_takes_amounts_as_people_write_them(admin_client, world):
    url = reverse("admin:organizations_ruleversion_change", args=[world.rule_version.pk])
    response = admin_client.get(url)
    form = response.context["adminform"].form
    assert isinstance(form.fields["cash_limit"], AmountField)
    band_form = response.context["inline_admin_formsets"][0].formset.forms[0]
    assert isinstance(band_form.fields["min_amount"], AmountField)
