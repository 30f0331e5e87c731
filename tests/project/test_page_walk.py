"""Every page, as every demo persona, in Chinese: no stray English and no raw values.

The routes come from the URL resolver (tests/urlwalk.py), so a new page is walked as soon as it exists;
one with arguments must get sample values in ``SAMPLES`` or this test fails and says so. Each HTML answer
(pages, 403 and 404 pages alike) is read as a person reads it, its text and the attributes people see
(title, placeholder, aria-label, alt, button values), and every Latin word outside the allow-list (codes,
numbers, file names, usernames, the "English" switch, abbreviations like PDF) is reported with its page
and persona. A page that fails with a server error is reported too.
"""

import html
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from administration.models import TrackedSession
from demo.seed import COUNTY_CODE, SCENARIOS, demo_collectives, matters_seed
from demo.warnings import demo_warning_cases
from demo.workdesk import demo_batch_matters
from documents import rendering, review
from documents.models import Evidence, InspectorFlag, RenderedDocument
from flows import delegation
from flows.models import (
    Delegation,
    Matter,
    MatterStatus,
    Meeting,
    MeetingNotice,
    Notice,
    Notification,
    Objection,
)
from flows.services import active_task
from imports.models import ImportJob, ImportKind
from imports.services import import_check, import_upload
from organizations.models import Organization, Post, Role
from oversight.figures import figures_rebuild
from registers.models import Asset, Contract, EarlyWarning, FundAccount, Member, Resource, ShareCertificate
from registers.warnings import warnings_scan
from tests.urlwalk import Route, all_routes

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"

# Who walks: one demo user of each role, the maintenance superuser and a visitor who is not logged in.
PERSONAS = [
    "sec_dh01",
    "cashier_dh01",
    "sup_dh01",
    "officer_dh",
    "leader_dh",
    "county_admin",
    "inspector",
    "admin",
    None,
]
# The admin site is walked as the county administrator, whose work it is. The superuser's wider admin
# (viewflow's process tables, every model) is maintenance tooling and stays as Django and viewflow ship it.
ADMIN_PERSONAS = {"county_admin"}

# Latin words a Chinese page may show: abbreviations and names that are written so in Chinese too.
ALLOWED_WORDS = {
    "PDF",
    "Excel",
    "SHA",
    "QR",
    "English",  # the language switch names the language in itself
    "ID",
    "IP",
    "JPEG",
    "PNG",
    "TIFF",
    "MB",
    "KB",
    "OFD",
    "ECharts",
    # authenticator apps the two-factor page names, as their makers write them
    "Google",
    "Authenticator",
    "FreeOTP",
}
VISIBLE_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
DJANGO_ADMIN_ICON = re.compile(r'<img\b[^>]*src="[^"]*/admin/img/icon-(?:yes|no|unknown)\.svg"')
LATIN_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z_']*[A-Za-z](?![A-Za-z0-9])")
FILE_NAME = re.compile(r"[^\s<>\"'/]+\.(?:pdf|png|jpe?g|tiff?|xlsx)\b", re.IGNORECASE)
ADDRESS = re.compile(r"(?:https?://|/)[\w./?=&%#:;~+-]*")
# A value shown masked, like the salt of a password hash ("je******").
MASKED = re.compile(r"[\w+/=-]*\*{3,}")
# Hyphenated identifiers with a digit in them: archive, contract and asset numbers (DH01-JJ-2026-000001).
HYPHENATED_CODE = re.compile(r"(?<![\w-])(?=[\w-]*\d)\w+(?:-\w+)+(?![\w-])")


def visible_text(page: str) -> str:
    """The text a person reads: no scripts, styles or comments, entities decoded, plus the visible attributes."""
    page = re.sub(r"<!--.*?-->", " ", page, flags=re.DOTALL)
    page = re.sub(r"<(script|style|template)\b.*?</\1>", " ", page, flags=re.DOTALL | re.IGNORECASE)
    # Code is shown as it is typed or stored (commands, key names, hashes), in any language.
    page = re.sub(r"<code\b.*?</code>", " ", page, flags=re.DOTALL | re.IGNORECASE)
    attributes = []
    for tag in re.findall(r"<[^>]+>", page):
        if DJANGO_ADMIN_ICON.search(tag):
            continue  # Django's yes/no icons carry a fixed English alt ("True"), whatever the language
        for name in VISIBLE_ATTRIBUTES:
            attributes += re.findall(rf'\s{name}="([^"]*)"', tag)
        if re.match(r"<input\b", tag) and re.search(r'type="(?:submit|button)"', tag):
            attributes += re.findall(r'\svalue="([^"]*)"', tag)
    text = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(" ".join([text, *attributes]))


