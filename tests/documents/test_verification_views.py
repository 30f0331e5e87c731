"""The public verification page (by code, by uploaded PDF) and the county's ledger page."""

import datetime
import hashlib
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from documents.digests import sm3_hex
from documents.ledger import ledger_append
from documents.models import LedgerCheck, LedgerEntry, LedgerKind, RenderedDocument, TreeHead, TreeNode
from documents.sequencer import sequence_pending
from documents.tasks import check_ledger
from flows.models import Matter, Step, StepRecord
from registers.models import EarlyWarning, WarningLevel, WarningRule
from tests.drive import act, apply_purchase

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n% a dossier\n"
CODE = "K7Q2-M9XD"
ARCHIVE_NUMBER = "A1-JJ-2026-000042"


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def dossier(world) -> RenderedDocument:
    """An archived matter's dossier, logged by saving it as the rendering leaves it, under a signed head."""
    matter = apply_purchase(world)
    act(world.secretary_a1, matter, opinion="同意提议")
    matter.refresh_from_db()
    matter.archive_number = ARCHIVE_NUMBER
    matter.save()
    document = RenderedDocument(
        kind=RenderedDocument.Kind.DOSSIER,
        matter=matter,
        status="done",
        sha256=hashlib.sha256(PDF).hexdigest(),
        sm3=sm3_hex(PDF),
        verification_code=CODE,
    )
    document.pdf.save("dossier.pdf", ContentFile(PDF), save=False)
    document.save()
    sequence_pending()
    return document


def dossier_leaf(document) -> LedgerEntry:
    return LedgerEntry.objects.filter(object_type="RenderedDocument", object_pk=document.pk).order_by("-seq").first()


def first_decision(matter: Matter) -> LedgerEntry:
    return LedgerEntry.objects.filter(matter=matter, kind=LedgerKind.DECISION).order_by("seq").first()


# --- the public page -------------------------------------------------------------------


def test_verify_page_is_public(client, db):
    response = client.get(reverse("documents:verify"))
    assert response.status_code == 200
    assert b'id="verify-code-form"' in response.content
    assert b'id="verify-file-form"' in response.content


def test_verify_page_sends_a_code_to_its_page(client, db):
    response = client.get(reverse("documents:verify"), {"code": f" {CODE} "})
    assert response.status_code == 302
    assert response.url == reverse("documents:verify_code", args=[CODE])


def test_verify_page_refuses_something_that_is_not_a_code(client, db):
    response = client.get(reverse("documents:verify"), {"code": "../../etc/passwd"})
    assert response.status_code == 200
    assert b"That is not a verification code" in response.content


def test_code_page_shows_the_document_and_that_the_log_verifies(client, dossier):
    response = client.get(reverse("documents:verify_code", args=[CODE]))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'data-ok="yes"' in content
    assert dossier.matter.title in content
    assert ARCHIVE_NUMBER in content
    assert dossier.sha256 in content
    assert "Dossier" in content


def test_code_page_shows_nothing_else_of_the_matter(client, dossier):
    content = client.get(reverse("documents:verify_code", args=[CODE])).content.decode()
    assert "同意提议" not in content, "step opinions are not for anonymous visitors"
    assert str(dossier.matter.amount) not in content
    assert dossier.matter.get_absolute_url() not in content


def test_code_page_shows_the_proof_the_head_and_its_signer(client, dossier):
    content = client.get(reverse("documents:verify_code", args=[CODE])).content.decode()
    head = TreeHead.objects.order_by("-size").first()
    assert 'id="proof"' in content
    assert head.root_hash in content
    assert dossier_leaf(dossier).leaf_hash in content
    assert reverse("documents:proof_download", args=[CODE]) in content
    assert reverse("documents:verifier_download") in content
    assert "No witness has countersigned this head yet" in content


def test_code_page_fails_when_the_documents_leaf_was_tampered(client, dossier):
    entry = dossier_leaf(dossier)
    LedgerEntry.objects.filter(pk=entry.pk).update(payload={**entry.payload, "forged": True})
    content = client.get(reverse("documents:verify_code", args=[CODE])).content.decode()
    assert 'data-ok="no"' in content
    assert f"Entry #{entry.seq} was changed" in content


def test_code_page_fails_when_the_tree_under_the_head_was_tampered(client, dossier):
    entry = dossier_leaf(dossier)
    TreeNode.objects.exclude(level=0, index=entry.seq - 1).update(hash="ab" * 32)
    content = client.get(reverse("documents:verify_code", args=[CODE])).content.decode()
    assert 'data-ok="no"' in content
    assert "is not under the signed tree head" in content


