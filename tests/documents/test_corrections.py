"""Corrections of archived matters (Jilin measures art. 14): township then county approve, the ledger records,
the dossier is rendered again, and the archived records themselves never change."""

import importlib.util
import sys
import types

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from documents import review
from documents.models import CorrectionRequest, CorrectionStatus, RenderedDocument
from documents.review import AlreadyDecided
from flows.models import Matter, StepRecord
from tests.drive import apply_purchase, run_to_end

pytestmark = pytest.mark.django_db

LEDGER_WRITTEN = importlib.util.find_spec("documents.ledger") is not None
CORRECTION = {
    "what": "实施记录中的供应商名称",
    "correction": "供应商应为“东湖农机有限公司”",
    "reason": "合同原件与记录不一致",
}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def ledger(monkeypatch) -> list[dict]:
    """The calls made to documents.ledger.ledger_append, instead of writing the chain.

    The ledger module is written by another part of issue 4; until it exists a stand-in module takes its place.
    """
    calls = []

    real = None

    def ledger_append(**kwargs):
        # Only the correction entry is recorded here; the records the log covers are written as usual.
        if kwargs["kind"] == "correction":
            calls.append(kwargs)
        elif real is not None:
            return real(**kwargs)

    if LEDGER_WRITTEN:
        import documents.ledger

        real = documents.ledger.ledger_append
        monkeypatch.setattr("documents.ledger.ledger_append", ledger_append)
    else:
        monkeypatch.setitem(sys.modules, "documents.ledger", types.SimpleNamespace(ledger_append=ledger_append))
    return calls


@pytest.fixture
def dossiers(monkeypatch) -> list:
    """The matters whose dossier was requested; the real documents.rendering.dossier_request still runs."""
    from documents import rendering

    requested = []
    real = rendering.dossier_request

    def dossier_request(*, matter):
        requested.append(matter)
        return real(matter=matter)

    monkeypatch.setattr(rendering, "dossier_request", dossier_request)
    return requested


@pytest.fixture
def matter(world) -> Matter:
    return run_to_end(world, apply_purchase(world))


def submit(world, matter, user=None, **overrides) -> CorrectionRequest:
    return review.correction_submit(user=user or world.secretary_a1, matter=matter, **{**CORRECTION, **overrides})


def snapshot(matter: Matter) -> tuple:
    """Every stored value of the matter and its step records, and how many history rows they have."""
    return (
        Matter.objects.filter(pk=matter.pk).values().get(),
        list(StepRecord.objects.filter(matter=matter).order_by("pk").values()),
        matter.history.count(),
        StepRecord.history.filter(matter_id=matter.pk).count(),
    )


# --- the whole path -------------------------------------------------------------------


def test_a_correction_approved_by_township_and_county_is_recorded_without_touching_the_archive(
    world, matter, ledger, dossiers
):
    before = snapshot(matter)
    correction = submit(world, matter)
    assert correction.status == CorrectionStatus.AWAITING_TOWNSHIP
    assert correction.requested_by == world.secretary_a1

    correction = review.correction_township_decide(
        user=world.leader_a, correction_id=correction.pk, approve=True, opinion="情况属实，同意更正"
    )
    assert correction.status == CorrectionStatus.AWAITING_COUNTY
    assert (correction.township_by, correction.township_opinion) == (world.leader_a, "情况属实，同意更正")
    assert ledger == [] and dossiers == [], "nothing is recorded before the county approves"

    correction = review.correction_county_decide(user=world.county_admin, correction_id=correction.pk, approve=True)
    assert correction.status == CorrectionStatus.APPROVED
    assert correction.county_by == world.county_admin
    assert correction.county_at is not None

    assert len(ledger) == 1
    entry = ledger[0]
    assert (entry["kind"], entry["obj"], entry["matter"]) == ("correction", correction, matter)
    assert entry["payload"]["what"] == CORRECTION["what"]
    assert entry["payload"]["correction_text"] == CORRECTION["correction"]
    assert entry["payload"]["reason"] == CORRECTION["reason"]
    assert entry["payload"]["archive_number"] == matter.archive_number
    assert (entry["payload"]["township_by"], entry["payload"]["county_by"]) == ("leader_a", "county_admin")
    assert dossiers == [matter]
    assert RenderedDocument.objects.filter(
        matter=matter, kind=RenderedDocument.Kind.DOSSIER, superseded_at__isnull=True
    ).exists()

    assert snapshot(matter) == before, "the archived matter and its step records never change"


