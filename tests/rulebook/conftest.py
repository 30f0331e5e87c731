"""What the rule table tests share: a city above the county with a second county, and the POST body of
the rule table form built from a table."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from organizations.models import MeetingBody, Organization, OrganizationKind, Role, TransactionType
from organizations.rules import rule_version_seed_defaults
from rulebook.tables import BAND_FIELDS, MEETING_FIELDS, VERSION_FIELDS, Table, ordered_bands, table_of
from tests.conftest import _person
from tests.factories import MemberFactory, OrganizationFactory


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@dataclass
class Levels:
    city: object
    county_b: object
    township_b: object
    village_b: object
    collective_b: object
    city_admin: object
    city_inspector: object
    county_b_admin: object


@pytest.fixture
def levels(world) -> Levels:
    """示范市 above the world's county, with a second county (one township, village, collective, members)."""
    city = OrganizationFactory(name="示范市", code="CITY", kind=OrganizationKind.CITY)
    world.county.parent = city
    world.county.save()
    for place in vars(world).values():
        if isinstance(place, Organization):
            place.refresh_from_db()  # moved with the county
    county_b = OrganizationFactory(name="北岭县", code="C2", kind=OrganizationKind.COUNTY, parent=city)
    township_b = OrganizationFactory(name="南城镇", code="C2T", kind=OrganizationKind.TOWNSHIP, parent=county_b)
    village_b = OrganizationFactory(name="北庄村", code="C2V", parent=township_b)
    collective_b = OrganizationFactory(
        name="北庄村股份经济合作社", code="C2V-JJ", kind=OrganizationKind.COLLECTIVE, parent=village_b
    )
    for _ in range(5):
        MemberFactory(organization=collective_b, is_committee_member=True, is_party_member=True, is_representative=True)
    return Levels(
        city=city,
        county_b=county_b,
        township_b=township_b,
        village_b=village_b,
        collective_b=collective_b,
        city_admin=_person("city_admin", city, Role.COUNTY_ADMIN, "市管理员"),
        city_inspector=_person("city_inspector", city, Role.DISCIPLINE_INSPECTOR, "市纪检"),
        county_b_admin=_person("county_b_admin", county_b, Role.COUNTY_ADMIN, "北岭县管理员"),
    )


def city_table(levels, **values) -> object:
    """The city's first version (the law's defaults, changed by ``values``), in force since 2026-01-01."""
    version = rule_version_seed_defaults(county=levels.city, effective_from=datetime.date(2026, 1, 1))
    for name, value in values.items():
        setattr(version, name, value)
    version.save()
    return version


def _field(value) -> str | None:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else None
    return str(value)


def form_data(table: Table, *, effective_from: datetime.date | None = None, action: str = "check", note="") -> dict:
    """The POST body of the rule table form holding ``table``."""
    data = {
        "action": action,
        "version-effective_from": (effective_from or timezone.localdate()).isoformat(),
        "version-note": note,
    }

    def put(key, value):
        shown = _field(value)
        if shown is not None:
            data[key] = shown

    for name in VERSION_FIELDS:
        put(f"version-{name}", table.values[name])
    for transaction_type in TransactionType.values:
        prefix = f"band-{transaction_type}"
        bands = ordered_bands(table.bands.get(transaction_type, []))
        data.update({f"{prefix}-TOTAL_FORMS": len(bands), f"{prefix}-INITIAL_FORMS": len(bands)})
        for index, band in enumerate(bands):
            for name in BAND_FIELDS:
                put(f"{prefix}-{index}-{name}", band[name])
    bodies = [body for body in MeetingBody.values if body in table.meeting_rules]
    data.update({"meeting-TOTAL_FORMS": len(bodies), "meeting-INITIAL_FORMS": len(bodies)})
    for index, body in enumerate(bodies):
        data[f"meeting-{index}-body"] = body
        for name in MEETING_FIELDS:
            put(f"meeting-{index}-{name}", table.meeting_rules[body][name])
    return data


def current_table(world) -> Table:
    return table_of(world.rule_version)


def with_band_limit(table: Table, transaction_type: str, old: str, new: str) -> Table:
    """The table with one ladder's step moved: the band ending at ``old`` ends at ``new``, the next starts there."""
    bands = []
    for band in ordered_bands(table.bands[transaction_type]):
        band = dict(band)
        if band["max_amount"] == Decimal(old):
            band["max_amount"] = Decimal(new)
        if band["min_amount"] == Decimal(old):
            band["min_amount"] = Decimal(new)
        bands.append(band)
    return Table(
        values=dict(table.values), bands={**table.bands, transaction_type: bands}, meeting_rules=table.meeting_rules
    )
