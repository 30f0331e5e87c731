from decimal import Decimal

import pytest

from flows.models import Decision, MatterStatus, Step
from registers.models import Asset, AssetStatus
from tests.drive import apply_purchase, refresh, run_to_end

pytestmark = pytest.mark.django_db


def test_small_purchase_needs_only_two_committees_and_officer(world):
    matter = apply_purchase(world, total="8000.00")
    assert matter.required_steps == [
        Step.APPLY,
        Step.PROPOSE,
        Step.DELIBERATE,
        Step.PUBLISH_RESOLUTION,
        Step.CHECK_BY_TOWNSHIP,
        Step.IMPLEMENT,
        Step.PUBLISH_RESULT,
        Step.ARCHIVE,
    ]
    assert refresh(matter).next_step == Step.PROPOSE


def test_large_purchase_takes_the_whole_spine_to_the_archive(world):
    matter = apply_purchase(world, total="150000.00", quotations=3)
    assert Step.RESOLVE_BY_MEMBERS in matter.required_steps
    assert Step.APPROVE_BY_TOWNSHIP in matter.required_steps
    matter = run_to_end(world, matter)
    assert matter.status == MatterStatus.ARCHIVED
    assert matter.archive_number.startswith("A1-JJ-")
    steps_done = list(matter.step_records.values_list("step", flat=True))
    for step in matter.required_steps:
        assert step in steps_done
    card = Asset.objects.get(source_matter=matter)
    assert card.status == AssetStatus.IN_USE
    assert card.original_value == Decimal("150000.00")
    assert card.history.count() == 1


def test_medium_purchase_goes_to_villager_representatives(world):
    matter = apply_purchase(world, total="50000.00", quotations=3)
    assert matter.member_body == "villager_representatives"
    matter = run_to_end(world, matter)
    assert matter.status == MatterStatus.ARCHIVED
    assert matter.step_records.filter(step=Step.RESOLVE_BY_MEMBERS, decision=Decision.PASSED).exists()
