"""Issue 4 in a real browser: the inspector finds an archived matter, opens it and its dossier, flags a problem,
and the township leader answers."""

import datetime
import inspect
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from playwright.sync_api import expect

import flows.views
from demo.seed import announce_meeting, cast_for
from documents.models import AccessAction, AccessLog, InspectorFlag, RenderedDocument, RenderStatus
from flows.models import Decision, Matter, MatterStatus, Notice, Step
from flows.services import (
    MEETING_STEPS,
    VoteInput,
    active_task,
    matter_apply,
    meeting_record,
    meeting_roster,
    publication_try_close,
    step_perform,
)
from organizations.models import Organization, TransactionType

pytestmark = pytest.mark.django_db(transaction=True)

SUPPLIER = "青松农机有限公司"
TITLE = "购置青松牌微耕机"
MATTER_PAGE_TEMPLATE = Path(flows.views.__file__).parent / "templates" / "flows" / "matter_detail.html"
BODY_OF_STEP = {step: body for body, step in MEETING_STEPS.items()}


# --- a driver for the demo village DH01, through the services --------------------------------


def perform(matter: Matter, user, decision: str, opinion: str) -> None:
    task = active_task(matter, matter.next_step)
    step_perform(user=user, task_id=task.pk, decision=decision, opinion=opinion)


def hold_meeting(matter: Matter, cast) -> None:
    body = BODY_OF_STEP.get(matter.next_step, matter.member_body)
    announce_meeting(matter, cast, body)
    roster = meeting_roster(organization=matter.organization, body=body, on_date=timezone.localdate())
    meeting_record(
        user=cast.supervisor,
        organization=matter.organization,
        body=body,
        held_on=timezone.localdate(),
        place="村委会会议室",
        chair="张德胜",
        minutes=f"议题：{matter.title}。全体到会，一致同意。",
        attendee_ids=[member.pk for member in roster],
        votes=[VoteInput(matter=matter, votes_for=len(roster), votes_against=0, votes_abstain=0)],
    )


def end_publication(matter: Matter) -> None:
    notice = Notice.objects.filter(matter=matter, closed_at__isnull=True).latest("pk")
    Notice.objects.filter(pk=notice.pk).update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
    publication_try_close(notice_id=notice.pk)


def archive_demo_purchase() -> Matter:
    """An asset purchase of the demo village DH01 from application to archive, each step by its demo user
    (sec_dh01, sup_dh01, officer_dh, leader_dh, cashier_dh01)."""
    collective = Organization.objects.get(code="DH01-JJ")
    cast = cast_for(collective)
    matter = matter_apply(
        user=cast.secretary,
        organization=collective,
        transaction_type=TransactionType.ASSET_PURCHASE,
        data={
            "title": TITLE,
            "reason": "春耕生产需要",
            "funding_source": "集体经营收入",
            "chosen_supplier": SUPPLIER,
            "total": Decimal("8000.00"),
            "items": [{"name": "微耕机", "category": "机器设备", "quantity": 2, "unit_price": Decimal("4000.00")}],
            "quotations": [],
        },
    )
    for _ in range(20):
        matter.refresh_from_db()
        step = matter.next_step
        if step == Step.PROPOSE:
            perform(matter, cast.secretary, Decision.AGREE, "经村党组织研究，同意提交商议。")
        elif step in BODY_OF_STEP or step == Step.RESOLVE_BY_MEMBERS:
            hold_meeting(matter, cast)
        elif step in (Step.PUBLISH_RESOLUTION, Step.PUBLISH_RESULT):
            end_publication(matter)
        elif step == Step.CHECK_BY_TOWNSHIP:
            perform(matter, cast.officer, Decision.AGREE, "经初审，材料齐全。")
        elif step == Step.APPROVE_BY_TOWNSHIP:
            perform(matter, cast.leader, Decision.AGREE, "同意。")
        elif step == Step.IMPLEMENT:
            perform(matter, cast.cashier, Decision.DONE, f"已与{SUPPLIER}签订合同，货款已支付。")
        else:
            break
    assert matter.status == MatterStatus.ARCHIVED, matter.next_step
    return matter


def rendered_dossier(matter: Matter) -> RenderedDocument | None:
    """The matter's dossier PDF, rendered now if archiving did not already ask for it (Celery runs eagerly)."""
    from documents.rendering import dossier_request

    current = RenderedDocument.objects.filter(
        matter=matter, kind=RenderedDocument.Kind.DOSSIER, superseded_at__isnull=True
    ).first()
    if current is None or current.status != RenderStatus.DONE:
        with transaction.atomic():
            dossier_request(matter=matter)
    return RenderedDocument.objects.filter(
        matter=matter, kind=RenderedDocument.Kind.DOSSIER, superseded_at__isnull=True, status=RenderStatus.DONE
    ).first()