def test_the_history_keeps_every_state_and_who_set_it(world, matter, ledger):
    correction = submit(world, matter)
    review.correction_township_decide(user=world.leader_a, correction_id=correction.pk, approve=True)
    review.correction_county_decide(user=world.county_admin, correction_id=correction.pk, approve=True)
    history = list(correction.history.order_by("history_date", "history_id"))
    assert [row.status for row in history] == ["awaiting_township", "awaiting_county", "approved"]
    assert [row.history_user for row in history] == [world.secretary_a1, world.leader_a, world.county_admin]


@pytest.mark.skipif(not LEDGER_WRITTEN, reason="documents/ledger.py is not written yet")
def test_an_approved_correction_is_a_link_of_the_real_ledger(world, matter):
    from documents.models import LedgerEntry

    correction = submit(world, matter)
    review.correction_township_decide(user=world.leader_a, correction_id=correction.pk, approve=True)
    review.correction_county_decide(user=world.county_admin, correction_id=correction.pk, approve=True)
    entry = LedgerEntry.objects.get(kind="correction")
    assert (entry.matter, entry.object_id) == (matter, str(correction.pk))
    assert entry.payload["correction_text"] == CORRECTION["correction"]


def test_the_township_rejects_with_an_opinion_and_the_county_never_sees_it(world, matter, ledger):
    before = snapshot(matter)
    correction = submit(world, matter)
    with pytest.raises(ValidationError) as error:
        review.correction_township_decide(user=world.leader_a, correction_id=correction.pk, approve=False, opinion="")
    assert error.value.message_dict == {"opinion": ["Give the reason for rejecting."]}
    correction = review.correction_township_decide(
        user=world.leader_a, correction_id=correction.pk, approve=False, opinion="无合同原件佐证"
    )
    assert (correction.status, correction.township_opinion) == (CorrectionStatus.REJECTED, "无合同原件佐证")
    with pytest.raises(AlreadyDecided, match="not waiting for the county"):
        review.correction_county_decide(user=world.county_admin, correction_id=correction.pk, approve=True)
    assert ledger == []
    assert snapshot(matter) == before


def test_the_county_rejects_with_an_opinion(world, matter, ledger):
    correction = submit(world, matter)
    review.correction_township_decide(user=world.leader_a, correction_id=correction.pk, approve=True)
    with pytest.raises(ValidationError):
        review.correction_county_decide(user=world.county_admin, correction_id=correction.pk, approve=False)
    correction = review.correction_county_decide(
        user=world.county_admin, correction_id=correction.pk, approve=False, opinion="更正内容超出原合同范围"
    )
    assert (correction.status, correction.county_opinion) == (CorrectionStatus.REJECTED, "更正内容超出原合同范围")
    assert ledger == []


# --- who, when, and twice -------------------------------------------------------------


def test_only_an_archived_matter_is_corrected(world):
    with pytest.raises(ValidationError, match="Only an archived matter"):
        submit(world, apply_purchase(world))
    assert not CorrectionRequest.objects.exists()


@pytest.mark.parametrize("persona", ["cashier_a1", "supervisor_a1", "secretary_a2", "leader_a", "inspector"])
def test_only_the_village_secretary_requests_a_correction(world, matter, persona):
    with pytest.raises(PermissionDenied):
        submit(world, matter, user=getattr(world, persona))
    assert not CorrectionRequest.objects.exists()


def test_a_request_needs_what_the_correction_and_the_reason(world, matter):
    with pytest.raises(ValidationError) as error:
        submit(world, matter, what=" ", correction="", reason="")
    assert set(error.value.message_dict) == {"what", "correction", "reason"}


