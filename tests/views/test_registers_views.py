"""Register pages: asset cards and members are seen only inside the jurisdiction."""

import pytest
from django.urls import reverse

from registers.models import Asset
from tests.drive import apply_purchase, run_to_end

pytestmark = pytest.mark.django_db

OUTSIDERS = ["secretary_a2", "supervisor_a2", "secretary_b1", "officer_b", "leader_b", "inspector_b"]
INSIDERS = ["secretary_a1", "cashier_a1", "supervisor_a1", "officer_a", "leader_a", "inspector", "county_admin"]


@pytest.fixture
def asset(world) -> Asset:
    """The card an implemented A1 purchase added to the asset register."""
    matter = run_to_end(world, apply_purchase(world))
    return Asset.objects.get(source_matter=matter)


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_asset_of_another_village_is_404(client, world, asset, persona):
    client.force_login(getattr(world, persona))
    assert client.get(reverse("registers:asset_detail", args=[asset.pk])).status_code == 404


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_asset_list_leaves_out_assets_of_other_places(client, world, asset, persona):
    client.force_login(getattr(world, persona))
    response = client.get(reverse("registers:asset_list"))
    assert response.status_code == 200
    assert asset.code not in response.content.decode()


@pytest.mark.parametrize("persona", INSIDERS)
def test_asset_card_is_seen_inside_the_jurisdiction(client, world, asset, persona):
    client.force_login(getattr(world, persona))
    assert asset.code in client.get(reverse("registers:asset_list")).content.decode()
    response = client.get(reverse("registers:asset_detail", args=[asset.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert asset.name in content
    assert asset.source_matter.get_absolute_url() in content


def test_asset_list_filters_by_status(client, world, asset):
    client.force_login(world.secretary_a1)
    assert asset.code in client.get(reverse("registers:asset_list"), {"status": "in_use"}).content.decode()
    assert asset.code not in client.get(reverse("registers:asset_list"), {"status": "disposed"}).content.decode()


def test_member_list_leaves_out_members_of_other_villages(client, world):
    member = world.members_a1[0]
    client.force_login(world.secretary_a2)
    response = client.get(reverse("registers:member_list"))
    assert response.status_code == 200
    assert f"<td>{member.name}</td>" not in response.content.decode()
    client.force_login(world.secretary_a1)
    assert f"<td>{member.name}</td>" in client.get(reverse("registers:member_list")).content.decode()