def test_code_page_fails_when_the_documents_fingerprint_was_changed(client, dossier):
    RenderedDocument.objects.filter(pk=dossier.pk).update(sha256="0" * 64)
    content = client.get(reverse("documents:verify_code", args=[CODE])).content.decode()
    assert 'data-ok="no"' in content
    assert "differs from the one the log recorded" in content


def test_code_page_of_a_document_not_yet_in_the_log(client, world):
    RenderedDocument.objects.create(kind=RenderedDocument.Kind.MINUTES, verification_code="PENDING-1")
    content = client.get(reverse("documents:verify_code", args=["PENDING-1"])).content.decode()
    assert 'data-ok="no"' in content
    assert "not in the log yet" in content


def test_unknown_code_is_404(client, db):
    assert client.get(reverse("documents:verify_code", args=["NOSUCHCODE"])).status_code == 404


def test_uploaded_dossier_pdf_is_verified(client, dossier):
    upload = SimpleUploadedFile("dossier.pdf", PDF, content_type="application/pdf")
    response = client.post(reverse("documents:verify"), {"pdf": upload})
    assert response.status_code == 200
    content = response.content.decode()
    assert 'data-ok="yes"' in content
    assert ARCHIVE_NUMBER in content
    assert dossier.matter.title in content
    assert "同意提议" not in content


def test_uploaded_altered_pdf_is_not_verified(client, dossier):
    upload = SimpleUploadedFile("dossier.pdf", PDF + b"%%EOF forged", content_type="application/pdf")
    content = client.post(reverse("documents:verify"), {"pdf": upload}).content.decode()
    assert 'data-ok="no"' in content
    assert "not in the log" in content
    assert ARCHIVE_NUMBER not in content


def test_uploaded_pdf_is_not_verified_when_its_head_was_tampered(client, dossier):
    TreeHead.objects.filter(size=TreeHead.objects.order_by("-size").first().size).update(root_hash="cd" * 32)
    upload = SimpleUploadedFile("dossier.pdf", PDF, content_type="application/pdf")
    content = client.post(reverse("documents:verify"), {"pdf": upload}).content.decode()
    assert 'data-ok="no"' in content
    assert "differ from what was signed" in content


def test_proof_and_verifier_downloads_are_public(client, dossier):
    proof = client.get(reverse("documents:proof_download", args=[CODE]))
    assert proof.status_code == 200
    assert proof["Content-Type"].startswith("application/json")
    assert b'"format":"sanzi-verification/1"' in proof.content
    verifier = client.get(reverse("documents:verifier_download"))
    assert verifier.status_code == 200
    assert b"def verify(" in verifier.content


def test_a_dossier_package_needs_the_jurisdiction(client, dossier, world):
    url = reverse("documents:document_package", args=[CODE])
    assert client.get(url).status_code == 404
    client.force_login(world.secretary_b1)
    assert client.get(url).status_code == 404
    client.force_login(world.inspector)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"


def test_upload_without_a_file_asks_for_one(client, db):
    response = client.post(reverse("documents:verify"), {})
    assert response.status_code == 200
    assert b'id="verify-result"' not in response.content
    assert b"errorlist" in response.content


def test_oversize_upload_is_refused(client, db, monkeypatch):
    monkeypatch.setattr("documents.verification.VERIFY_MAX_BYTES", 10)
    upload = SimpleUploadedFile("dossier.pdf", PDF, content_type="application/pdf")
    response = client.post(reverse("documents:verify"), {"pdf": upload})
    assert b"too large" in response.content
    assert b'id="verify-result"' not in response.content


# --- the ledger page -------------------------------------------------------------------


def test_ledger_page_needs_login(client, db):
    url = reverse("documents:ledger")
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize(
    "persona", ["secretary_a1", "cashier_a1", "supervisor_a1", "secretary_b1", "officer_a", "leader_a"]
)
def test_ledger_page_is_forbidden_to_village_and_township_posts(client, world, persona):
    client.force_login(getattr(world, persona))
    assert client.get(reverse("documents:ledger")).status_code == 403


