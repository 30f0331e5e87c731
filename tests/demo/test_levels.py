"""The demo has five levels to try: a city above the demo county, a second county that follows the city's table."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from demo.seed import CITY_CODE, COUNTY_CODE, SECOND_COUNTY_CODE, demo_collectives, demo_logins
from organizations.jurisdiction import can_see
from organizations.models import Organization, Post
from organizations.rules import rule_version_in_force

pytestmark = pytest.mark.django_db


def test_the_city_sits_above_both_counties_and_its_people_see_them(django_user_model):
    call_command("seed_demo", verbosity=0)
    city = Organization.objects.get(code=CITY_CODE)
    county, second = (Organization.objects.get(code=code) for code in (COUNTY_CODE, SECOND_COUNTY_CODE))
    assert county.parent == city and second.parent == city
    assert Organization.objects.get(code="DH01-JJ").path.startswith(city.path)
    for username in ("city_admin", "city_inspector"):
        user = django_user_model.objects.get(username=username)
        assert can_see(user, Organization.objects.get(code="DH01-JJ"))
        assert can_see(user, Organization.objects.get(code="BL01-JJ"))
    county2_admin = django_user_model.objects.get(username="county2_admin")
    assert not can_see(county2_admin, county)
    today = timezone.localdate()
    assert rule_version_in_force(county=second, on_date=today).county == city
    assert rule_version_in_force(county=county, on_date=today).county == county
    assert Organization.objects.get(code="BL01-JJ").members.count() > 0
    usernames = {login.username for login in demo_logins()}
    assert {"city_admin", "city_inspector", "county2_admin", "sec_bl01", "county_admin", "sec_dh01"} <= usernames
    # Matters are seeded in the demo county only; the second county is there to try by hand.
    assert all(collective.path.startswith(county.path) for collective in demo_collectives())


def test_a_demo_seeded_before_the_city_is_moved_under_it():
    county = Organization.objects.create(name="示范县", code=COUNTY_CODE, kind="county")
    township = Organization.objects.create(name="东湖镇", code="DH", kind="township", parent=county)
    call_command("seed_demo", verbosity=0)
    city = Organization.objects.get(code=CITY_CODE)
    township.refresh_from_db()
    assert township.path.startswith(city.path)
    assert Post.objects.filter(user__username="county_admin", organization__code=COUNTY_CODE).exists()
