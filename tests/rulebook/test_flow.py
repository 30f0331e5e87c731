"""A matter applied for after the county administrator changes a threshold takes the new band; a matter
started before keeps the version and path it started with."""

import pytest
from django.urls import reverse

from flows.models import Step
from organizations.models import RuleVersion, TransactionType
from tests.drive import apply_purchase, refresh

from .conftest import current_table, form_data, with_band_limit

pytestmark = pytest.mark.django_db


def test_a_matter_after_the_change_takes_the_new_band(client, world):
    before = apply_purchase(world, total="25000.00", quotations=3)
    assert before.band.max_amount == 100000 and Step.APPROVE_BY_TOWNSHIP in before.required_steps

    client.force_login(world.county_admin)
    url = reverse("rulebook:edit", args=[world.county.pk])
    table = with_band_limit(current_table(world), TransactionType.ASSET_PURCHASE, "20000", "30000")
    assert client.post(url, form_data(table)).status_code == 200
    assert client.post(url, {"action": "save"}).status_code == 302
    new_version = RuleVersion.objects.get(county=world.county, number=2)

    after = apply_purchase(world, total="25000.00", quotations=3)
    assert after.rule_version == new_version
    assert (after.band.min_amount, after.band.max_amount) == (0, 30000)
    assert Step.APPROVE_BY_TOWNSHIP not in after.required_steps
    assert Step.RESOLVE_BY_MEMBERS not in after.required_steps
    # The running matter is untouched.
    before = refresh(before)
    assert before.rule_version == world.rule_version and Step.APPROVE_BY_TOWNSHIP in before.required_steps