def stray_latin(text: str, codes: set[str]) -> set[str]:
    """Latin words that are neither allowed nor one of the known codes (usernames, place codes, receipts…)."""
    for code in sorted(codes, key=len, reverse=True):
        text = text.replace(code, " ")
    text = FILE_NAME.sub(" ", text)
    text = ADDRESS.sub(" ", text)
    text = HYPHENATED_CODE.sub(" ", text)
    text = MASKED.sub(" ", text)
    return {word for word in LATIN_WORD.findall(text) if word not in ALLOWED_WORDS}


# --- the checker itself ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, found",
    [
        ("任务状态 Done", {"Done"}),
        (
            "下一环节 next_step: publish_resolution → check_by_township",
            {"next_step", "publish_resolution", "check_by_township"},
        ),
        ("fund disbursement #5 创建", {"fund", "disbursement"}),
        ("打开 PDF · 导出 Excel · SHA-256 · English", set()),
        ("档案号 DH01-JJ-2026-000001，文件 报价单.pdf，地址 https://example.cn/board/", set()),
        ("sec_dh01 核验码 aZ_9xYw-QpLm", set()),
    ],
)
def test_the_checker_finds_english_words_and_lets_codes_pass(text, found):
    assert stray_latin(text, {"sec_dh01", "aZ_9xYw-QpLm"}) == found


def test_the_checker_reads_attributes_but_not_scripts():
    page = '<p title="Open it">x</p><script>var Done = 1;</script><!-- Done --><input type="submit" value="Send">'
    assert stray_latin(visible_text(page), set()) == {"Open", "it", "Send"}


# --- the walk ----------------------------------------------------------------------------------------


@dataclass
class Walk:
    """The demo county with matters at every step and one of every record a page can show."""

    matter: Matter
    archived: Matter
    returned: Matter
    meeting: Meeting
    notice: Notice
    objection: Objection
    evidence: Evidence
    document: RenderedDocument
    warning: EarlyWarning
    flag: InspectorFlag
    correction: object
    delegation: Delegation
    village: Organization
    county: Organization
    township: Organization
    # Import jobs of the sample workbooks (docs/samples): one with problems, one ready to confirm.
    imports: list


def build_walk() -> Walk:
    call_command("seed_demo", verbosity=0)
    matters_seed(count=len(SCENARIOS), collectives=demo_collectives(village_code="DH01"))
    batch = demo_batch_matters(count=1)
    demo_warning_cases()
    warnings_scan()
    users = {user.username: user for user in get_user_model().objects.all()}
    in_progress = batch[0]
    archived = Matter.objects.filter(status=MatterStatus.ARCHIVED).first()
    returned = Matter.objects.filter(step_records__decision="return", status=MatterStatus.IN_PROGRESS).first()
    flag = review.flag_raise(user=users["inspector"], matter=archived, note="报价单与合同金额不一致，请核实。")
    correction = review.correction_submit(
        user=users["sec_dh01"], matter=archived, what="供应商名称", correction="太原市晋阳农机有限公司", reason="笔误"
    )
    leader_post = Post.objects.get(user=users["leader_dh"], role=Role.TOWNSHIP_LEADER)
    handed = delegation.delegation_create(
        user=users["leader_dh"],
        post=leader_post,
        delegate=users["leader2_dh"],
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate(),
        reason="到县里参加培训",
        hand_over_now=False,
    )
    document = rendering.approval_form_request(matter=in_progress, requested_by=users["leader_dh"])
    objection = Objection.objects.order_by("pk").first()
    figures_rebuild()
    imports = [
        import_check(
            job=import_upload(
                user=users["county_admin"],
                scope=Organization.objects.get(code=COUNTY_CODE),
                kind="county",
                uploaded=SimpleUploadedFile(name, (SAMPLES / name).read_bytes()),
            )
        )
        for name in ("import-new-township-broken.xlsx", "import-new-township.xlsx")
    ]
    return Walk(
        matter=in_progress,
        archived=archived,
        returned=returned,
        meeting=Meeting.objects.first(),
        notice=objection.notice,
        objection=objection,
        evidence=Evidence.objects.filter(matter=in_progress).first(),
        document=document,
        warning=EarlyWarning.objects.first(),
        flag=flag,
        correction=correction,
        delegation=handed,
        village=Organization.objects.get(code="DH01"),
        county=Organization.objects.get(code=COUNTY_CODE),
        township=Organization.objects.get(code="DH"),
        imports=imports,
    )


