"""Evidence, thumbnails and rendered PDFs on a real S3-compatible object store (SeaweedFS), chosen by STORAGE_URL.

Nothing goes to the local disk; downloads still pass the jurisdiction check and the access log; the dossier
reads its scans from the store and stores its volume there; the ledger fingerprints the stored objects and
notices one replaced or deleted behind the product's back.
"""

import hashlib

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import translation

from documents import rendering
from documents.ledger_verify import ledger_verify_matter
from documents.models import AccessAction, AccessLog, Evidence
from project.settings.env import storage_from_url
from tests.drive import apply_purchase, run_to_end
from tests.responses import body_of
from tests.seaweed import seaweed_server

from .test_rendering import attach, pdf_scan, png_scan

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Messages are compared in their English source, whatever the catalogue says."""
    with translation.override("en"):
        yield


@pytest.fixture(scope="module")
def object_store():
    with seaweed_server() as store:
        yield store


@pytest.fixture(scope="module")
def module_bucket(object_store):
    return object_store.new_bucket()


@pytest.fixture
def bucket(object_store, module_bucket, settings, tmp_path):
    """The default storage: the module's bucket under a prefix of this test; MEDIA_ROOT must stay empty."""
    settings.MEDIA_ROOT = tmp_path / "media"
    url = object_store.storage_url(f"{module_bucket}/{tmp_path.name}")
    settings.STORAGES = {**settings.STORAGES, "default": storage_from_url(url)}
    return Bucket(module_bucket, tmp_path.name)


class Bucket:
    def __init__(self, name: str, prefix: str):
        self.name, self.prefix = name, prefix

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}"


def stored_bytes(object_store, bucket, name: str) -> bytes:
    return object_store.client().get_object(Bucket=bucket.name, Key=bucket.key(name))["Body"].read()


def stored_names(object_store, bucket) -> list[str]:
    return [
        key.removeprefix(f"{bucket.prefix}/") for key in object_store.keys(bucket.name) if key.startswith(bucket.prefix)
    ]


def test_an_upload_goes_to_the_bucket_and_not_to_the_disk(world, object_store, bucket, settings):
    content = png_scan()
    evidence = attach(world, apply_purchase(world), "报价单.png", content)
    assert evidence.file.name in stored_names(object_store, bucket)
    assert evidence.thumbnail.name in stored_names(object_store, bucket)
    assert stored_bytes(object_store, bucket, evidence.file.name) == content
    assert not (settings.MEDIA_ROOT).exists()


def test_downloads_from_the_bucket_pass_the_jurisdiction_check_and_are_logged(client, world, object_store, bucket):
    content = pdf_scan()
    evidence = attach(world, apply_purchase(world), "合同.pdf", content)
    client.force_login(world.officer_a)
    response = client.get(reverse("documents:evidence_download", args=[evidence.pk]))
    assert response.status_code == 200
    assert body_of(response) == content
    assert AccessLog.objects.filter(evidence=evidence, action=AccessAction.DOWNLOAD_FILE).count() == 1
    thumbnail = client.get(reverse("documents:evidence_thumbnail", args=[evidence.pk]))
    assert thumbnail.status_code == 200 and body_of(thumbnail).startswith(b"\xff\xd8")
    client.force_login(world.officer_b)
    assert client.get(reverse("documents:evidence_download", args=[evidence.pk])).status_code == 404
    assert AccessLog.objects.filter(evidence=evidence).count() == 1


def test_the_dossier_reads_its_scans_from_the_bucket_and_stores_its_volume_there(client, world, object_store, bucket):
    matter = apply_purchase(world)
    attach(world, matter, "报价单.png", png_scan())
    attach(world, matter, "合同.pdf", pdf_scan())
    matter = run_to_end(world, matter)
    document = rendering.render_document(rendering.dossier_request(matter=matter))
    assert document.status == "done", document.error
    assert document.pdf.name in stored_names(object_store, bucket)
    volume = stored_bytes(object_store, bucket, document.pdf.name)
    assert hashlib.sha256(volume).hexdigest() == document.sha256
    client.force_login(world.inspector)
    response = client.get(reverse("documents:document_download", args=[document.pk]))
    assert response.status_code == 200 and body_of(response) == volume


def test_the_ledger_checks_the_stored_objects_and_notices_one_replaced_or_gone(world, object_store, bucket):
    matter = apply_purchase(world)
    evidence = attach(world, matter, "报价单.png", png_scan())
    matter = run_to_end(world, matter)
    assert ledger_verify_matter(matter=matter).ok
    s3 = object_store.client()
    s3.put_object(Bucket=bucket.name, Key=bucket.key(evidence.file.name), Body=b"replaced behind the product's back")
    result = ledger_verify_matter(matter=matter)
    assert not result.ok and "replaced" in result.reason
    s3.delete_object(Bucket=bucket.name, Key=bucket.key(evidence.file.name))
    result = ledger_verify_matter(matter=matter)
    assert not result.ok and "missing" in result.reason


def test_a_second_file_of_the_same_name_never_overwrites_the_first(object_store, bucket):
    from django.core.files.base import ContentFile

    first = default_storage.save("rendered/dossier-X.pdf", ContentFile(b"first"))
    second = default_storage.save("rendered/dossier-X.pdf", ContentFile(b"second"))
    assert first != second
    assert stored_bytes(object_store, bucket, first) == b"first"


def test_evidence_rows_name_objects_not_paths(world, bucket):
    evidence = attach(world, apply_purchase(world), "报价单.png", png_scan())
    with pytest.raises(NotImplementedError):
        evidence.file.path  # noqa: B018 — an object store has no local path; the product never asks for one
    assert Evidence.objects.get(pk=evidence.pk).file.open("rb").read(8) == b"\x89PNG\r\n\x1a\n"


# --- STORAGE_URL ------------------------------------------------------------------------------------


def test_storage_url_gives_the_s3_backend_its_options():
    storage = storage_from_url(
        "s3://AK%2Fx:S%40cret@oss.example.cn:9000/archive/county-12?region=cn-north-1&addressing=virtual"
    )
    options = storage["OPTIONS"]
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert (options["access_key"], options["secret_key"]) == ("AK/x", "S@cret")
    assert (options["bucket_name"], options["location"]) == ("archive", "county-12")
    assert options["endpoint_url"] == "https://oss.example.cn:9000"
    assert (options["region_name"], options["addressing_style"]) == ("cn-north-1", "virtual")
    assert options["file_overwrite"] is False
    assert storage_from_url("s3+http://k:s@10.0.0.5/b")["OPTIONS"]["endpoint_url"] == "http://10.0.0.5"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://k:s@host/bucket", "must start with s3://"),
        ("s3://host/bucket", "ACCESS_KEY:SECRET_KEY"),
        ("s3://k:s@host/", "no bucket"),
        ("s3://k:s@host:99999/b", "bad port"),
        ("s3://k:s@host/b?addressing=sideways", "addressing"),
        ("s3://k:s@host/b?acl=public-read", "unknown parameters: acl"),
    ],
)
def test_a_bad_storage_url_fails_loudly(url, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        storage_from_url(url)