@pytest.mark.parametrize("persona", ["inspector", "inspector_b", "county_admin"])
def test_ledger_page_shows_the_log_verified_with_its_signed_heads(client, dossier, world, persona):
    check_ledger()
    client.force_login(getattr(world, persona))
    response = client.get(reverse("documents:ledger"))
    assert response.status_code == 200
    # Opening the page is itself logged (the access log enters the ledger), so the head is read afterwards.
    head = TreeHead.objects.order_by("-size").first()
    content = response.content.decode()
    assert 'id="ledger-result" data-ok="yes"' in content
    assert f'<strong id="entry-count">{LedgerEntry.objects.count()}</strong>' in content
    assert head.root_hash in content
    assert 'id="log-keys"' in content


def test_ledger_page_names_the_first_bad_entry(client, dossier, world):
    entry = first_decision(dossier.matter)
    LedgerEntry.objects.filter(pk=entry.pk).update(leaf_hash="e" * 64)
    check_ledger()
    client.force_login(world.county_admin)
    content = client.get(reverse("documents:ledger")).content.decode()
    assert 'id="ledger-result" data-ok="no"' in content
    assert f"First bad entry: #{entry.seq}" in content
    warning = EarlyWarning.objects.get(rule=WarningRule.LEDGER_CHECK_FAILED)
    assert (warning.level, warning.organization) == (WarningLevel.RED, world.county)
    assert str(entry.seq) in warning.title
    assert warning.url == reverse("documents:ledger")


def test_ledger_page_does_not_verify_the_whole_log_itself(client, dossier, world):
    client.force_login(world.county_admin)
    with mock.patch("documents.ledger_checks.ledger_verify") as whole:
        content = client.get(reverse("documents:ledger")).content.decode()
    whole.assert_not_called()
    assert 'id="ledger-result" data-ok="none"' in content
    assert "No check of the whole log has run yet. It runs every 15 minutes" in content
    assert "The stored files have not been re-read yet" in content
    assert not LedgerCheck.objects.exists()


def test_ledger_page_says_when_the_check_ran_and_what_it_covered(client, dossier, world):
    check = LedgerCheck.objects.get(pk=check_ledger())
    client.force_login(world.inspector)
    content = client.get(reverse("documents:ledger")).content.decode()
    assert 'id="ledger-result" data-ok="yes" data-stale="no"' in content
    assert f"Checked at {timezone.localtime(check.finished_at):%Y-%m-%d %H:%M:%S}" in content
    assert f"Covered the log up to the signed tree head of {check.head_size} entries" in content
    assert check.head_size > 0 and len(check.head_root) == 64
    assert "stored files not re-read" in content
    assert "Scheduled" in content
    assert "Out of date" not in content

    check_ledger(check_files=True)
    content = client.get(reverse("documents:ledger")).content.decode()
    assert "stored files re-read" in content
    assert 'id="ledger-file-check"' not in content, "the latest check re-read the files itself"


def test_ledger_page_shows_the_latest_file_check_beside_a_newer_one_without_files(client, dossier, world):
    check_ledger(check_files=True)
    check_ledger()
    client.force_login(world.inspector)
    content = client.get(reverse("documents:ledger")).content.decode()
    assert "stored files not re-read" in content
    assert "Stored files last re-read:" in content


def test_ledger_page_marks_a_result_older_than_its_schedule_as_stale(client, dossier, world, settings):
    check = LedgerCheck.objects.get(pk=check_ledger())
    allowed = 2 * settings.LEDGER_CHECK_SECONDS + settings.LEDGER_CHECK_GRACE_SECONDS
    check.finished_at -= datetime.timedelta(seconds=allowed - 60)
    check.save()
    client.force_login(world.inspector)
    assert 'data-stale="no"' in client.get(reverse("documents:ledger")).content.decode()
    check.finished_at -= datetime.timedelta(seconds=120)
    check.save()
    content = client.get(reverse("documents:ledger")).content.decode()
    assert 'id="ledger-result" data-ok="yes" data-stale="yes"' in content
    assert "Out of date" in content
    assert "the scheduled check is not running" in content


def test_ledger_page_shows_a_check_that_is_running(client, dossier, world):
    LedgerCheck.objects.create(trigger=LedgerCheck.Trigger.SCHEDULE, check_files=False, started_at=timezone.now())
    client.force_login(world.inspector)
    content = client.get(reverse("documents:ledger")).content.decode()
    assert 'id="ledger-check-running"' in content
    assert 'data-ok="none"' in content, "an unfinished check has no result"


