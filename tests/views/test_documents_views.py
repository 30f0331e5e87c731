"""Evidence files: checked by content on upload, fingerprinted, served only inside the jurisdiction."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from documents.models import Evidence
from flows import services
from flows.models import Matter, Step, StepRecord
from tests.drive import apply_purchase, refresh

from .conftest import EXECUTABLE_BYTES, PNG_BYTES, create_url, purchase_post

pytestmark = pytest.mark.django_db


def upload(name: str, content: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def evidence(client, world) -> Evidence:
    """A PNG scan the A1 secretary attached to an application through the form."""
    client.force_login(world.secretary_a1)
    data = purchase_post(world.collective_a1, files=[upload("报价单.png", PNG_BYTES)])
    assert client.post(create_url(), data).status_code == 302
    client.logout()
    return Evidence.objects.get()


def download(client, evidence: Evidence):
    return client.get(reverse("documents:evidence_download", args=[evidence.pk]))


def body_of(response) -> bytes:
    content = b"".join(response.streaming_content)
    response.close()
    return content


# --- upload ---------------------------------------------------------------------------------


def test_evidence_uploaded_with_the_application_is_fingerprinted_and_linked(world, evidence):
    matter = Matter.objects.get()
    assert evidence.matter == matter
    assert evidence.step == Step.APPLY
    assert evidence.step_record == StepRecord.objects.get(matter=matter, step=Step.APPLY)
    assert evidence.sha256 == hashlib.sha256(PNG_BYTES).hexdigest()
    assert (evidence.content_type, evidence.extension, evidence.size) == ("image/png", ".png", len(PNG_BYTES))
    assert evidence.original_name == "报价单.png"
    assert evidence.uploaded_by == world.secretary_a1


def test_stored_file_gets_a_server_name_not_the_uploaders(world, evidence, media_root):
    assert "报价单" not in evidence.file.name
    assert evidence.file.name.endswith(".png")
    assert (media_root / evidence.file.name).read_bytes() == PNG_BYTES


def test_executable_renamed_jpg_is_refused_with_the_application(client, world):
    client.force_login(world.secretary_a1)
    data = purchase_post(world.collective_a1, files=[upload("x.jpg", EXECUTABLE_BYTES, "image/jpeg")])
    response = client.post(create_url(), data)
    assert response.status_code == 400
    assert "x.jpg is not a PDF, JPEG, PNG or TIFF file." in response.content.decode()
    assert not Matter.objects.exists()
    assert not Evidence.objects.exists()


def test_evidence_uploaded_on_a_step_is_linked_to_its_record(client, world):
    matter = apply_purchase(world)
    task = services.active_task(matter, Step.PROPOSE)
    client.force_login(world.secretary_a1)
    response = client.post(
        reverse("flows:perform_step", args=[task.pk]),
        {"decision": "agree", "opinion": "同意", "files": [upload("提议.png", PNG_BYTES)]},
    )
    assert response.status_code == 302
    evidence = Evidence.objects.get()
    assert evidence.step == Step.PROPOSE
    assert evidence.step_record == StepRecord.objects.get(matter=matter, step=Step.PROPOSE)


def test_executable_renamed_jpg_is_refused_on_a_step(client, world):
    matter = apply_purchase(world)
    task = services.active_task(matter, Step.PROPOSE)
    client.force_login(world.secretary_a1)
    response = client.post(
        reverse("flows:perform_step", args=[task.pk]),
        {"decision": "agree", "opinion": "同意", "files": [upload("x.jpg", EXECUTABLE_BYTES, "image/jpeg")]},
    )
    assert response.status_code == 400
    assert "x.jpg is not a PDF, JPEG, PNG or TIFF file." in response.content.decode()
    assert not Evidence.objects.exists()
    assert refresh(matter).next_step == Step.PROPOSE
    assert not StepRecord.objects.filter(matter=matter, step=Step.PROPOSE).exists()


def test_evidence_over_the_size_limit_is_refused_on_a_step(client, world, settings):
    settings.EVIDENCE_MAX_BYTES = 32
    matter = apply_purchase(world)
    task = services.active_task(matter, Step.PROPOSE)
    client.force_login(world.secretary_a1)
    response = client.post(
        reverse("flows:perform_step", args=[task.pk]),
        {"decision": "agree", "opinion": "同意", "files": [upload("big.png", PNG_BYTES)]},
    )
    assert response.status_code == 400
    assert "big.png is too large" in response.content.decode()
    assert not Evidence.objects.exists()
    assert refresh(matter).next_step == Step.PROPOSE


# --- download -------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["secretary_a1", "cashier_a1", "officer_a", "leader_a", "inspector"])
def test_evidence_is_served_to_people_whose_jurisdiction_covers_the_matter(client, world, evidence, persona):
    client.force_login(getattr(world, persona))
    response = download(client, evidence)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert body_of(response) == PNG_BYTES


@pytest.mark.parametrize("persona", ["secretary_a2", "supervisor_a2", "secretary_b1", "officer_b", "inspector_b"])
def test_evidence_is_404_for_a_persona_of_another_place(client, world, evidence, persona):
    client.force_login(getattr(world, persona))
    assert download(client, evidence).status_code == 404


def test_evidence_download_sends_anonymous_visitors_to_login(client, world, evidence):
    url = reverse("documents:evidence_download", args=[evidence.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


def test_matter_page_lists_evidence_with_the_step_it_proves(client, world, evidence):
    client.force_login(world.inspector)
    content = client.get(evidence.matter.get_absolute_url()).content.decode()
    listed = content.split(evidence.get_absolute_url())[-1].split("</li>")[0]
    assert "Pre-application" in listed
