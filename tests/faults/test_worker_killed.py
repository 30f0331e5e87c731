"""A real Celery worker killed (SIGKILL) in the middle of a dossier: the dossier is still rendered, once.

Each broker has its own cure. The SQLite broker forgets a message its worker took: beat's sweep finds the
document still "rendering" with no heartbeat and queues it again. Redis gives the unacknowledged message back
after its visibility timeout. Either way the next worker claims the expired lease and renders the volume,
and the ledger logs it once.
"""

import os
import signal

import pytest
from django.conf import settings

from tests.installation import Installation, wait_until

# Short enough for a test: the lease lapses after 3 s without a heartbeat, beat sweeps every 2 s.
QUICK_RECOVERY = {"JOB_LEASE_SECONDS": "3", "JOB_HEARTBEAT_SECONDS": "1", "JOB_SWEEP_SECONDS": "2"}


@pytest.fixture
def installation(request):
    redis_url = request.param
    if redis_url == "redis" and not settings.REDIS_URL:
        pytest.skip("needs Redis (REDIS_URL)")
    postgres_url = settings.DATABASE_URL if settings.DATABASE_URL else ""
    extra = {"REDIS_VISIBILITY_TIMEOUT": "5"} if redis_url == "redis" else {}
    installation = Installation(
        redis_url=settings.REDIS_URL if redis_url == "redis" else "", postgres_url=postgres_url, extra_env=extra
    )
    try:
        installation.manage("migrate", "--noinput", "-v0")
        if not settings.REDIS_URL or redis_url != "redis":
            installation.manage("createcachetable")
        yield installation
    finally:
        installation.close()


def document_state(installation: Installation, document_id: int):
    rows = installation.query(
        "SELECT status, progress, attempts FROM documents_rendereddocument WHERE id = %s", (document_id,)
    )
    return rows[0] if rows else None


def kill_mid_render(installation: Installation, document_id: int) -> None:
    """Start a worker, wait until it is rendering the dossier, and kill its whole process group."""
    installation.start_worker("first")
    rendering = wait_until(
        lambda: document_state(installation, document_id)[0] == "rendering", seconds=120, interval=0.05
    )
    assert rendering, installation.log("first")
    installation.kill("first", signal.SIGKILL)
    status, progress, attempts = document_state(installation, document_id)
    assert (status, attempts) == ("rendering", 1), "the worker finished before it could be killed"
    assert progress < 100


def assert_rendered_once(installation: Installation, document_id: int, worker: str) -> None:
    done = wait_until(lambda: document_state(installation, document_id)[0] == "done", seconds=120, interval=0.2)
    assert done, installation.log(worker)
    result = installation.script("tests.faults.scenario", "check", str(document_id))
    assert result["attempts"] == 2
    assert result["sha256"] and result["stored_sha256"] == result["sha256"]
    assert result["page_count"] >= 10
    assert result["ledger_entries"] == 1


@pytest.mark.parametrize("installation", ["sqlite-broker"], indirect=True)
def test_a_killed_worker_on_the_sqlite_broker_is_made_good_by_the_sweep(installation):
    document_id = installation.script("tests.faults.scenario", "prepare")["document"]
    kill_mid_render(installation, document_id)
    # The message is gone with the worker: without beat's sweep nothing would ever render the dossier.
    installation.start_worker("second", beat=True, env=QUICK_RECOVERY)
    assert_rendered_once(installation, document_id, "second")


@pytest.mark.redis
@pytest.mark.parametrize("installation", ["redis"], indirect=True)
def test_a_killed_worker_on_redis_gets_its_message_back(installation):
    document_id = installation.script("tests.faults.scenario", "prepare")["document"]
    kill_mid_render(installation, document_id)
    # No beat here: the dossier comes back through Redis' visibility timeout alone.
    installation.start_worker("second", env={**QUICK_RECOVERY, "JOB_SWEEP_SECONDS": "3600"})
    assert_rendered_once(installation, document_id, "second")
    assert "render_document" in installation.log("second")


def test_the_installation_stops_every_process_it_started(tmp_path):
    installation = Installation()
    process = installation.start("sleeper", ["sleep", "300"])
    installation.close()
    assert process.poll() is not None
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)
