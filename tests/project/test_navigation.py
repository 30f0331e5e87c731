"""The navigation bar: grouped by what a person does, showing only what their roles can open."""

import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from project.navigation import ENTRIES, GROUPS, navigation_for

pytestmark = pytest.mark.django_db

PERSONAS = ["secretary_a1", "cashier_a1", "supervisor_a1", "officer_a", "leader_a", "county_admin", "inspector"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_link_a_persona_is_shown_opens_for_them(client, world, persona):
    user = getattr(world, persona)
    client.force_login(user)
    for group in navigation_for(user):
        for link in group.links:
            response = client.get(link.url, follow=True)
            assert response.status_code == 200, f"{persona}: {link.label} ({link.url}) answers {response.status_code}"


@pytest.mark.parametrize(
    "persona, hidden",
    [
        ("leader_a", {"flows:matter_new", "flows:meeting_create", "documents:access_log", "documents:ledger"}),
        ("secretary_a1", {"oversight:home", "flows:delegations", "documents:flag_list", "documents:ledger"}),
        ("inspector", {"flows:inbox", "flows:matter_new", "flows:delegations", "documents:access_log"}),
        ("county_admin", {"flows:inbox", "flows:matter_new", "documents:flag_list"}),
    ],
)
def test_what_a_role_cannot_use_is_not_shown(world, persona, hidden):
    urls = {link.url for group in navigation_for(getattr(world, persona)) for link in group.links}
    assert not urls & {reverse(name) for name in hidden}


def test_the_groups_are_those_of_the_work(world):
    with translation.override("zh-hans"):
        labels = [str(label) for _key, label in GROUPS]
    assert labels == ["待办和事项", "会议与公开", "台账", "档案与监督", "管理"]
    assert {entry.group for entry in ENTRIES} == {key for key, _label in GROUPS}


def test_a_visitor_sees_the_public_pages_only(client, world):
    content = client.get(reverse("board:index")).content.decode()
    header = content.split("</header>")[0]
    assert reverse("board:index") in header and reverse("documents:verify") in header
    assert reverse("flows:matter_list") not in header
    assert "nav-toggle" not in header


def test_the_bar_has_a_menu_button_and_an_svg_bell(client, world):
    client.force_login(world.leader_a)
    header = client.get(reverse("flows:inbox")).content.decode().split("</header>")[0]
    assert 'class="nav-toggle"' in header and 'aria-controls="site-nav"' in header
    bell = re.search(r'id="live-bell".*?</a>', header, re.DOTALL).group(0)
    assert "<svg" in bell and "🔔" not in bell


def test_the_stylesheet_keeps_hidden_elements_hidden():
    css = (Path(__file__).resolve().parents[2] / "project" / "static" / "app.css").read_text()
    assert "[hidden] { display: none !important; }" in css