def test_county_administrator_asks_for_a_fresh_check(client, dossier, world):
    client.force_login(world.county_admin)
    assert 'id="ledger-check-request"' in client.get(reverse("documents:ledger")).content.decode()
    with mock.patch.object(check_ledger, "apply_async") as sent:
        response = client.post(reverse("documents:ledger_check_request"), follow=True)
    sent.assert_called_once_with((False, world.county_admin.pk))
    assert response.redirect_chain[-1][0] == reverse("documents:ledger")
    assert "A check of the whole log was asked for" in response.content.decode()
    # The job the worker then runs records who asked.
    check = LedgerCheck.objects.get(pk=check_ledger(False, world.county_admin.pk))
    assert (check.trigger, check.requested_by, check.ok) == (LedgerCheck.Trigger.REQUEST, world.county_admin, True)
    content = client.get(reverse("documents:ledger")).content.decode()
    assert "Asked for" in content


def test_asking_for_a_check_while_one_runs_queues_no_other(client, dossier, world):
    LedgerCheck.objects.create(trigger=LedgerCheck.Trigger.SCHEDULE, check_files=False, started_at=timezone.now())
    client.force_login(world.county_admin)
    with mock.patch.object(check_ledger, "apply_async") as sent:
        response = client.post(reverse("documents:ledger_check_request"), follow=True)
    sent.assert_not_called()
    assert "A check of the whole log is running now" in response.content.decode()


def test_asking_for_a_check_when_the_broker_is_down_says_so(client, dossier, world):
    client.force_login(world.county_admin)
    with mock.patch.object(check_ledger, "apply_async", side_effect=OSError("broker down")):
        response = client.post(reverse("documents:ledger_check_request"), follow=True)
    assert response.status_code == 200
    assert "The check could not be queued now" in response.content.decode()
    assert not LedgerCheck.objects.exists()


@pytest.mark.parametrize("persona", ["inspector", "inspector_b", "secretary_a1", "officer_a", "leader_a"])
def test_only_the_county_administrator_may_ask_for_a_check(client, dossier, world, persona):
    client.force_login(getattr(world, persona))
    with mock.patch.object(check_ledger, "apply_async") as sent:
        assert client.post(reverse("documents:ledger_check_request")).status_code == 403
    sent.assert_not_called()
    if persona.startswith("inspector"):
        assert 'id="ledger-check-request"' not in client.get(reverse("documents:ledger")).content.decode()


def test_asking_for_a_check_is_a_post(client, world):
    client.force_login(world.county_admin)
    assert client.get(reverse("documents:ledger_check_request")).status_code == 405
    client.logout()
    assert client.post(reverse("documents:ledger_check_request")).status_code == 302


def test_the_ledger_page_reads_a_fixed_number_of_rows_whatever_the_size_of_the_log(client, dossier, world):
    client.force_login(world.county_admin)

    def queries() -> int:
        check_ledger(check_files=True)
        check_ledger()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("documents:ledger")).status_code == 200
        return len(captured.captured_queries)

    small = queries()
    for number in range(300):
        ledger_append(kind=LedgerKind.DECISION, object_type="Test", object_id=f"t{number}", payload={"n": number})
    sequence_pending()
    assert queries() == small


def test_ledger_page_verifies_one_matter_by_archive_number(client, dossier, world):
    client.force_login(world.inspector)
    content = client.get(reverse("documents:ledger"), {"matter": ARCHIVE_NUMBER}).content.decode()
    assert 'id="matter-result" data-ok="yes"' in content
    StepRecord.objects.filter(matter=dossier.matter, step=Step.PROPOSE).update(opinion="改过")
    content = client.get(reverse("documents:ledger"), {"matter": str(dossier.matter.pk)}).content.decode()
    assert 'id="matter-result" data-ok="no"' in content
    assert "opinion" in content


def test_ledger_page_checks_only_matters_in_the_inspectors_jurisdiction(client, dossier, world):
    client.force_login(world.inspector_b)
    content = client.get(reverse("documents:ledger"), {"matter": ARCHIVE_NUMBER}).content.decode()
    assert 'id="matter-result"' not in content
    assert "No such matter in your jurisdiction" in content


def test_the_public_proof_page_reads_a_fixed_number_of_rows_whatever_the_size_of_the_log(client, dossier):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("documents:verify_code", args=[CODE])).status_code == 200
        return len(captured.captured_queries)

    small = queries()
    for number in range(300):
        ledger_append(kind=LedgerKind.DECISION, object_type="Test", object_id=f"t{number}", payload={"n": number})
    sequence_pending()
    assert queries() == small
