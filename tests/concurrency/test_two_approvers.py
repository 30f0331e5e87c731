"""Two township leaders press "approve" on the same task at the same moment: exactly one wins."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection

from flows import services
from flows.models import Decision, Step, StepRecord
from tests.conftest import build_world
from tests.drive import apply_purchase, hold_meeting, refresh
from tests.flows.test_spine import to_step

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are only real on PostgreSQL (SQLite serialises whole transactions)")


def run_at_once(*calls):
    """Start every call on its own thread and connection, released together by a barrier."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait()
            call()
            outcomes[index] = "ok"
        except (services.TaskConflict, ValidationError):
            outcomes[index] = "refused"
        except Exception as error:  # any other failure is reported in the assertion
            outcomes[index] = repr(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_two_leaders_approving_the_same_task_exactly_one_wins():
    world = build_world()
    matter = to_step(world, apply_purchase(world, total="50000.00", quotations=3), Step.APPROVE_BY_TOWNSHIP)
    task = services.active_task(matter, Step.APPROVE_BY_TOWNSHIP)

    def approve(leader):
        return lambda: services.step_perform(user=leader, task_id=task.pk, decision=Decision.AGREE, opinion="同意")

    outcomes = run_at_once(approve(world.leader_a), approve(world.second_leader_a))
    assert sorted(outcomes) == ["ok", "refused"]
    assert StepRecord.objects.filter(matter=matter, step=Step.APPROVE_BY_TOWNSHIP).count() == 1
    matter = refresh(matter)
    assert matter.next_step == Step.IMPLEMENT
    assert services.active_task(matter, Step.IMPLEMENT) is not None


def test_two_supervisors_recording_the_same_vote_exactly_one_counts():
    world = build_world()
    matter = to_step(world, apply_purchase(world), Step.DELIBERATE)
    outcomes = run_at_once(lambda: hold_meeting(world, matter), lambda: hold_meeting(world, matter))
    assert sorted(outcomes) == ["ok", "refused"]
    assert matter.meeting_decisions.count() == 1
    assert refresh(matter).next_step == Step.PUBLISH_RESOLUTION
