"""The capture page adds pages to a step in the order sent; files go out only through the jurisdiction door,
and every download is logged."""

import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.urls import reverse
from PIL import Image

from documents.models import AccessAction, AccessLog, Evidence
from flows import services
from flows.models import Step
from tests.drive import apply_purchase, refresh
from tests.responses import body_of

from .test_evidence_checks import EXECUTABLE_BYTES, jpeg_bytes, pdf_bytes, png_bytes

pytestmark = pytest.mark.django_db

VILLAGE_A1 = ["secretary_a1", "cashier_a1", "supervisor_a1"]
SEE_BUT_NOT_ADD = ["officer_a", "leader_a", "inspector", "county_admin"]
OTHER_PLACES = ["secretary_a2", "supervisor_a2", "secretary_b1", "officer_b", "leader_b", "inspector_b"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def matter(world):
    """An A1 asset purchase waiting for the party branch proposal."""
    return apply_purchase(world)


def capture_url(matter, step: str = "") -> str:
    url = reverse("documents:capture", args=[matter.pk])
    return f"{url}?step={step}" if step else url


def pages(count: int) -> list[SimpleUploadedFile]:
    """Camera pages as the browser sends them: JPEGs named page-N.jpg, each a different picture."""
    return [
        SimpleUploadedFile(f"page-{n}.jpg", jpeg_bytes(color=(40 * n, 90, 160)), content_type="image/jpeg")
        for n in range(1, count + 1)
    ]


def stored(matter, step: str = Step.PROPOSE) -> list[Evidence]:
    return list(Evidence.objects.filter(matter=matter, step=step).order_by("position", "pk"))


# --- who may open the capture page ------------------------------------------------------------


@pytest.mark.parametrize("persona", VILLAGE_A1)
def test_village_people_open_the_capture_page_at_the_current_step(client, world, matter, persona):
    client.force_login(getattr(world, persona))
    response = client.get(capture_url(matter))
    assert response.status_code == 200
    page = response.content.decode()
    assert f'<option value="{Step.PROPOSE}" selected>' in page
    assert 'capture="environment"' in page
    assert 'id="camera-take"' in page
    assert "capture.js" in page


def test_the_step_can_be_chosen_among_those_reached(client, world, matter):
    client.force_login(world.secretary_a1)
    page = client.get(capture_url(matter, Step.APPLY)).content.decode()
    assert f'<option value="{Step.APPLY}" selected>' in page
    # A step the matter has not reached is not offered, and asking for it falls back to the current one.
    page = client.get(capture_url(matter, Step.IMPLEMENT)).content.decode()
    assert f'value="{Step.IMPLEMENT}"' not in page
    assert f'<option value="{Step.PROPOSE}" selected>' in page


@pytest.mark.parametrize("persona", SEE_BUT_NOT_ADD)
def test_people_who_only_see_the_matter_get_403(client, world, matter, persona):
    client.force_login(getattr(world, persona))
    assert client.get(capture_url(matter)).status_code == 403
    assert client.post(capture_url(matter), {"step": Step.PROPOSE, "files": pages(1)}).status_code == 403
    assert not Evidence.objects.exists()


@pytest.mark.parametrize("persona", OTHER_PLACES)
def test_people_of_another_place_get_404(client, world, matter, persona):
    client.force_login(getattr(world, persona))
    assert client.get(capture_url(matter)).status_code == 404
    assert client.post(capture_url(matter), {"step": Step.PROPOSE, "files": pages(1)}).status_code == 404
    assert not Evidence.objects.exists()


def test_anonymous_visitors_are_sent_to_login(client, matter):
    url = capture_url(matter)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


def test_a_closed_matter_takes_no_more_scans(client, world, matter):
    services.matter_withdraw(user=world.secretary_a1, matter_id=matter.pk, reason="不再需要")
    client.force_login(world.secretary_a1)
    assert client.get(capture_url(matter)).status_code == 403
    assert client.post(capture_url(matter), {"step": Step.PROPOSE, "files": pages(1)}).status_code == 403
    assert not Evidence.objects.exists()


# --- sending pages ---------------------------------------------------------------------------------


def test_three_pages_are_stored_in_the_order_sent(client, world, matter):
    sent = pages(3)
    ordered = [sent[2], sent[0], sent[1]]
    contents = [page.read() for page in ordered]
    for page in ordered:
        page.seek(0)
    client.force_login(world.cashier_a1)
    response = client.post(capture_url(matter), {"step": Step.PROPOSE, "files": ordered})
    assert response.status_code == 302
    assert response.url == matter.get_absolute_url()
    files = stored(matter)
    assert [e.original_name for e in files] == ["page-3.jpg", "page-1.jpg", "page-2.jpg"]
    assert [e.position for e in files] == [0, 1, 2]
    assert [e.sha256 for e in files] == [hashlib.sha256(content).hexdigest() for content in contents]
    assert {(e.content_type, e.page_count, e.uploaded_by) for e in files} == {("image/jpeg", 1, world.cashier_a1)}
    assert all(e.thumbnail for e in files)
    assert all(e.step_record is None for e in files)


def test_a_second_submission_goes_after_the_first(client, world, matter):
    client.force_login(world.secretary_a1)
    client.post(capture_url(matter), {"step": Step.PROPOSE, "files": pages(2)})
    client.post(capture_url(matter), {"step": Step.PROPOSE, "files": [SimpleUploadedFile("报价单.pdf", pdf_bytes())]})
    files = stored(matter)
    assert [e.original_name for e in files] == ["page-1.jpg", "page-2.jpg", "报价单.pdf"]
    assert [e.position for e in files] == [0, 1, 2]
    assert files[2].page_count == 2


def test_pages_can_prove_an_earlier_step(client, world, matter):
    client.force_login(world.secretary_a1)
    response = client.post(capture_url(matter), {"step": Step.APPLY, "files": pages(1)})
    assert response.status_code == 302
    assert [e.step for e in Evidence.objects.all()] == [Step.APPLY]


def test_the_script_gets_json(client, world, matter):
    client.force_login(world.secretary_a1)
    response = client.post(
        capture_url(matter), {"step": Step.PROPOSE, "files": pages(2)}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 200
    assert response.json() == {"redirect": matter.get_absolute_url(), "stored": [e.pk for e in stored(matter)]}


def test_one_bad_file_refuses_the_whole_submission(client, world, matter, media_root):
    client.force_login(world.secretary_a1)
    bad = SimpleUploadedFile("photo.jpg", EXECUTABLE_BYTES, content_type="image/jpeg")
    response = client.post(capture_url(matter), {"step": Step.PROPOSE, "files": [*pages(2), bad]})
    assert response.status_code == 400
    assert "photo.jpg is not a PDF, JPEG, PNG or TIFF file." in response.content.decode()
    assert not Evidence.objects.exists()
    assert not media_root.exists() or not any(path.is_file() for path in media_root.rglob("*"))


def test_one_bad_file_refuses_the_whole_submission_for_the_script(client, world, matter):
    client.force_login(world.secretary_a1)
    bad = SimpleUploadedFile("invoice.pdf", b"<html><body>hi</body></html>", content_type="application/pdf")
    response = client.post(
        capture_url(matter), {"step": Step.PROPOSE, "files": [bad, *pages(1)]}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"errors": ["invoice.pdf is not a PDF, JPEG, PNG or TIFF file."]}
    assert not Evidence.objects.exists()


def test_nothing_to_send_is_an_error(client, world, matter):
    client.force_login(world.secretary_a1)
    response = client.post(capture_url(matter), {"step": Step.PROPOSE})
    assert response.status_code == 400
    assert "Take pages with the camera or choose files first." in response.content.decode()


def test_a_step_not_reached_is_refused(client, world, matter):
    client.force_login(world.secretary_a1)
    response = client.post(capture_url(matter), {"step": Step.IMPLEMENT, "files": pages(1)})
    assert response.status_code == 400
    assert "Scans can be added only to a step this matter has reached." in response.content.decode()
    response = client.post(capture_url(matter), {"step": "../../etc", "files": pages(1)})
    assert response.status_code == 400
    assert not Evidence.objects.exists()


def multipart(step: str, files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    """A request body written by hand, so that the file names reach the server exactly as an attacker sends them."""
    boundary = "----capture-test-boundary"
    body = f'--{boundary}\r\nContent-Disposition: form-data; name="step"\r\n\r\n{step}\r\n'.encode()
    for filename, content in files:
        body += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{filename}"\r\n'
                f"Content-Type: image/png\r\n\r\n"
            ).encode()
            + content
            + b"\r\n"
        )
    body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_path_tricks_in_names_are_neutralised(client, world, matter, media_root):
    body, content_type = multipart(
        Step.PROPOSE,
        [("../../etc/passwd.png", png_bytes()), ("..\\..\\boot.ini.png", png_bytes()), ("/tmp/x/../.png", png_bytes())],
    )
    client.force_login(world.secretary_a1)
    response = client.post(capture_url(matter), body, content_type=content_type)
    assert response.status_code == 302
    files = stored(matter)
    assert len(files) == 3
    for evidence in files:
        assert evidence.file.name.startswith(f"evidence/{matter.pk}/")
        assert "/" not in evidence.original_name and "\\" not in evidence.original_name
        assert (media_root / evidence.file.name).is_file()
    assert files[0].original_name == "passwd.png"
    assert files[1].original_name == "boot.ini.png"
    assert not (media_root.parent / "etc").exists()


# --- downloads and previews ------------------------------------------------------------------------


@pytest.fixture
def evidence(world, matter) -> Evidence:
    from documents.services import evidence_store

    upload = SimpleUploadedFile("合同.jpg", jpeg_bytes(), content_type="image/jpeg")
    return evidence_store(matter=matter, step=Step.PROPOSE, upload=upload, user=world.secretary_a1)


def test_the_inspector_downloads_and_the_download_is_logged(client, world, evidence):
    client.force_login(world.inspector)
    response = client.get(reverse("documents:evidence_download", args=[evidence.pk]), REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert body_of(response) == jpeg_bytes()
    entry = AccessLog.objects.get()
    assert (entry.user, entry.action, entry.evidence, entry.matter) == (
        world.inspector,
        AccessAction.DOWNLOAD_FILE,
        evidence,
        evidence.matter,
    )
    assert entry.address == "10.1.2.3"
    assert entry.detail == "合同.jpg"


def test_every_download_is_a_row(client, world, evidence):
    client.force_login(world.secretary_a1)
    for _ in range(2):
        body_of(client.get(reverse("documents:evidence_download", args=[evidence.pk])))
    assert AccessLog.objects.filter(user=world.secretary_a1, action=AccessAction.DOWNLOAD_FILE).count() == 2


@pytest.mark.parametrize("persona", OTHER_PLACES)
def test_a_download_by_another_place_is_404_and_not_logged(client, world, evidence, persona):
    client.force_login(getattr(world, persona))
    assert client.get(reverse("documents:evidence_download", args=[evidence.pk])).status_code == 404
    assert client.get(reverse("documents:evidence_thumbnail", args=[evidence.pk])).status_code == 404
    assert not AccessLog.objects.exists()


def test_a_download_by_an_anonymous_visitor_goes_to_login(client, evidence):
    for name in ("documents:evidence_download", "documents:evidence_thumbnail"):
        url = reverse(name, args=[evidence.pk])
        response = client.get(url)
        assert response.status_code == 302
        assert response.url == f"{reverse('login')}?next={url}"
    assert not AccessLog.objects.exists()


def test_the_thumbnail_is_a_small_jpeg_behind_the_same_door(client, world, evidence):
    client.force_login(world.inspector)
    response = client.get(reverse("documents:evidence_thumbnail", args=[evidence.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(body_of(response)))
    assert (image.format, image.width) == ("JPEG", 200)
    # A preview is not an opening of the file.
    assert not AccessLog.objects.exists()


def test_a_file_without_thumbnail_has_no_preview(client, world, evidence):
    Evidence.objects.filter(pk=evidence.pk).update(thumbnail="")
    client.force_login(world.secretary_a1)
    assert client.get(reverse("documents:evidence_thumbnail", args=[evidence.pk])).status_code == 404


# --- the list on a matter's page -------------------------------------------------------------------


def render_list(user, matter) -> str:
    return Template("{% load evidence_tags %}{% evidence_list matter %}").render(
        Context({"user": user, "matter": matter})
    )


def test_the_evidence_list_shows_previews_pages_size_and_fingerprint(world, matter, evidence):
    html = render_list(world.inspector, refresh(matter))
    assert reverse("documents:evidence_thumbnail", args=[evidence.pk]) in html
    assert reverse("documents:evidence_download", args=[evidence.pk]) in html
    assert evidence.sha256[:16] in html
    assert "合同.jpg" in html
    assert 'id="add-scans"' not in html


def test_the_evidence_list_offers_add_scans_to_the_village(world, matter):
    html = render_list(world.supervisor_a1, matter)
    assert f'href="{capture_url(matter)}"' in html


def test_the_evidence_list_shows_nothing_outside_the_jurisdiction(world, matter, evidence):
    html = render_list(world.secretary_b1, matter)
    assert evidence.sha256[:16] not in html
    assert html.strip() == ""


def test_large_uploads_spooled_to_disk_are_checked_the_same_way(client, world, matter, settings):
    # Above this size Django keeps an upload in a temporary file instead of memory.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    client.force_login(world.secretary_a1)
    files = [SimpleUploadedFile("评估报告.pdf", pdf_bytes(pages=3)), *pages(1)]
    response = client.post(capture_url(matter), {"step": Step.PROPOSE, "files": files})
    assert response.status_code == 302
    assert [(e.content_type, e.page_count) for e in stored(matter)] == [("application/pdf", 3), ("image/jpeg", 1)]
    bad = SimpleUploadedFile("x.jpg", EXECUTABLE_BYTES * 20, content_type="image/jpeg")
    assert client.post(capture_url(matter), {"step": Step.PROPOSE, "files": [bad]}).status_code == 400


def test_a_failure_halfway_leaves_no_rows_and_no_files(client, world, matter, media_root, monkeypatch):
    saves = []
    original_save = Evidence.save

    def save_twice_then_fail(self, *args, **kwargs):
        saves.append(self)
        if len(saves) == 2:
            raise OSError("disk full")
        return original_save(self, *args, **kwargs)

    monkeypatch.setattr(Evidence, "save", save_twice_then_fail)
    client.raise_request_exception = False
    client.force_login(world.secretary_a1)
    response = client.post(capture_url(matter), {"step": Step.PROPOSE, "files": pages(3)})
    assert response.status_code == 500
    assert not Evidence.objects.exists()
    assert not any(path.is_file() for path in media_root.rglob("*"))