def samples(walk: Walk) -> dict[str, list[dict]]:
    """The arguments each route with arguments is walked with (several where pages differ by state)."""
    task = active_task(walk.matter, walk.matter.next_step)
    certificate = ShareCertificate.objects.first()
    account = get_user_model().objects.get(username="leader_dh")
    session = TrackedSession.objects.order_by("pk").first()
    return {
        "flows:matter_create": [{"transaction_type": "asset_purchase"}, {"transaction_type": "fund_disbursement"}],
        "flows:matter_detail": [{"pk": walk.matter.pk}, {"pk": walk.archived.pk}, {"pk": walk.returned.pk}],
        "flows:matter_withdraw": [{"pk": walk.matter.pk}],
        "flows:perform_step": [{"task_id": task.pk}],
        "flows:task_take": [{"task_id": task.pk}],
        "flows:meeting_detail": [{"pk": walk.meeting.pk}],
        "flows:objection_handle": [{"pk": walk.objection.pk}],
        "flows:delegation_end": [{"pk": walk.delegation.pk}],
        "flows:notification_open": [{"pk": Notification.objects.first().pk}],
        "board:village": [{"pk": walk.village.pk}],
        "board:notice": [{"pk": walk.notice.pk}],
        "board:meeting_notice": [{"pk": MeetingNotice.objects.first().pk}],
        "registers:asset_detail": [{"pk": Asset.objects.first().pk}],
        "registers:fund_account_detail": [{"pk": FundAccount.objects.first().pk}],
        "registers:fund_movement_export": [{"pk": FundAccount.objects.first().pk}],
        "registers:resource_detail": [{"pk": Resource.objects.first().pk}],
        "registers:contract_detail": [{"pk": Contract.objects.first().pk}],
        "registers:member_detail": [{"pk": Member.objects.first().pk}],
        "registers:certificate_pdf": [{"pk": certificate.pk}],
        "registers:warning_detail": [{"pk": walk.warning.pk}],
        "registers:warning_handle": [{"pk": walk.warning.pk}],
        "documents:evidence_download": [{"pk": walk.evidence.pk}],
        "documents:evidence_thumbnail": [{"pk": walk.evidence.pk}],
        "documents:verify_code": [{"code": walk.document.verification_code}, {"code": "NO-SUCH-CODE"}],
        "documents:document_status": [{"pk": walk.document.pk}],
        "documents:document_download": [{"pk": walk.document.pk}],
        "documents:document_request": [{"kind": "approval_form", "pk": walk.matter.pk}],
        "documents:capture": [{"matter_id": walk.matter.pk}],
        "documents:flag_create": [{"pk": walk.archived.pk}],
        "documents:flag_answer": [{"pk": walk.flag.pk}],
        "documents:correction_create": [{"pk": walk.archived.pk}],
        "documents:correction_township_decide": [{"pk": walk.correction.pk}],
        "documents:correction_county_decide": [{"pk": walk.correction.pk}],
        "documents:proof_download": [{"code": walk.document.verification_code}],
        "documents:document_package": [{"code": walk.document.verification_code}],
        "documents:evidence_package": [{"pk": walk.evidence.pk}],
        "documents:certificate_package": [{"pk": certificate.pk}],
        "documents:archive_package": [{"matter_pk": walk.archived.pk}],
        "administration:account_detail": [{"pk": account.pk}],
        "administration:account_active": [{"pk": account.pk}],
        "administration:post_revoke": [{"pk": Post.objects.order_by("pk").first().pk}],
        "administration:session_end": [{"pk": session.pk}] if session else [],
        "administration:mfa_reset": [{"pk": account.pk}],
        "administration:password_reset": [{"pk": account.pk}],
        "oversight:place": [{"pk": walk.county.pk}, {"pk": walk.township.pk}, {"pk": walk.village.pk}],
        "oversight:export": [{"pk": walk.county.pk}],
        "rulebook:place": [{"pk": walk.county.pk}, {"pk": walk.county.parent_id}],
        "rulebook:edit": [{"pk": walk.county.pk}],
        "rulebook:version": [{"pk": walk.county.pk, "number": 1}],
        "imports:template": [{"kind": "county"}, {"kind": "members"}],
        "imports:job_detail": [{"pk": job.pk} for job in walk.imports],
        "imports:job_status": [{"pk": walk.imports[0].pk}],
        "imports:job_confirm": [{"pk": walk.imports[1].pk}],
        "imports:job_report": [{"pk": walk.imports[0].pk}],
        # The demo's own accounts come in through a users import (demo/seed.py): its passwords' pages.
        "imports:initial_passwords": [{"pk": job.pk} for job in ImportJob.objects.filter(kind=ImportKind.USERS)],
        "imports:initial_passwords_again": [{"pk": job.pk} for job in ImportJob.objects.filter(kind=ImportKind.USERS)],
    }


