"""List pages run a fixed number of queries however many rows they show.

The issue asks for 5 against 500 matters. Carrying 500 matters through the services to the township
check takes about 72 s here (apply, propose, meeting and publication for each), so these tests compare
5 against 50 rows, which already catches any query made per row.
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from flows import services
from flows.models import Matter, Step
from organizations.people import display_name
from registers.models import Asset
from tests.drive import apply_purchase, run_to_end

from .conftest import to_step

pytestmark = pytest.mark.django_db

FEW, MANY = 5, 50


def queries_for(client, url: str) -> list[str]:
    """The SQL one GET of the page runs (after a first GET, so that per-process caches are warm)."""
    client.get(url)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return [query["sql"] for query in context.captured_queries]


def assert_same_queries(few: list[str], many: list[str]) -> None:
    assert len(few) == len(many), "\n".join(["With few rows:", *few, "", "With many rows:", *many])


def add_matters_at_township_check(world, count: int, *, taken: bool) -> None:
    for index in range(count):
        matter = to_step(world, apply_purchase(world, title=f"购置{index}"), Step.CHECK_BY_TOWNSHIP)
        if taken:
            task = services.active_task(matter, Step.CHECK_BY_TOWNSHIP)
            services.task_take(user=world.officer_a, task_id=task.pk)


def test_inbox_queries_do_not_grow_with_matters_taken_at_the_township_check(client, world):
    """Taken steps show their owner, which must come with the task, not one query per row."""
    client.force_login(world.officer_a)
    add_matters_at_township_check(world, FEW, taken=True)
    few = queries_for(client, reverse("flows:inbox"))
    add_matters_at_township_check(world, MANY - FEW, taken=True)
    many = queries_for(client, reverse("flows:inbox"))
    assert Matter.objects.filter(next_step=Step.CHECK_BY_TOWNSHIP).count() == MANY
    assert_same_queries(few, many)


def test_inbox_queries_do_not_grow_with_matters_waiting_at_the_township_check(client, world):
    client.force_login(world.officer_a)
    add_matters_at_township_check(world, FEW, taken=False)
    few = queries_for(client, reverse("flows:inbox"))
    add_matters_at_township_check(world, MANY - FEW, taken=False)
    many = queries_for(client, reverse("flows:inbox"))
    assert_same_queries(few, many)


def test_inbox_lists_every_matter_waiting_for_the_officer(client, world):
    client.force_login(world.officer_a)
    add_matters_at_township_check(world, 3, taken=True)
    content = client.get(reverse("flows:inbox")).content.decode()
    for matter in Matter.objects.all():
        assert matter.get_absolute_url() in content
    assert display_name(world.officer_a) in content


def test_inbox_lists_an_untaken_step_waiting_for_the_secretary(client, world):
    matter = apply_purchase(world)
    client.force_login(world.secretary_a1)
    response = client.get(reverse("flows:inbox"))
    assert response.status_code == 200
    assert matter.get_absolute_url() in response.content.decode()


@pytest.mark.parametrize("persona", ["secretary_a1", "inspector"])
def test_matter_list_queries_do_not_grow_with_matters(client, world, persona):
    client.force_login(getattr(world, persona))
    for index in range(FEW):
        apply_purchase(world, title=f"购置{index}")
    few = queries_for(client, reverse("flows:matter_list"))
    for index in range(FEW, MANY):
        apply_purchase(world, title=f"购置{index}")
    many = queries_for(client, reverse("flows:matter_list"))
    assert_same_queries(few, many)


def buy(world, lines: int) -> None:
    """Carry one purchase of ``lines`` item lines to the end: one asset card per line."""
    items = [
        {"name": f"桌椅{n}", "category": "家具", "quantity": 1, "unit_price": Decimal("100.00")} for n in range(lines)
    ]
    run_to_end(world, apply_purchase(world, total=f"{100 * lines}.00", items=items))


@pytest.mark.parametrize("persona", ["secretary_a1", "inspector"])
def test_asset_list_queries_do_not_grow_with_assets(client, world, persona):
    client.force_login(getattr(world, persona))
    buy(world, FEW)
    few = queries_for(client, reverse("registers:asset_list"))
    buy(world, MANY - FEW)
    many = queries_for(client, reverse("registers:asset_list"))
    assert Asset.objects.count() == MANY
    assert_same_queries(few, many)
