"""Abuse of the public pages and of uploads: rate limits, client addresses behind the proxy, request size,
NUL bytes, CSP, how evidence is served, active PDFs, and read-only posts that render nothing."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from administration.models import EventKind, SecurityEvent
from documents.models import Evidence, RenderedDocument
from documents.services import evidence_check
from flows.models import Notice, Objection, Step
from protection.addresses import client_address, client_network
from registers.models import EarlyWarning, WarningRule
from tests.views.conftest import PNG_BYTES, create_url, purchase_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def notice(world, matter_at) -> Notice:
    return Notice.objects.get(matter=matter_at(Step.PUBLISH_RESOLUTION))


def object_to(client, notice, address="203.0.113.20", **headers):
    data = {"name": "张三", "phone": "13800000000", "text": "报价偏高"}
    return client.post(reverse("board:notice", args=[notice.pk]), data, REMOTE_ADDR=address, **headers)


# --- client addresses ----------------------------------------------------------------------------


def request_from(address, forwarded=None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=address, **headers)


def test_the_forwarded_header_counts_only_from_a_trusted_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/30"]
    assert client_address(request_from("10.0.0.1", "198.51.100.7")) == "198.51.100.7"
    assert client_address(request_from("10.0.0.1", "6.6.6.6, 198.51.100.7")) == "198.51.100.7"
    assert client_address(request_from("10.0.0.1", "198.51.100.7, 10.0.0.2")) == "198.51.100.7"
    assert client_address(request_from("203.0.113.9", "198.51.100.7")) == "203.0.113.9"  # not our proxy
    assert client_address(request_from("10.0.0.1", "garbage")) == "10.0.0.1"
    assert client_address(request_from("10.0.0.1")) == "10.0.0.1"


def test_ipv6_addresses_count_by_their_slash_64():
    assert client_network("2001:db8:1:2::1") == client_network("2001:db8:1:2:ffff:ffff:ffff:ffff")
    assert client_network("2001:db8:1:3::1") != client_network("2001:db8:1:2::1")
    assert client_network("::ffff:198.51.100.7") == "198.51.100.7/32"


# --- objections ----------------------------------------------------------------------------------


def test_one_client_sends_at_most_the_hourly_limit(client, notice, settings):
    settings.OBJECTION_RATE_PER_HOUR = 3
    assert [object_to(client, notice).status_code for _ in range(4)] == [302, 302, 302, 400]
    assert Objection.objects.count() == 3
    assert SecurityEvent.objects.filter(kind=EventKind.ABUSE).count() == 1
    assert object_to(client, notice, address="203.0.113.21").status_code == 302


def test_a_slash_64_is_one_client(client, notice, settings):
    settings.OBJECTION_RATE_PER_HOUR = 2
    codes = [object_to(client, notice, address=f"2001:db8:5:6::{n}").status_code for n in range(1, 5)]
    assert codes == [302, 302, 400, 400]


def test_behind_the_proxy_each_villager_counts_apart(client, notice, settings):
    settings.OBJECTION_RATE_PER_HOUR = 1
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    for villager in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        assert object_to(client, notice, address="127.0.0.1", HTTP_X_FORWARDED_FOR=villager).status_code == 302
    assert object_to(client, notice, address="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 400
    # A client that writes the header itself, not through the proxy, gets its own address counted.
    assert object_to(client, notice, address="198.51.100.9", HTTP_X_FORWARDED_FOR="198.51.100.4").status_code == 302
    assert object_to(client, notice, address="198.51.100.9", HTTP_X_FORWARDED_FOR="198.51.100.5").status_code == 400


def test_one_notice_takes_a_limited_number_from_everyone(client, notice, settings):
    settings.OBJECTION_NOTICE_RATE_PER_HOUR = 3
    codes = [object_to(client, notice, address=f"198.51.100.{n}").status_code for n in range(1, 6)]
    assert codes == [302, 302, 302, 400, 400]


def test_many_objections_in_an_hour_raise_one_early_warning(client, notice, settings):
    settings.OBJECTION_SURGE_COUNT = 3
    for n in range(1, 6):
        object_to(client, notice, address=f"198.51.100.{n}")
    warning = EarlyWarning.objects.get(rule=WarningRule.OBJECTION_SURGE)
    assert warning.organization == notice.organization and warning.matter == notice.matter


# --- request guards ------------------------------------------------------------------------------


def test_an_anonymous_large_post_is_refused_before_it_is_read(client):
    response = client.post(
        reverse("documents:verify"), data=b"x", content_type="application/pdf", CONTENT_LENGTH=100 * 1024 * 1024
    )
    assert response.status_code == 413
    response = client.post("/accounts/login/", data=b"x", content_type="text/plain", CONTENT_LENGTH=10 * 1024 * 1024)
    assert response.status_code == 413


def test_the_verification_page_takes_a_file_up_to_the_evidence_limit(client, settings):
    pdf = SimpleUploadedFile("a.pdf", b"%PDF-1.4 not really", content_type="application/pdf")
    assert client.post(reverse("documents:verify"), {"pdf": pdf}).status_code == 200


@pytest.mark.parametrize("url", ["/matters/?status=%00", "/registers/members/?q=a%00b", "/board/?x=%00"])
def test_a_nul_byte_is_refused_with_a_clear_message(client, world, url):
    client.force_login(world.leader_a)
    response = client.get(url)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_a_nul_byte_in_a_form_is_refused(client, notice):
    response = client.post(reverse("board:notice", args=[notice.pk]), {"name": "张\x00三", "phone": "1", "text": "x"})
    assert response.status_code == 400 and not Objection.objects.exists()


# --- headers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/board/", "/accounts/login/", "/documents/verify/"])
def test_every_page_has_a_content_security_policy(client, url):
    policy = client.get(url)["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]


def test_the_inline_script_carries_the_pages_nonce(client, world):
    from tests.drive import apply_purchase

    matter = apply_purchase(world)
    RenderedDocument.objects.create(kind="dossier", matter=matter, verification_code="abc")
    client.force_login(world.leader_a)
    response = client.get(matter.get_absolute_url())
    nonce = response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in response.content.decode()


def upload(name, content, content_type):
    return SimpleUploadedFile(name, content, content_type=content_type)


def pdf_bytes(open_action=None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    if open_action:
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(DictionaryObject(open_action))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content_type", "content", "inline"),
    [("image/png", PNG_BYTES, True), ("application/pdf", pdf_bytes(), False)],
)
def test_evidence_is_served_sandboxed_private_and_as_attachment_unless_a_picture(
    client, world, content_type, content, inline
):
    client.force_login(world.secretary_a1)
    client.post(create_url(), purchase_post(world.collective_a1, files=[upload("scan", content, content_type)]))
    evidence = Evidence.objects.get()
    response = client.get(reverse("documents:evidence_download", args=[evidence.pk]))
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Disposition"].startswith("inline" if inline else "attachment")
    assert SecurityEvent.objects.filter(kind=EventKind.DOWNLOAD, actor=world.secretary_a1).exists()


@pytest.mark.parametrize(
    "action",
    [
        {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert(1)")},
        {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc.exe")},
    ],
)
def test_a_pdf_with_javascript_or_a_launch_action_is_refused_as_evidence(action):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        evidence_check(upload=upload("报价.pdf", pdf_bytes(action), "application/pdf"))
    assert "报价.pdf" in error.value.messages[0]
    # An escaped name is the same name.
    hidden = pdf_bytes(action).replace(b"/JavaScript", b"/J#61vaScript").replace(b"/Launch", b"/L#61unch")
    with pytest.raises(ValidationError):
        evidence_check(upload=upload("b.pdf", hidden, "application/pdf"))
    evidence_check(upload=upload("plain.pdf", pdf_bytes(), "application/pdf"))


def test_the_inspector_cannot_ask_for_minutes_or_notice_pdfs(client, world, notice):
    client.force_login(world.inspector)
    for kind, pk in (("notice", notice.pk), ("minutes", notice.matter.meeting_decisions.first().meeting_id)):
        assert client.post(reverse("documents:document_request", args=[kind, pk])).status_code == 403
    assert not RenderedDocument.objects.exists()
    page = client.get(notice.matter.get_absolute_url()).content.decode()
    assert reverse("documents:document_request", args=["notice", notice.pk]) not in page