def admin_samples(route: Route) -> list[dict] | None:
    """Arguments of an admin route, from the model its name names; None when it has nothing to show."""
    if not route.arguments:
        return [{}]
    if route.arguments == ("app_label",):
        return [{"app_label": label} for label in sorted({model._meta.app_label for model in admin.site._registry})]
    if "object_id" in route.arguments or "id" in route.arguments:
        name = route.name.removeprefix("admin:")
        for model in admin.site._registry:
            prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
            if name.startswith(prefix):
                first = apps.get_model(model._meta.label).objects.order_by("pk").first()
                return [{route.arguments[0]: first.pk}] if first else None
    return None


def urls_of(route: Route, sample: dict[str, list[dict]]) -> list[str]:
    if route.name.startswith("admin:"):
        arguments = admin_samples(route)
        if arguments is None:
            return []
    elif route.arguments:
        assert route.name in sample, f"{route.name} ({route.route}) needs sample arguments in SAMPLES"
        arguments = sample[route.name]
    else:
        arguments = [{}]
    urls = []
    for kwargs in arguments:
        try:
            urls.append(reverse(route.name, kwargs=kwargs))
        except NoReverseMatch:
            continue
    return urls


def codes_shown(walk: Walk) -> set[str]:
    """Identifiers a page may show as they are: usernames, place codes, receipts, verification and archive numbers."""
    codes = set(get_user_model().objects.values_list("username", flat=True))
    codes |= set(Organization.objects.values_list("code", flat=True))
    codes |= set(Objection.objects.values_list("receipt", flat=True))
    codes |= set(RenderedDocument.objects.values_list("verification_code", flat=True))
    codes |= set(Matter.objects.exclude(archive_number="").values_list("archive_number", flat=True))
    codes |= set(Asset.objects.values_list("code", flat=True)) | set(Resource.objects.values_list("code", flat=True))
    codes |= set(Contract.objects.values_list("code", flat=True))
    codes |= set(Contract.objects.exclude(trading_reference="").values_list("trading_reference", flat=True))
    codes |= {"NO-SUCH-CODE"}
    return {code for code in codes if code}


def test_no_page_shows_english_to_any_persona(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # The data is made as the site makes it, in its own language, whatever an earlier test left active:
    # texts such as a notification's body are stored in the language they were written in.
    with translation.override(settings.LANGUAGE_CODE):
        walk = build_walk()
    sample = samples(walk)
    codes = codes_shown(walk)
    routes = all_routes()
    assert len(routes) > 50  # the resolver, not a hand list
    problems = []
    walked = 0
    for username in PERSONAS:
        client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
        if username:
            client.force_login(get_user_model().objects.get(username=username))
        for route in routes:
            if route.name.startswith("admin:") and username not in ADMIN_PERSONAS:
                continue
            for url in urls_of(route, sample):
                response = client.get(url)
                walked += 1
                if response.status_code >= 500:
                    problems.append(f"{username or 'anonymous'} {url}: status {response.status_code}")
                    continue
                if "text/html" not in response.get("Content-Type", "") or response.streaming:
                    continue
                words = stray_latin(visible_text(response.content.decode()), codes)
                if words:
                    problems.append(f"{username or 'anonymous'} {url} ({response.status_code}): {sorted(words)}")
    assert walked > 300
    assert not problems, "English or raw values on Chinese pages:\n" + "\n".join(problems)
