"""The language of rendered documents: the site's (zh-hans) unless the requester chose another, stored with
the request, whatever the language of the request or the worker that renders it."""

import pytest
from django.urls import reverse
from django.utils import translation

from documents import rendering
from documents.models import RenderedDocument, RenderStatus
from flows.models import Matter, Meeting, Notice
from tests.drive import apply_purchase, run_to_end

from .test_rendering import ledger_calls, media_root  # noqa: F401 — autouse fixtures shared with the PDF tests
from .test_rendering_views import finish

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client):
    """A browser that asks for English pages."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def archived(world) -> Matter:
    with translation.override("en"):
        return run_to_end(world, apply_purchase(world))


@pytest.fixture
def notice(archived) -> Notice:
    return Notice.objects.filter(matter=archived).order_by("pk").first()


@pytest.fixture
def meeting(archived) -> Meeting:
    return Meeting.objects.filter(decisions__matter=archived).order_by("pk").first()


@pytest.fixture
def printed(monkeypatch) -> list[str]:
    """The HTML of every PDF laid out, in order; the PDFs are still made."""
    pages = []
    real = rendering._write_pdf

    def spy(html, *args, **kwargs):
        pages.append(html)
        return real(html, *args, **kwargs)

    monkeypatch.setattr(rendering, "_write_pdf", spy)
    return pages


def ask(client, kind: str, pk: int, **fields):
    return client.post(reverse("documents:document_request", args=[kind, pk]), fields)


def test_a_notice_asked_for_from_an_english_page_is_printed_in_chinese(
    client, world, notice, printed, django_capture_on_commit_callbacks
):
    client.force_login(world.secretary_a1)
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, "notice", notice.pk)
    document = RenderedDocument.objects.get(kind="notice")
    assert (document.language, document.status) == ("zh-hans", RenderStatus.DONE)
    assert "公告" in printed[-1] and "Public notice" not in printed[-1]


def test_the_requester_may_choose_english_and_the_choice_is_stored(
    client, world, notice, printed, django_capture_on_commit_callbacks
):
    client.force_login(world.secretary_a1)
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, "notice", notice.pk, language="en")
    document = RenderedDocument.objects.get(kind="notice")
    assert (document.language, document.status) == ("en", RenderStatus.DONE)
    assert "Public notice" in printed[-1]


def test_an_unknown_language_is_refused_with_a_message_and_nothing_is_queued(client, world, notice):
    client.force_login(world.secretary_a1)
    response = ask(client, "notice", notice.pk, language="fr")
    assert response.status_code == 302
    assert not RenderedDocument.objects.filter(kind="notice").exists()
    page = client.get(response["Location"]).content.decode()
    assert "Choose one of the languages documents are printed in." in page


def test_the_worker_renders_in_the_stored_language_not_in_its_own(world, archived, printed):
    """The dossier asked for by archiving (from an English request above) is printed in Chinese; one asked
    for in English stays English in a worker whose language is Chinese."""
    dossier = rendering.current_document(kind=RenderedDocument.Kind.DOSSIER, matter=archived)
    assert dossier.language == "zh-hans"
    with translation.override("en"):
        rendering.render_document(dossier)
    assert "<title>案卷 " in printed[-1]
    english = rendering.dossier_request(matter=archived, requested_by=world.leader_a, language="en")
    with translation.override("zh-hans"):
        rendering.render_document(english)
    assert "<title>Archive dossier " in printed[-1]


def test_a_pending_document_in_another_language_is_not_reused(world, meeting):
    english = rendering.minutes_request(meeting=meeting, language="en")
    chinese = rendering.minutes_request(meeting=meeting)
    assert chinese != english and chinese.language == "zh-hans"
    english.refresh_from_db()
    assert english.superseded_at is not None
    assert rendering.minutes_request(meeting=meeting) == chinese  # the same language: still the pending one


def test_minutes_printed_in_english_are_not_handed_to_a_chinese_request(client, world, meeting):
    english = finish(rendering.minutes_request(meeting=meeting, language="en"))
    client.force_login(world.supervisor_a1)
    ask(client, "minutes", meeting.pk, language="en")
    assert rendering.current_document(kind="minutes", meeting=meeting) == english  # reused
    ask(client, "minutes", meeting.pk)
    current = rendering.current_document(kind="minutes", meeting=meeting)
    assert current != english and current.language == "zh-hans"


def test_the_request_form_offers_the_languages_with_the_sites_chosen(client, world, archived):
    client.force_login(world.leader_a)
    page = client.get(archived.get_absolute_url()).content.decode()
    assert 'name="language"' in page
    assert '<option value="zh-hans" selected>简体中文</option>' in page
    assert '<option value="en">English</option>' in page