@pytest.fixture
def review_panel_on_matter_page(settings, tmp_path):
    """Stand-in until the lead adds ``{% review_panel matter %}`` to flows/matter_detail.html: a copy of that
    template with the panel at its end, found first. Once the real template has the panel this does nothing."""
    source = MATTER_PAGE_TEMPLATE.read_text()
    if "review_panel" in source:
        return
    head, _end, tail = source.rpartition("{% endblock %}")
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "matter_detail.html").write_text(
        head + "{% load review_tags %}{% review_panel matter %}\n{% endblock %}" + tail
    )
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [{**engine, "DIRS": [tmp_path, *engine["DIRS"]]}]


def test_inspector_finds_opens_and_flags_an_archived_matter(demo, actor, live_server, review_panel_on_matter_page):
    base = live_server.url
    pending = []
    matter = archive_demo_purchase()
    try:
        reverse("documents:document_download", args=[1])
    except NoReverseMatch:
        dossier = None
        pending.append("dossier: documents:document_download is not written yet, so no dossier link was opened")
    else:
        dossier = rendered_dossier(matter)
        assert dossier is not None, "the dossier of the archived matter was rendered"

    # The inspector searches the archive by a party's name and finds the matter.
    page = actor.login("inspector")
    page.goto(f"{base}{reverse('documents:archive_search')}")
    page.fill("#id_party", "青松农机")
    page.click("#archive-search button[type=submit]")
    row = page.locator(f"#results tr[data-matter='{matter.pk}']")
    expect(row).to_contain_text(TITLE)
    expect(row).to_contain_text(matter.archive_number)
    expect(page.locator("#results tbody tr")).to_have_count(1)
    assert AccessLog.objects.filter(
        user__username="inspector", action=AccessAction.SEARCH, detail__contains="当事人：青松农机"
    ).exists(), "the search is in the access log"

    # The dossier PDF opens from the results (the rendering part of issue 4 serves and logs it).
    if dossier is not None:
        href = row.locator("a.dossier-link").get_attribute("href")
        response = page.request.get(f"{base}{href}")
        assert response.status == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.body().startswith(b"%PDF")
        assert AccessLog.objects.filter(
            user__username="inspector", action=AccessAction.OPEN_DOSSIER, matter=matter
        ).exists()

    # The inspector opens the matter page from the results.
    row.locator("a.matter-link").click()
    page.wait_for_url(f"{base}{matter.get_absolute_url()}")
    expect(page.locator("#archive-number")).to_have_text(matter.archive_number)
    if "access_log_record" in inspect.getsource(flows.views.matter_detail):
        assert AccessLog.objects.filter(
            user__username="inspector", action=AccessAction.OPEN_MATTER, matter=matter
        ).exists()
    else:
        pending.append("open_matter: flows.views.matter_detail does not call access_log_record yet")

    # ... and flags a problem.
    page.fill("#flag-note", "询价记录缺失：8000元购置未见任何报价单。")
    page.click("#flag-form button[type=submit]")
    expect(page.locator(".messages")).to_be_visible()
    flag = InspectorFlag.objects.get(matter=matter)
    expect(page.locator(f"#review .flag[data-flag='{flag.pk}']")).to_contain_text("询价记录缺失")

    # The township leader sees the open flag and answers it.
    page = actor.login("leader_dh")
    page.goto(f"{base}{reverse('documents:flag_list')}")
    card = page.locator(f"#flags .flag[data-flag='{flag.pk}']")
    expect(card).to_contain_text("询价记录缺失")
    card.locator("textarea[name=answer]").fill("经核实，该金额低于询价门槛，已要求村里补充市场比价记录。")
    card.locator("button[type=submit]").click()
    expect(page.locator(".messages")).to_be_visible()
    expect(page.locator(f"#flags .flag[data-flag='{flag.pk}']")).to_have_count(0)
    flag.refresh_from_db()
    assert flag.answered_by.username == "leader_dh"

    # The inspector sees the answer on the matter page.
    page = actor.login("inspector")
    page.goto(f"{base}{matter.get_absolute_url()}")
    expect(page.locator(f"#review .flag[data-flag='{flag.pk}'] .flag-answer")).to_contain_text("已要求村里补充")

    if pending:
        pytest.xfail("; ".join(pending))