@pytest.mark.parametrize("persona", ["officer_a", "leader_b", "county_admin", "secretary_a1", "inspector"])
def test_only_the_township_leader_over_the_village_decides_first(world, matter, persona):
    correction = submit(world, matter)
    with pytest.raises(PermissionDenied):
        review.correction_township_decide(user=getattr(world, persona), correction_id=correction.pk, approve=True)
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.AWAITING_TOWNSHIP


@pytest.mark.parametrize("persona", ["leader_a", "officer_a", "inspector", "secretary_a1"])
def test_only_the_county_administrator_decides_last(world, matter, persona, ledger):
    correction = submit(world, matter)
    review.correction_township_decide(user=world.leader_a, correction_id=correction.pk, approve=True)
    with pytest.raises(PermissionDenied):
        review.correction_county_decide(user=getattr(world, persona), correction_id=correction.pk, approve=True)
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.AWAITING_COUNTY


def test_the_county_cannot_skip_the_township(world, matter, ledger):
    correction = submit(world, matter)
    with pytest.raises(AlreadyDecided, match="not waiting for the county"):
        review.correction_county_decide(user=world.county_admin, correction_id=correction.pk, approve=True)
    assert ledger == []


def test_deciding_twice_is_a_conflict(world, matter, ledger, dossiers):
    correction = submit(world, matter)
    review.correction_township_decide(user=world.leader_a, correction_id=correction.pk, approve=True)
    with pytest.raises(AlreadyDecided, match="not waiting for the township"):
        review.correction_township_decide(
            user=world.second_leader_a, correction_id=correction.pk, approve=False, opinion="不同意"
        )
    review.correction_county_decide(user=world.county_admin, correction_id=correction.pk, approve=True)
    with pytest.raises(AlreadyDecided):
        review.correction_county_decide(user=world.county_admin, correction_id=correction.pk, approve=True)
    assert len(ledger) == 1
    assert dossiers == [matter]


def test_an_approval_is_undone_when_the_ledger_cannot_record_it(world, matter, monkeypatch):
    import documents.ledger

    real = documents.ledger.ledger_append

    def broken(**kwargs):
        if kwargs["kind"] == "correction":
            raise RuntimeError("ledger down")
        return real(**kwargs)

    if LEDGER_WRITTEN:
        monkeypatch.setattr("documents.ledger.ledger_append", broken)
    else:
        monkeypatch.setitem(sys.modules, "documents.ledger", types.SimpleNamespace(ledger_append=broken))
    correction = submit(world, matter)
    review.correction_township_decide(user=world.leader_a, correction_id=correction.pk, approve=True)
    with pytest.raises(RuntimeError):
        review.correction_county_decide(user=world.county_admin, correction_id=correction.pk, approve=True)
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.AWAITING_COUNTY


# --- pages ----------------------------------------------------------------------------


