"""Personas: named people per role and place, built once per test from the factories."""

import datetime
import os
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import translation

from organizations.models import OrganizationKind, Role
from organizations.rules import rule_version_seed_defaults

from . import live_server
from .factories import MemberFactory, OrganizationFactory, PostFactory, UserFactory

# Sync Playwright runs an event loop in the test thread; Django's ORM must still be usable.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
live_server.install()


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the product's default language, as a new request would.

    A request through the test client activates its language in the test's thread and leaves it there; a
    test after one made in English would otherwise write its notifications and documents in English.
    """
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@dataclass
class World:
    county: object
    township_a: object
    township_b: object
    village_a1: object
    village_a2: object
    village_b1: object
    collective_a1: object
    collective_a2: object
    collective_b1: object
    rule_version: object
    secretary_a1: object
    cashier_a1: object
    supervisor_a1: object
    secretary_a2: object
    supervisor_a2: object
    secretary_b1: object
    officer_a: object
    leader_a: object
    second_leader_a: object
    officer_b: object
    leader_b: object
    inspector: object
    inspector_b: object
    county_admin: object
    members_a1: list
    # The three administrators (三员分立), each on an account of its own at the county.
    system_admin: object = None
    security_admin: object = None
    audit_admin: object = None


def _person(username, organization, role, full_name):
    user = UserFactory(username=username, first_name=full_name)
    PostFactory(user=user, organization=organization, role=role)
    return user


def build_world() -> World:
    county = OrganizationFactory(name="示范县", code="C", kind=OrganizationKind.COUNTY)
    township_a = OrganizationFactory(name="东湖镇", code="TA", kind=OrganizationKind.TOWNSHIP, parent=county)
    township_b = OrganizationFactory(name="西山乡", code="TB", kind=OrganizationKind.TOWNSHIP, parent=county)
    village_a1 = OrganizationFactory(name="柳树村", code="A1", parent=township_a)
    village_a2 = OrganizationFactory(name="桃园村", code="A2", parent=township_a)
    village_b1 = OrganizationFactory(name="石门村", code="B1", parent=township_b)
    collectives = [
        OrganizationFactory(
            name=f"{village.name}股份经济合作社",
            code=f"{village.code}-JJ",
            kind=OrganizationKind.COLLECTIVE,
            parent=village,
        )
        for village in (village_a1, village_a2, village_b1)
    ]
    rule_version = rule_version_seed_defaults(county=county, effective_from=datetime.date(2026, 1, 1))
    members_a1 = []
    for index in range(12):
        members_a1.append(
            MemberFactory(
                organization=collectives[0],
                household=f"A1-{index // 2:02d}",
                is_committee_member=index < 5,
                is_party_member=index < 6,
                is_representative=3 <= index < 9,
            )
        )
    for collective in collectives[1:]:
        for _ in range(5):
            MemberFactory(
                organization=collective, is_committee_member=True, is_party_member=True, is_representative=True
            )
    return World(
        county=county,
        township_a=township_a,
        township_b=township_b,
        village_a1=village_a1,
        village_a2=village_a2,
        village_b1=village_b1,
        collective_a1=collectives[0],
        collective_a2=collectives[1],
        collective_b1=collectives[2],
        rule_version=rule_version,
        secretary_a1=_person("sec_a1", village_a1, Role.VILLAGE_SECRETARY, "李书记"),
        cashier_a1=_person("cashier_a1", village_a1, Role.VILLAGE_CASHIER, "王出纳"),
        supervisor_a1=_person("sup_a1", village_a1, Role.VILLAGE_SUPERVISOR, "赵监委"),
        secretary_a2=_person("sec_a2", village_a2, Role.VILLAGE_SECRETARY, "钱书记"),
        supervisor_a2=_person("sup_a2", village_a2, Role.VILLAGE_SUPERVISOR, "孙监委"),
        secretary_b1=_person("sec_b1", village_b1, Role.VILLAGE_SECRETARY, "周书记"),
        officer_a=_person("officer_a", township_a, Role.TOWNSHIP_OFFICER, "吴农经"),
        leader_a=_person("leader_a", township_a, Role.TOWNSHIP_LEADER, "郑镇长"),
        second_leader_a=_person("leader_a2", township_a, Role.TOWNSHIP_LEADER, "冯副镇长"),
        officer_b=_person("officer_b", township_b, Role.TOWNSHIP_OFFICER, "陈农经"),
        leader_b=_person("leader_b", township_b, Role.TOWNSHIP_LEADER, "褚乡长"),
        inspector=_person("inspector", county, Role.DISCIPLINE_INSPECTOR, "卫纪检"),
        inspector_b=_person("inspector_b", township_b, Role.DISCIPLINE_INSPECTOR, "蒋纪检"),
        county_admin=_person("county_admin", county, Role.COUNTY_ADMIN, "沈管理员"),
        members_a1=members_a1,
        system_admin=_person("sysadmin", county, Role.SYSTEM_ADMIN, "严系统"),
        security_admin=_person("secadmin", county, Role.SECURITY_ADMIN, "乔安全"),
        audit_admin=_person("auditadmin", county, Role.AUDIT_ADMIN, "温审计"),
    )


@pytest.fixture
def world(db) -> World:
    return build_world()


def purchase_data(total: Decimal = Decimal("8000.00"), quotations: int = 0, **overrides) -> dict:
    """An asset purchase application: one line whose total is ``total``."""
    data = {
        "title": "购置办公电脑",
        "reason": "村委会办公需要",
        "funding_source": "集体经营收入",
        "chosen_supplier": "供应商1",
        "total": total,
        "items": [{"name": "台式电脑", "category": "办公设备", "quantity": 1, "unit_price": total}],
        "quotations": [{"supplier": f"供应商{n}", "amount": total + n} for n in range(1, quotations + 1)],
    }
    data.update(overrides)
    return data
