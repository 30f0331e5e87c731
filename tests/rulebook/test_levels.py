"""Five levels: a city's table is the floor its counties inherit and may only tighten; the city's people see
both counties; a county's administrator touches only their own table."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from flows.services import matter_apply
from organizations.jurisdiction import can_see, visible
from organizations.models import MeetingRule, Organization, RuleVersion, TransactionType
from organizations.rules import rule_version_in_force
from registers.models import Member
from rulebook.tables import Table, table_of
from tests.conftest import purchase_data

from .conftest import city_table, current_table, form_data, with_band_limit

pytestmark = pytest.mark.django_db

PURCHASE = TransactionType.ASSET_PURCHASE
TODAY = datetime.date(2026, 6, 1)


def test_moving_the_county_under_the_city_moves_everything_below(world, levels):
    for place in (world.county, world.township_a, world.village_a1, world.collective_a1):
        place.refresh_from_db()
        assert place.path.startswith(levels.city.path)
    assert world.collective_a1.county == world.county


def test_a_county_without_a_table_of_its_own_inherits_the_city(world, levels):
    city = city_table(levels)
    assert rule_version_in_force(county=levels.county_b, on_date=TODAY) == city
    # The county with its own keeps it.
    assert rule_version_in_force(county=world.county, on_date=TODAY) == world.rule_version


def test_a_matter_of_the_inheriting_county_takes_the_city_band(world, levels):
    from tests.factories import PostFactory, UserFactory

    city = city_table(levels)
    secretary = UserFactory(username="sec_c2")
    PostFactory(user=secretary, organization=levels.village_b, role="village_secretary")
    matter = matter_apply(
        user=secretary,
        organization=levels.collective_b,
        transaction_type=PURCHASE,
        data=purchase_data(Decimal("8000.00")),
    )
    assert matter.rule_version == city and matter.band.rule_version == city


def test_the_city_administrator_and_inspector_see_both_counties(client, world, levels):
    for user in (levels.city_admin, levels.city_inspector):
        assert can_see(user, world.collective_a1) and can_see(user, levels.collective_b)
        members = visible(user, Member.objects.all())
        assert members.filter(organization=world.collective_a1).exists()
        assert members.filter(organization=levels.collective_b).exists()
    client.force_login(levels.city_admin)
    response = client.get(reverse("rulebook:index"))
    assert response.url == reverse("rulebook:place", args=[levels.city.pk])
    page = client.get(response.url).content.decode()
    for place in (world.county, levels.county_b):
        assert reverse("rulebook:place", args=[place.pk]) in page
    client.force_login(levels.city_inspector)
    page = client.get(reverse("rulebook:index")).content.decode()
    for place in (levels.city, world.county, levels.county_b):
        assert reverse("rulebook:place", args=[place.pk]) in page
    client.force_login(levels.city_admin)
    members_page = client.get(reverse("registers:member_list")).content.decode()
    assert "北庄村股份经济合作社" in members_page and world.collective_a1.name in members_page
    statistics = client.get(reverse("oversight:place", args=[levels.city.pk]))
    assert statistics.status_code == 200


def test_a_county_administrator_cannot_touch_another_county(client, world, levels):
    client.force_login(levels.county_b_admin)
    table = with_band_limit(current_table(world), PURCHASE, "20000", "30000")
    assert client.get(reverse("rulebook:place", args=[world.county.pk])).status_code == 404
    assert client.get(reverse("rulebook:edit", args=[world.county.pk])).status_code == 404
    assert client.post(reverse("rulebook:edit", args=[world.county.pk]), form_data(table)).status_code == 404
    assert RuleVersion.objects.filter(county=world.county).count() == 1
    # Nor the city's, above them: they read it (their floor), the city administrator writes it.
    assert client.get(reverse("rulebook:edit", args=[levels.city.pk])).status_code == 403


def test_the_city_administrator_reads_the_county_tables_but_writes_only_the_city_table(client, world, levels):
    client.force_login(levels.city_admin)
    assert client.get(reverse("rulebook:place", args=[world.county.pk])).status_code == 200
    assert client.get(reverse("rulebook:edit", args=[world.county.pk])).status_code == 403
    response = client.post(reverse("rulebook:edit", args=[levels.city.pk]), form_data(current_table(world)))
    assert response.status_code == 200, response.content.decode()[:2000]
    client.post(reverse("rulebook:edit", args=[levels.city.pk]), {"action": "save"})
    (version,) = RuleVersion.objects.filter(county=levels.city)
    assert version.number == 1
    assert table_of(version).bands == current_table(world).bands


def tightened_city(levels, world):
    """A city table asking more than the law's defaults: 10 days' publication and the township leader from 1万."""
    city = city_table(levels, publication_days=10)
    band = city.bands.get(transaction_type=PURCHASE, min_amount=0)
    band.max_amount = Decimal("10000")
    band.save()
    medium = city.bands.get(transaction_type=PURCHASE, min_amount=Decimal("20000"))
    medium.min_amount = Decimal("10000")
    medium.save()
    return city


def test_a_county_table_looser_than_the_city_is_refused_naming_the_city(client, world, levels):
    tightened_city(levels, world)
    client.force_login(world.county_admin)
    table = with_band_limit(current_table(world), PURCHASE, "20000", "30000")
    response = client.post(reverse("rulebook:edit", args=[world.county.pk]), form_data(table))
    assert response.status_code == 400
    page = response.content.decode()
    assert "the city rule table of 示范市 (version 1)" in page
    assert "Publication days: 7 is looser than the city rule table of 示范市 (version 1), which sets 10." in page
    assert "Asset purchase, 10,000 yuan to below 30,000 yuan" in page
    assert (
        "asks for Party members&#x27; review, Villager representatives&#x27; meeting, Township leader approval" in page
    )
    assert RuleVersion.objects.filter(county=world.county).count() == 1


def test_a_county_table_as_strict_as_the_city_is_saved(client, world, levels):
    city = tightened_city(levels, world)
    client.force_login(world.county_admin)
    floor = table_of(city)
    table = Table(values={**floor.values, "publication_days": 12}, bands=floor.bands, meeting_rules=floor.meeting_rules)
    response = client.post(reverse("rulebook:edit", args=[world.county.pk]), form_data(table))
    assert response.status_code == 200
    client.post(reverse("rulebook:edit", args=[world.county.pk]), {"action": "save"})
    assert RuleVersion.objects.get(county=world.county, number=2).publication_days == 12


def test_a_stricter_quorum_passes_and_a_looser_one_is_refused(client, world, levels):
    city_table(levels)
    client.force_login(world.county_admin)
    table = current_table(world)
    rules = {body: dict(rule) for body, rule in table.meeting_rules.items()}
    rules["member_assembly"].update(quorum_numerator=3, quorum_denominator=4)
    stricter = Table(values=table.values, bands=table.bands, meeting_rules=rules)
    assert client.post(reverse("rulebook:edit", args=[world.county.pk]), form_data(stricter)).status_code == 200
    rules["member_assembly"].update(quorum_numerator=1, quorum_denominator=2)
    looser = Table(values=table.values, bands=table.bands, meeting_rules=rules)
    response = client.post(reverse("rulebook:edit", args=[world.county.pk]), form_data(looser))
    assert response.status_code == 400
    assert "Members&#x27; assembly: the quorum is looser than the city rule table" in response.content.decode()


def test_the_county_page_warns_when_the_city_has_since_become_stricter(client, world, levels):
    tightened_city(levels, world)
    client.force_login(world.county_admin)
    page = client.get(reverse("rulebook:place", args=[world.county.pk])).content.decode()
    assert 'id="looser"' in page and "示范市" in page


def test_the_city_administrator_post_may_be_granted_at_the_city(world, levels):
    from administration.services import ROLES_AT

    assert "county_admin" in ROLES_AT[Organization.objects.get(pk=levels.city.pk).kind]


def test_a_city_table_stricter_than_a_county_names_the_county_to_tighten(client, world, levels):
    client.force_login(levels.city_admin)
    table = current_table(world)
    stricter = Table(
        values={**table.values, "publication_days": 10}, bands=table.bands, meeting_rules=table.meeting_rules
    )
    response = client.post(reverse("rulebook:edit", args=[levels.city.pk]), form_data(stricter))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="looser-below"' in page and world.county.name in page and levels.county_b.name not in page


def test_the_meeting_rules_read_as_fractions(client, world):
    client.force_login(world.county_admin)
    page = client.get(reverse("rulebook:place", args=[world.county.pk])).content.decode()
    assert "attendance of at least 2/3 of those who should attend" in page
    assert "attendance of more than 1/2 of those who should attend, or at least 2/3 of the households" in page


def test_a_county_reads_the_city_table_above_it_but_not_another_county(client, world, levels):
    city_table(levels)
    client.force_login(world.county_admin)
    page = client.get(reverse("rulebook:place", args=[world.county.pk])).content.decode()
    assert reverse("rulebook:place", args=[levels.city.pk]) in page  # the floor, linked
    assert client.get(reverse("rulebook:place", args=[levels.city.pk])).status_code == 200
    assert client.get(reverse("rulebook:edit", args=[levels.city.pk])).status_code == 403
    assert client.get(reverse("rulebook:place", args=[levels.county_b.pk])).status_code == 404


def test_a_township_inspector_reads_the_county_table_that_binds_them(client, world):
    client.force_login(world.inspector_b)
    response = client.get(reverse("rulebook:index"))
    assert response.url == reverse("rulebook:place", args=[world.county.pk])
    assert client.get(response.url).status_code == 200


def test_a_pass_rule_looser_than_the_city_is_refused(client, world, levels):
    if not any(field.name == "pass_numerator" for field in MeetingRule._meta.fields):
        pytest.skip("the meeting rules have no pass fraction in this build")
    city = city_table(levels)
    rule = city.meeting_rules.get(body="member_assembly")
    rule.pass_numerator, rule.pass_denominator, rule.pass_inclusive = 3, 4, True
    rule.save()
    client.force_login(world.county_admin)
    table = with_band_limit(current_table(world), PURCHASE, "20000", "30000")
    response = client.post(reverse("rulebook:edit", args=[world.county.pk]), form_data(table))
    assert response.status_code == 400
    assert "Members&#x27; assembly: the pass rule is looser than the city rule table" in response.content.decode()
