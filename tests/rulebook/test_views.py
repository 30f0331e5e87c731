"""The county administrator's rule table pages: a new version is checked, shown as a difference, and saved."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from documents.models import LedgerEntry
from organizations.models import RuleBand, RuleVersion, TransactionType
from rulebook.tables import Table

from .conftest import current_table, form_data, with_band_limit

pytestmark = pytest.mark.django_db

PURCHASE = TransactionType.ASSET_PURCHASE


def edit_url(place) -> str:
    return reverse("rulebook:edit", args=[place.pk])


def test_the_place_page_shows_the_ladder_in_words(client, world):
    client.force_login(world.county_admin)
    page = client.get(reverse("rulebook:place", args=[world.county.pk])).content.decode()
    assert "below 20,000 yuan" in page and "20,000 yuan to below 100,000 yuan" in page
    assert "100,000 yuan and above" in page
    assert reverse("rulebook:edit", args=[world.county.pk]) in page


def test_the_index_sends_a_county_administrator_to_their_table(client, world):
    client.force_login(world.county_admin)
    response = client.get(reverse("rulebook:index"))
    assert response.status_code == 302 and response.url == reverse("rulebook:place", args=[world.county.pk])


def test_the_form_starts_from_the_version_in_force(client, world):
    client.force_login(world.county_admin)
    page = client.get(edit_url(world.county)).content.decode()
    assert 'name="band-asset_purchase-0-max_amount" value="20000.00"' in page
    assert f'name="version-effective_from" value="{timezone.localdate().isoformat()}"' in page
    assert "below 20,000 yuan / 20,000 yuan to below 100,000 yuan / 100,000 yuan and above" in page


def test_a_check_shows_the_difference_and_saves_nothing(client, world):
    client.force_login(world.county_admin)
    table = with_band_limit(current_table(world), PURCHASE, "20000", "30000")
    response = client.post(edit_url(world.county), form_data(table))
    assert response.status_code == 200
    page = response.content.decode()
    assert "passes every check" in page
    assert "below 30,000 yuan" in page and "below 20,000 yuan" in page
    # Only the rungs that differ are struck out and marked new; the top one stays as it was.
    assert "<ins><strong>below 30,000 yuan</strong>" in page and "<del><strong>below 20,000 yuan</strong>" in page
    assert "<ins><strong>100,000 yuan and above" not in page
    assert RuleVersion.objects.filter(county=world.county).count() == 1


def test_saving_after_the_check_makes_the_next_version_logged_and_recorded(client, world):
    client.force_login(world.county_admin)
    table = with_band_limit(current_table(world), PURCHASE, "20000", "30000")
    client.post(edit_url(world.county), form_data(table, note="提高小额标准"))
    response = client.post(edit_url(world.county), {"action": "save"})
    version = RuleVersion.objects.get(county=world.county, number=2)
    assert response.status_code == 302 and response.url == reverse("rulebook:version", args=[world.county.pk, 2])
    assert version.effective_from == timezone.localdate() and version.note == "提高小额标准"
    small = version.bands.get(transaction_type=PURCHASE, min_amount=0)
    assert small.max_amount == Decimal("30000")
    assert version.bands.count() == world.rule_version.bands.count()
    assert version.meeting_rules.count() == world.rule_version.meeting_rules.count()
    # Each row has its history, naming who made it, and its leaf in the tamper-evident log.
    assert version.history.get().history_user == world.county_admin
    assert small.history.get().history_user == world.county_admin
    for model, pk in [("RuleVersion", version.pk), ("RuleBand", small.pk)]:
        assert LedgerEntry.objects.filter(object_type=model, object_id=str(pk)).exists()
    # The version page reads it back with what it changed.
    page = client.get(response.url).content.decode()
    assert "What it changed against version 1" in page and "below 30,000 yuan" in page
    assert client.get(reverse("rulebook:version", args=[world.county.pk, 1])).status_code == 200


def test_back_to_editing_keeps_the_draft(client, world):
    client.force_login(world.county_admin)
    table = with_band_limit(current_table(world), PURCHASE, "20000", "30000")
    client.post(edit_url(world.county), form_data(table))
    page = client.post(edit_url(world.county), {"action": "back"}).content.decode()
    assert 'name="band-asset_purchase-0-max_amount" value="30000"' in page


def refused(client, world, table: Table, *, effective_from=None) -> str:
    client.force_login(world.county_admin)
    response = client.post(edit_url(world.county), form_data(table, effective_from=effective_from))
    assert response.status_code == 400
    assert RuleVersion.objects.filter(county=world.county).count() == 1
    assert RuleBand.objects.filter(rule_version__county=world.county).count() == world.rule_version.bands.count()
    # A save after a refused check finds no draft to save.
    client.post(edit_url(world.county), {"action": "save"})
    assert RuleVersion.objects.filter(county=world.county).count() == 1
    return response.content.decode()


def test_a_gap_between_bands_is_refused(client, world):
    table = current_table(world)
    bands = [dict(band) for band in table.bands[PURCHASE]]
    bands[1]["min_amount"] = Decimal("30000")
    page = refused(client, world, Table(table.values, {**table.bands, PURCHASE: bands}, table.meeting_rules))
    assert "Asset purchase: no band covers 20,000 yuan to below 30,000 yuan (a gap between the bands)." in page


def test_overlapping_bands_are_refused(client, world):
    table = current_table(world)
    bands = [dict(band) for band in table.bands[PURCHASE]]
    bands[0]["max_amount"] = Decimal("50000")
    page = refused(client, world, Table(table.values, {**table.bands, PURCHASE: bands}, table.meeting_rules))
    assert "Asset purchase: two bands both cover 20,000 yuan to below 50,000 yuan (the bands overlap)." in page


def test_a_ladder_without_an_open_top_is_refused(client, world):
    table = current_table(world)
    bands = [dict(band) for band in table.bands[PURCHASE]][:2]
    page = refused(client, world, Table(table.values, {**table.bands, PURCHASE: bands}, table.meeting_rules))
    assert "amounts of 100,000 yuan and above are in no band" in page


def test_a_transaction_type_without_bands_is_refused(client, world):
    table = current_table(world)
    bands = {key: value for key, value in table.bands.items() if key != TransactionType.DISPOSAL}
    page = refused(client, world, Table(table.values, bands, table.meeting_rules))
    assert "Asset disposal has no band" in page


def test_a_day_in_the_past_is_refused(client, world):
    table = with_band_limit(current_table(world), PURCHASE, "20000", "30000")
    page = refused(client, world, table, effective_from=timezone.localdate() - datetime.timedelta(days=1))
    assert "never on a day that has passed" in page


def test_a_table_that_changes_nothing_is_refused(client, world):
    page = refused(client, world, current_table(world))
    assert "Nothing differs from the version in force" in page


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("1e5", "Write the amount in digits"),
        ("1,0000", "Thousands separators go every three digits"),
        ("-5", "The amount cannot be negative"),
        ("12.345", "at most two decimals"),
        ("二万", "Write the amount in digits"),
    ],
)
def test_an_amount_not_written_in_digits_is_refused(client, world, amount, message):
    client.force_login(world.county_admin)
    data = form_data(with_band_limit(current_table(world), PURCHASE, "20000", "30000"))
    data["version-cash_limit"] = amount
    response = client.post(edit_url(world.county), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert RuleVersion.objects.filter(county=world.county).count() == 1


def test_a_broken_meeting_rule_is_refused_by_the_model(client, world):
    client.force_login(world.county_admin)
    data = form_data(with_band_limit(current_table(world), PURCHASE, "20000", "30000"))
    data["meeting-0-quorum_denominator"] = "0"
    response = client.post(edit_url(world.county), data)
    assert response.status_code == 400
    assert RuleVersion.objects.filter(county=world.county).count() == 1


def test_a_version_taking_effect_later_waits_for_its_day(client, world):
    client.force_login(world.county_admin)
    later = timezone.localdate() + datetime.timedelta(days=10)
    table = with_band_limit(current_table(world), PURCHASE, "20000", "30000")
    client.post(edit_url(world.county), form_data(table, effective_from=later))
    client.post(edit_url(world.county), {"action": "save"})
    assert RuleVersion.objects.get(county=world.county, number=2).effective_from == later
    page = client.get(reverse("rulebook:place", args=[world.county.pk])).content.decode()
    assert "Version 1 is in force" in page and "version 2 on" in page


@pytest.mark.parametrize("persona", ["inspector", "leader_a", "secretary_a1", "officer_b"])
def test_only_the_administrator_edits(client, world, persona):
    client.force_login(getattr(world, persona))
    table = with_band_limit(current_table(world), PURCHASE, "20000", "30000")
    assert client.get(edit_url(world.county)).status_code in (403, 404)
    assert client.post(edit_url(world.county), form_data(table)).status_code in (403, 404)
    assert RuleVersion.objects.filter(county=world.county).count() == 1


def test_the_inspector_reads_the_table(client, world):
    client.force_login(world.inspector)
    page = client.get(reverse("rulebook:place", args=[world.county.pk])).content.decode()
    assert "below 20,000 yuan" in page and edit_url(world.county) not in page


@pytest.mark.parametrize("persona", ["leader_a", "secretary_a1"])
def test_people_of_a_township_or_village_do_not_open_the_pages(client, world, persona):
    client.force_login(getattr(world, persona))
    assert client.get(reverse("rulebook:index")).status_code == 403
    assert client.get(reverse("rulebook:place", args=[world.county.pk])).status_code == 403


def test_a_place_that_keeps_no_table_is_not_found(client, world):
    client.force_login(world.county_admin)
    assert client.get(reverse("rulebook:place", args=[world.township_a.pk])).status_code == 404
    assert client.get(reverse("rulebook:version", args=[world.county.pk, 9])).status_code == 404


def test_a_save_after_the_version_in_force_changed_asks_for_a_new_check(client, world):
    client.force_login(world.county_admin)
    table = with_band_limit(current_table(world), PURCHASE, "20000", "30000")
    client.post(edit_url(world.county), form_data(table))
    # Meanwhile another version comes into force.
    other = with_band_limit(current_table(world), PURCHASE, "20000", "40000")
    second = client_for(world)
    second.post(edit_url(world.county), form_data(other))
    second.post(edit_url(world.county), {"action": "save"})
    response = client.post(edit_url(world.county), {"action": "save"}, follow=True)
    assert "the version in force changed meanwhile" in response.content.decode()
    assert RuleVersion.objects.filter(county=world.county).count() == 2


def client_for(world):
    from django.test import Client

    other = Client(HTTP_ACCEPT_LANGUAGE="en")
    other.force_login(world.county_admin)
    return other


def test_the_whole_log_check_covers_the_rule_rows_and_catches_an_edit(client, world):
    from documents.ledger_verify import ledger_verify

    client.force_login(world.county_admin)
    table = with_band_limit(current_table(world), PURCHASE, "20000", "30000")
    client.post(edit_url(world.county), form_data(table))
    client.post(edit_url(world.county), {"action": "save"})
    assert ledger_verify(check_files=False).ok
    # A threshold changed behind the product's back is named.
    RuleBand.objects.filter(rule_version__number=2, min_amount=0, transaction_type=PURCHASE).update(max_amount=90000)
    result = ledger_verify(check_files=False)
    assert not result.ok and result.model == "organizations.RuleBand" and "max_amount" in result.reason
