"""History rows only where a value changed (organizations/history_saves.py)."""

import pytest

from documents.models import LedgerEntry
from flows.models import Matter
from tests.drive import apply_purchase

pytestmark = pytest.mark.django_db


def history_of(matter) -> int:
    return Matter.history.filter(id=matter.pk).count()


def test_saving_a_row_unchanged_writes_no_history_row_but_still_its_leaf(world):
    matter = Matter.objects.get(pk=apply_purchase(world).pk)
    before, leaves = history_of(matter), LedgerEntry.objects.filter(object_type="Matter").count()
    matter.save()
    assert history_of(matter) == before
    assert LedgerEntry.objects.filter(object_type="Matter").count() == leaves + 1


def test_a_changed_value_writes_one_history_row(world):
    matter = Matter.objects.get(pk=apply_purchase(world).pk)
    before = history_of(matter)
    matter.title = "购置打印机"
    matter.save()
    matter.save()  # and saving it again unchanged adds nothing
    assert history_of(matter) == before + 1
    assert Matter.history.filter(id=matter.pk).latest("history_date").title == "购置打印机"


def test_a_list_changed_in_place_is_a_change(world):
    matter = Matter.objects.get(pk=apply_purchase(world).pk)
    before = history_of(matter)
    matter.required_steps.remove("propose")
    matter.save()
    assert history_of(matter) == before + 1


def test_a_row_built_by_hand_with_its_key_is_recorded(world):
    matter = apply_purchase(world)
    copy = Matter.objects.get(pk=matter.pk)
    copy._state.adding = True  # as a row built with Matter(pk=…) is: nothing known to compare with
    copy._state.db = None
    before = history_of(matter)
    copy.save(force_update=True)
    assert history_of(matter) == before + 1
