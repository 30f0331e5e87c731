"""The import pages in Chinese, as the county administrator reads them: no stray English (the page walk's checker)."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from imports import services
from tests.project.test_page_walk import stray_latin, visible_text

from .test_samples import SAMPLES


def test_the_import_pages_read_in_chinese(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    world.county.code = "DEMO"
    world.county.save()
    jobs = [
        services.import_check(
            job=services.import_upload(
                user=world.county_admin,
                scope=world.county,
                kind="county",
                uploaded=SimpleUploadedFile(name, (SAMPLES / name).read_bytes()),
            )
        )
        for name in ("import-new-township-broken.xlsx", "import-new-township.xlsx")
    ]
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(world.county_admin)
    codes = {world.county_admin.username, "DEMO", "SHA"}
    pages = [reverse("imports:home"), reverse("imports:baselines")]
    pages += [reverse("imports:job_detail", args=[job.pk]) for job in jobs]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        words = stray_latin(visible_text(response.content.decode()), codes)
        assert not words, f"{url}: {sorted(words)}"
