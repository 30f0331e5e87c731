"""Rendered PDFs on the web: status, download (logged), requests, and the panels the pages include."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from django.template import Context, RequestContext, Template
from django.urls import reverse
from django.utils import timezone

from documents import rendering
from documents.models import AccessAction, AccessLog, RenderedDocument, RenderStatus
from flows.models import Matter, Meeting, Notice
from tests.drive import apply_purchase, run_to_end
from tests.responses import body_of

from .test_rendering import ledger_calls, media_root  # noqa: F401 — autouse fixtures shared with the PDF tests

pytestmark = pytest.mark.django_db

PDF_BYTES = b"%PDF-1.7\n% a stand-in: these tests are about access, not layout\n%%EOF\n"
OUTSIDERS = ["secretary_a2", "secretary_b1", "officer_b", "leader_b", "inspector_b"]
INSIDERS = ["secretary_a1", "supervisor_a1", "officer_a", "leader_a", "inspector", "county_admin"]


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def archived(world) -> Matter:
    return run_to_end(world, apply_purchase(world))


def finish(document: RenderedDocument) -> RenderedDocument:
    """Mark a document rendered with a stand-in file, without spending seconds in WeasyPrint."""
    document.pdf.save(f"{document.kind}-{document.pk}.pdf", ContentFile(PDF_BYTES), save=False)
    document.status = RenderStatus.DONE
    document.progress = 100
    document.page_count = 1
    document.rendered_at = timezone.now()
    document.save()
    return document


@pytest.fixture
def dossier(archived) -> RenderedDocument:
    return finish(rendering.dossier_request(matter=archived))


@pytest.fixture
def meeting(archived) -> Meeting:
    return Meeting.objects.filter(decisions__matter=archived).order_by("pk").first()


def status_url(document) -> str:
    return reverse("documents:document_status", args=[document.pk])


def download_url(document) -> str:
    return reverse("documents:document_download", args=[document.pk])


def request_url(kind: str, pk: int) -> str:
    return reverse("documents:document_request", args=[kind, pk])


# --- status ------------------------------------------------------------------------------------------


def test_status_is_json_inside_the_jurisdiction(client, world, dossier):
    # Personas loop inside one test: each archived matter costs a whole run through the spine.
    for persona in INSIDERS:
        client.force_login(getattr(world, persona))
        response = client.get(status_url(dossier))
        assert response.status_code == 200, persona
        assert response.json() == {"status": "done", "label": "Ready", "progress": 100, "url": download_url(dossier)}
        assert response["Cache-Control"] == "no-store"


def test_status_of_a_pending_document_has_no_url(client, world, archived):
    document = rendering.dossier_request(matter=archived)
    client.force_login(world.secretary_a1)
    data = client.get(status_url(document)).json()
    assert (data["status"], data["progress"], data["url"]) == ("pending", 0, None)


def test_status_outside_the_jurisdiction_is_404(client, world, dossier):
    for persona in OUTSIDERS:
        client.force_login(getattr(world, persona))
        assert client.get(status_url(dossier)).status_code == 404, persona


def test_status_of_a_notice_print_follows_the_notice_village(client, world, archived):
    notice = Notice.objects.filter(matter=archived).first()
    document = finish(rendering.notice_request(notice=notice))
    client.force_login(world.secretary_a1)
    assert client.get(status_url(document)).status_code == 200
    client.force_login(world.secretary_a2)
    assert client.get(status_url(document)).status_code == 404


@pytest.mark.parametrize("view", ["status", "download"])
def test_anonymous_users_are_sent_to_log_in(client, dossier, view):
    url = status_url(dossier) if view == "status" else download_url(dossier)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_anonymous_requests_are_sent_to_log_in(client, meeting):
    response = client.post(request_url("minutes", meeting.pk))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not RenderedDocument.objects.filter(kind="minutes").exists()


# --- download ----------------------------------------------------------------------------------------


def test_opening_a_dossier_serves_the_pdf_and_logs_it(client, world, archived, dossier):
    client.force_login(world.inspector)
    response = client.get(download_url(dossier), REMOTE_ADDR="10.0.0.7")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline;")
    assert archived.archive_number in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert body_of(response) == PDF_BYTES
    entry = AccessLog.objects.get()
    assert (entry.user, entry.action, entry.matter, entry.document) == (
        world.inspector,
        AccessAction.OPEN_DOSSIER,
        archived,
        dossier,
    )
    assert entry.address == "10.0.0.7"


def test_downloading_minutes_is_logged_as_a_file_download(client, world, meeting):
    document = finish(rendering.minutes_request(meeting=meeting))
    client.force_login(world.secretary_a1)
    response = client.get(download_url(document))
    assert response.status_code == 200
    body_of(response)
    entry = AccessLog.objects.get()
    assert (entry.action, entry.document, entry.matter) == (AccessAction.DOWNLOAD_FILE, document, None)


def test_a_superseded_dossier_can_still_be_opened(client, world, archived, dossier):
    rendering.dossier_request(matter=archived)
    client.force_login(world.secretary_a1)
    response = client.get(download_url(dossier))
    assert response.status_code == 200
    assert body_of(response) == PDF_BYTES


def test_download_outside_the_jurisdiction_is_404_and_not_logged(client, world, dossier):
    for persona in OUTSIDERS:
        client.force_login(getattr(world, persona))
        assert client.get(download_url(dossier)).status_code == 404, persona
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("status", [RenderStatus.PENDING, RenderStatus.RENDERING, RenderStatus.FAILED])
def test_a_document_not_ready_is_404(client, world, archived, status):
    document = rendering.dossier_request(matter=archived)
    RenderedDocument.objects.filter(pk=document.pk).update(status=status)
    client.force_login(world.secretary_a1)
    assert client.get(download_url(document)).status_code == 404
    assert not AccessLog.objects.exists()


# --- requests ----------------------------------------------------------------------------------------


def test_anyone_in_the_village_asks_for_the_minutes_and_the_worker_renders_them(
    client, world, meeting, django_capture_on_commit_callbacks
):
    client.force_login(world.secretary_a1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(request_url("minutes", meeting.pk), {"next": meeting.get_absolute_url()})
    assert response.status_code == 302
    assert response["Location"] == meeting.get_absolute_url()
    document = RenderedDocument.objects.get(kind="minutes")
    assert (document.meeting, document.status) == (meeting, RenderStatus.DONE)
    assert document.page_count >= 1


def test_minutes_already_rendered_are_reused(client, world, meeting):
    document = finish(rendering.minutes_request(meeting=meeting))
    client.force_login(world.inspector)
    client.post(request_url("minutes", meeting.pk))
    assert list(RenderedDocument.objects.filter(kind="minutes")) == [document]


def test_failed_minutes_are_rendered_anew(client, world, meeting):
    failed = rendering.minutes_request(meeting=meeting)
    RenderedDocument.objects.filter(pk=failed.pk).update(status=RenderStatus.FAILED)
    client.force_login(world.supervisor_a1)
    client.post(request_url("minutes", meeting.pk))
    failed.refresh_from_db()
    assert failed.superseded_at is not None
    assert rendering.current_document(kind="minutes", meeting=meeting).status == RenderStatus.PENDING


def test_a_notice_print_is_asked_for_from_the_matter_page(client, world, archived):
    notice = Notice.objects.filter(matter=archived).first()
    client.force_login(world.secretary_a1)
    response = client.post(request_url("notice", notice.pk))
    assert response["Location"] == archived.get_absolute_url()
    assert RenderedDocument.objects.get(kind="notice").notice == notice


def test_requests_outside_the_jurisdiction_are_404(client, world, archived, meeting):
    notice = Notice.objects.filter(matter=archived).first()
    before = RenderedDocument.objects.count()
    for persona in OUTSIDERS:
        client.force_login(getattr(world, persona))
        for kind, pk in (("minutes", meeting.pk), ("notice", notice.pk), ("dossier", archived.pk)):
            assert client.post(request_url(kind, pk)).status_code == 404, (persona, kind)
    assert RenderedDocument.objects.count() == before


def test_township_and_county_render_a_dossier_again(client, world, archived, dossier):
    for persona in ("officer_a", "leader_a", "county_admin"):
        current = finish(rendering.current_document(kind="dossier", matter=archived))
        client.force_login(getattr(world, persona))
        assert client.post(request_url("dossier", archived.pk)).status_code == 302
        current.refresh_from_db()
        assert current.superseded_at is not None, persona
        assert RenderedDocument.objects.filter(kind="dossier", superseded_at__isnull=True).count() == 1


def test_village_posts_and_inspectors_cannot_render_a_dossier_again(client, world, archived, dossier):
    for persona in ("secretary_a1", "supervisor_a1", "inspector"):
        client.force_login(getattr(world, persona))
        assert client.post(request_url("dossier", archived.pk)).status_code == 403, persona
    assert RenderedDocument.objects.get() == dossier


def test_a_dossier_of_a_matter_not_archived_is_refused_with_a_message(client, world):
    matter = apply_purchase(world)
    client.force_login(world.officer_a)
    response = client.post(request_url("dossier", matter.pk), follow=True)
    assert "Only an archived matter has a dossier." in response.content.decode()
    assert not RenderedDocument.objects.exists()


def test_unknown_kinds_and_gets_are_refused(client, world, meeting):
    client.force_login(world.secretary_a1)
    assert client.post(request_url("certificate", meeting.pk)).status_code == 404
    assert client.get(request_url("minutes", meeting.pk)).status_code == 405


def test_next_pointing_elsewhere_is_ignored(client, world, meeting):
    client.force_login(world.secretary_a1)
    response = client.post(request_url("minutes", meeting.pk), {"next": "https://evil.example/"})
    assert response["Location"] == meeting.get_absolute_url()


# --- the panels --------------------------------------------------------------------------------------


def panel(tag: str, user, obj) -> str:
    template = Template("{% load dossier_tags %}{% " + tag + " obj %}")
    return template.render(Context({"user": user, "obj": obj}))


def test_dossier_panel_offers_the_pdf_when_done(world, archived, dossier):
    html = panel("dossier_status", world.secretary_a1, archived)
    assert f'href="{download_url(dossier)}"' in html
    assert dossier.verification_code in html
    assert "<script>" not in html
    assert "<form" not in html  # the village cannot render it again


def test_dossier_panel_polls_while_rendering_and_keeps_the_previous_version(world, archived, dossier):
    rendering.dossier_request(matter=archived)
    current = rendering.current_document(kind="dossier", matter=archived)
    RenderedDocument.objects.filter(pk=current.pk).update(status=RenderStatus.RENDERING, progress=42)
    html = panel("dossier_status", world.officer_a, archived)
    assert f'data-status-url="{status_url(current)}"' in html
    assert 'data-role="progress">42<' in html
    assert "setTimeout(poll, 2000)" in html
    assert "<noscript>" in html
    assert f'href="{download_url(dossier)}" data-role="previous"' in html
    assert request_url("dossier", archived.pk) in html  # the township may start yet another


def test_dossier_panel_is_empty_outside_the_jurisdiction_and_for_open_matters(world, archived, dossier):
    assert panel("dossier_status", world.secretary_a2, archived).strip() == ""
    assert panel("dossier_status", AnonymousUser(), archived).strip() == ""
    open_matter = apply_purchase(world)
    assert panel("dossier_status", world.officer_a, open_matter).strip() == ""


def test_minutes_panel_offers_to_render_then_the_file(world, meeting):
    html = panel("meeting_minutes_link", world.secretary_a1, meeting)
    assert request_url("minutes", meeting.pk) in html
    document = finish(rendering.minutes_request(meeting=meeting))
    html = panel("meeting_minutes_link", world.secretary_a1, meeting)
    assert f'href="{download_url(document)}"' in html
    assert request_url("minutes", meeting.pk) not in html
    assert panel("meeting_minutes_link", world.secretary_b1, meeting).strip() == ""


def test_notice_print_link_is_not_shown_on_the_public_board(world, archived):
    notice = Notice.objects.filter(matter=archived).first()
    assert panel("notice_print_link", AnonymousUser(), notice).strip() == ""
    assert request_url("notice", notice.pk) in panel("notice_print_link", world.supervisor_a1, notice)


def test_panel_in_a_request_carries_the_csrf_token_and_comes_back_to_the_page(rf, world, meeting):
    request = rf.get(meeting.get_absolute_url())
    request.user = world.secretary_a1
    html = Template("{% load dossier_tags %}{% meeting_minutes_link meeting %}").render(
        RequestContext(request, {"meeting": meeting})
    )
    assert 'name="csrfmiddlewaretoken"' in html
    assert f'name="next" value="{meeting.get_absolute_url()}"' in html
