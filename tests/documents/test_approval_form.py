"""The approval form (审批表): one A4 page per matter, rendered by the worker like the other PDFs."""

from decimal import Decimal
from io import BytesIO

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from pypdf import PdfReader

from documents import rendering
from documents.amount_words import rmb_uppercase
from documents.models import LedgerEntry, RenderedDocument, RenderStatus
from flows import delegation as delegations
from flows.models import Step
from flows.services import task_take
from organizations.models import Post, Role
from tests.drive import act, run_to_end
from tests.workdesk import task_of, waiting_at

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "amount, words",
    [
        ("0", "零元整"),
        ("8000", "捌仟元整"),
        ("10010", "壹万零壹拾元整"),
        ("100000", "壹拾万元整"),
        ("105000", "壹拾万伍仟元整"),
        ("1001.05", "壹仟零壹元零伍分"),
        ("12345.60", "壹万贰仟叁佰肆拾伍元陆角"),
        ("20300", "贰万零叁佰元整"),
        ("10000001", "壹仟万零壹元整"),
        ("0.5", "伍角"),
    ],
)
def test_amounts_in_capital_numerals(amount, words):
    assert rmb_uppercase(Decimal(amount)) == words


def test_the_form_lists_each_required_step_with_opinion_signer_and_seal(world):
    matter = run_to_end(world, waiting_at(world, Step.APPROVE_BY_TOWNSHIP))
    document = rendering.approval_form_request(matter=matter)
    with translation.override("zh-hans"):
        context = rendering.approval_form_context(document)
        approval = next(row for row in context["rows"] if row["step"] == Step.APPROVE_BY_TOWNSHIP)
        assert approval["record"].actor == world.leader_a and "乡镇人民政府" in str(approval["seal"])
    steps = [row["step"] for row in context["rows"]]
    assert steps == [s for s in matter.required_steps if s not in (Step.APPLY, Step.ARCHIVE)]
    assert context["amount_words"] == "伍万元整"
    assert context["verification_url"].startswith("http://127.0.0.1:8000/documents/verify/")


def test_a_step_not_reached_yet_is_left_to_fill_in(world):
    matter = waiting_at(world, Step.CHECK_BY_TOWNSHIP)
    context = rendering.approval_form_context(rendering.approval_form_request(matter=matter))
    check = next(row for row in context["rows"] if row["step"] == Step.CHECK_BY_TOWNSHIP)
    assert check["record"] is None


def test_the_form_is_one_a4_page_signed_for_whom_and_in_the_log(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SITE_URL = "https://sanzi.example.gov.cn"
    matter = waiting_at(world, Step.APPROVE_BY_TOWNSHIP)
    act(world.leader_a, matter)
    document = rendering.render_document(rendering.approval_form_request(matter=matter))
    assert (document.status, document.page_count) == (RenderStatus.DONE, 1)
    text = pdf_text(document)
    assert "审批表" in text and matter.title in text and "伍万元整" in text and "郑镇长" in text
    assert "https://sanzi.example.gov.cn/documents/verify/" in text.replace("\n", "")
    # Ledgered, so that its verification link answers.
    assert LedgerEntry.objects.filter(object_type="RenderedDocument", object_id=str(document.pk)).exists()


def pdf_text(document: RenderedDocument) -> str:
    with document.pdf.open("rb") as handle:
        return "".join(page.extract_text() for page in PdfReader(BytesIO(handle.read())).pages)


def test_anyone_who_works_on_the_matter_may_print_it_again(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    matter = waiting_at(world, Step.CHECK_BY_TOWNSHIP)
    url = reverse("documents:document_request", args=["approval_form", matter.pk])
    # The inspector reads and downloads, but a render request is a write: read-only roles may not make one.
    client.force_login(world.inspector)
    assert client.post(url).status_code == 403
    client.force_login(world.officer_a)
    assert client.post(url).status_code == 302
    # Rendered meanwhile; the matter moves on, and a new print shows it as it now stands.
    RenderedDocument.objects.update(status=RenderStatus.DONE)
    assert client.post(url).status_code == 302
    documents = RenderedDocument.objects.filter(kind=RenderedDocument.Kind.APPROVAL_FORM, matter=matter)
    assert documents.count() == 2 and documents.filter(superseded_at__isnull=True).count() == 1
    client.force_login(world.leader_b)
    assert client.post(url).status_code == 404


def test_the_matter_page_offers_the_approval_form(client, world):
    matter = waiting_at(world, Step.CHECK_BY_TOWNSHIP)
    client.force_login(world.officer_a)
    content = client.get(matter.get_absolute_url()).content.decode()
    assert reverse("documents:document_request", args=["approval_form", matter.pk]) in content


def test_a_signer_acting_for_another_is_written_so(world):
    matter = waiting_at(world, Step.APPROVE_BY_TOWNSHIP)
    task_take(user=world.leader_a, task_id=task_of(matter).pk)
    delegations.delegation_create(
        user=world.leader_a,
        post=Post.objects.get(user=world.leader_a, role=Role.TOWNSHIP_LEADER),
        delegate=world.second_leader_a,
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate(),
        reason="培训",
        hand_over_now=True,
    )
    act(world.second_leader_a, matter)
    document = rendering.approval_form_request(matter=matter)
    with translation.override("zh-hans"):
        html = render_to_string("documents/pdf/approval_form.html", rendering.approval_form_context(document))
    assert "冯副镇长（代郑镇长）" in html
    # The hand-over itself is in the history, not a row of the form.
    assert html.count('data-step="approve_by_township"') == 1