def test_the_secretary_requests_a_correction_through_the_page(client, world, matter):
    client.force_login(world.secretary_a1)
    url = reverse("documents:correction_create", args=[matter.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, CORRECTION)
    assert response.status_code == 302
    assert response.url == f"{matter.get_absolute_url()}#review"
    correction = CorrectionRequest.objects.get()
    assert (correction.what, correction.requested_by) == (CORRECTION["what"], world.secretary_a1)


def test_an_incomplete_request_is_shown_again_with_its_errors(client, world, matter):
    client.force_login(world.secretary_a1)
    response = client.post(reverse("documents:correction_create", args=[matter.pk]), {**CORRECTION, "reason": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not CorrectionRequest.objects.exists()


def test_a_running_matter_has_no_correction_page(client, world):
    running = apply_purchase(world)
    client.force_login(world.secretary_a1)
    url = reverse("documents:correction_create", args=[running.pk])
    assert client.get(url).status_code == 409
    assert client.post(url, CORRECTION).status_code == 409
    assert not CorrectionRequest.objects.exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("secretary_a2", 404),
        ("leader_b", 404),
        ("inspector_b", 404),
        ("cashier_a1", 403),
        ("leader_a", 403),
        ("inspector", 403),
        ("county_admin", 403),
    ],
)
def test_wrong_persona_cannot_request_a_correction(client, world, matter, persona, status):
    client.force_login(getattr(world, persona))
    url = reverse("documents:correction_create", args=[matter.pk])
    assert client.get(url).status_code == status
    assert client.post(url, CORRECTION).status_code == status
    assert not CorrectionRequest.objects.exists()


def decide(client, level: str, correction, decision="approve", opinion="同意", next_url=""):
    url = reverse(f"documents:correction_{level}_decide", args=[correction.pk])
    return client.post(url, {"decision": decision, "opinion": opinion, "next": next_url})


def test_township_and_county_decide_through_the_pages(client, world, matter, ledger, dossiers):
    correction = submit(world, matter)
    client.force_login(world.leader_a)
    assert client.get(reverse("documents:correction_township_decide", args=[correction.pk])).status_code == 200
    response = decide(client, "township", correction, opinion="同意更正")
    assert response.status_code == 302
    assert response.url == f"{matter.get_absolute_url()}#review"
    client.force_login(world.county_admin)
    assert decide(client, "county", correction, next_url="/documents/review/corrections/").url == (
        "/documents/review/corrections/"
    )
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.APPROVED
    assert dossiers == [matter]


def test_rejecting_without_an_opinion_on_the_page_is_refused(client, world, matter):
    correction = submit(world, matter)
    client.force_login(world.leader_a)
    response = decide(client, "township", correction, decision="reject", opinion="")
    assert response.status_code == 400
    assert "Give the reason for rejecting." in response.content.decode()
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.AWAITING_TOWNSHIP


def test_deciding_twice_on_the_page_is_a_conflict(client, world, matter):
    correction = submit(world, matter)
    client.force_login(world.leader_a)
    assert decide(client, "township", correction, decision="reject", opinion="不同意").status_code == 302
    client.force_login(world.second_leader_a)
    assert decide(client, "township", correction).status_code == 409
    assert client.get(reverse("documents:correction_township_decide", args=[correction.pk])).status_code == 409
    correction.refresh_from_db()
    assert (correction.status, correction.township_by) == (CorrectionStatus.REJECTED, world.leader_a)


def test_a_next_address_off_the_site_is_ignored(client, world, matter):
    correction = submit(world, matter)
    client.force_login(world.leader_a)
    response = decide(client, "township", correction, next_url="https://evil.example/")
    assert response.url == f"{matter.get_absolute_url()}#review"


@pytest.mark.parametrize(
    ("level", "persona", "status"),
    [
        ("township", "leader_b", 404),
        ("township", "secretary_a2", 404),
        ("township", "officer_a", 403),
        ("township", "county_admin", 403),
        ("township", "secretary_a1", 403),
        ("township", "inspector", 403),
        ("county", "leader_a", 403),
        ("county", "inspector", 403),
        ("county", "inspector_b", 404),
        ("county", "secretary_a1", 403),
    ],
)
def test_wrong_persona_cannot_decide(client, world, matter, level, persona, status):
    correction = submit(world, matter)
    if level == "county":
        review.correction_township_decide(user=world.leader_a, correction_id=correction.pk, approve=True)
    client.force_login(getattr(world, persona))
    assert client.get(reverse(f"documents:correction_{level}_decide", args=[correction.pk])).status_code == status
    assert decide(client, level, correction).status_code == status
    assert CorrectionRequest.objects.get().status == (
        CorrectionStatus.AWAITING_TOWNSHIP if level == "township" else CorrectionStatus.AWAITING_COUNTY
    )


def test_correction_list_shows_what_waits_for_the_user(client, world, matter):
    correction = submit(world, matter)
    client.force_login(world.leader_a)
    content = client.get(reverse("documents:correction_list")).content.decode()
    assert CORRECTION["what"] in content
    assert reverse("documents:correction_township_decide", args=[correction.pk]) in content
    client.force_login(world.county_admin)
    content = client.get(reverse("documents:correction_list")).content.decode()
    assert CORRECTION["what"] in content
    assert reverse("documents:correction_county_decide", args=[correction.pk]) not in content
    client.force_login(world.leader_b)
    assert CORRECTION["what"] not in client.get(reverse("documents:correction_list")).content.decode()
