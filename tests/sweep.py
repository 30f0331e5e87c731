"""The authorisation sweep: every URL pattern, every method, every persona, generated from the URL resolver.

A new page is swept the day it is added, without being listed anywhere: its parameters are filled with
the "victim" objects of village A1 (a matter, its task, meeting, notice, objection, file, PDFs, register
rows, warning, flag, correction, notification, account), chosen by the parameter's name and the URL's
name (``asset_detail`` → the asset, ``<int:task_id>`` → the task), and the matter when nothing fits.
``VICTIM_PARAMETERS`` and ``VICTIM_BY_NAME`` below are the only tables, and a new model gets a row there
only if its URL name does not already start with its key.

What must hold (``expectations``):
- no response is a server error (500);
- anonymous visitors are sent to the login page (a script's endpoint answers 401), except on the public
  pages of ``PUBLIC_URL_NAMES``;
- a persona whose posts do not cover village A1 ("outsider") never reads A1's data: no page shows the
  victims' marker text, and a page about a victim object answers 403, 404 or 405;
- an outsider's POST changes no business row (nothing is appended to the ledger but security entries,
  and no table of the business apps grows).
"""

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.apps import apps
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from administration.models import TrackedSession
from documents.models import CorrectionRequest, Evidence, InspectorFlag, LedgerEntry, LedgerKind, RenderedDocument
from flows import services
from flows.models import Matter, Meeting, MeetingNotice, Notification, Objection, Step
from imports.importers import IMPORTERS
from imports.models import ImportJob, ImportKind, ImportStatus
from organizations.jurisdiction import can_see
from organizations.models import ADMINISTRATOR_ROLES, MeetingBody
from registers.models import (
    Asset,
    Contract,
    EarlyWarning,
    FundAccount,
    Resource,
    ShareCertificate,
    WarningLevel,
    WarningRule,
)
from tests.drive import apply_purchase
from tests.imports.conftest import workbook_bytes
from tests.urlwalk import every_route
from tests.views.conftest import PNG_BYTES, to_step

MARKER = "SWEEP标记A1"
# Namespaces left to their own tests: the Django admin (maintenance superuser only, tests/administration).
SKIPPED_NAMESPACES = frozenset({"admin"})
# Pages anyone may open without logging in.
PUBLIC_URL_NAMES = frozenset(
    {
        "board:index",
        "board:village",
        "board:notice",
        # A villager follows their objection by its receipt code, without an account.
        "board:objection_lookup",
        "board:objection_received",
        "board:meeting_notice",
        "documents:verify",
        "documents:verify_code",
        # The transparency log answers anyone: proofs, packages and the verifier to check them offline,
        # the signed checkpoint and consistency proofs, and the witnesses' cosignatures and fork reports.
        "documents:document_package",
        "documents:proof_download",
        "documents:verifier_download",
        "documents:ledger_checkpoint",
        "documents:ledger_consistency",
        "documents:witness_cosign",
        "documents:witness_fork",
        "login",
        "logout",
        "set_language",
    }
)
# Pages about the signed-in user's own things (their password, second factor, notifications): every
# persona may use them, and an outsider doing so writes nothing of A1's.
SELF_SERVICE_URL_NAMES = frozenset(
    {
        "administration:password_change",
        "administration:mfa_setup",
        "administration:mfa_verify",
        "flows:notifications_mark_read",
    }
)
# Namespaces whose pages are business data of the tree: outsiders must not read them.
BUSINESS_NAMESPACES = frozenset({"flows", "registers", "documents", "imports"})
METHODS = ("get", "post")
REFUSED = frozenset({403, 404, 405})
# Parameters named for what they hold, whatever the URL.
VICTIM_PARAMETERS = {
    "task_id": "task",
    "matter_id": "matter",
    "code": "verification_code",
    "transaction_type": "transaction_type",
    "kind": "document_kind",
}
# URL name prefixes (before "_detail", "_open", …) whose object is not the one of the same name.
VICTIM_BY_NAME = {
    "fund_movement": "fund_account",
    "flag_create": "matter",
    "correction_create": "matter",
    "notice": "notice",
    "meeting_notice": "meeting_notice",
    "village": "village",
    "post_revoke": "post",
    "session_end": "session",
    "mfa_reset": "account",
    "password_reset": "account",
    "document_request": "matter",
    "initial_passwords": "import_job",
}


@dataclass(frozen=True)
class SweptURL:
    name: str
    route: str
    parameters: tuple[tuple[str, str], ...]  # (name, converter class name)

    @property
    def namespace(self) -> str:
        return self.name.split(":", 1)[0] if ":" in self.name else ""


def url_patterns() -> list[SweptURL]:
    """Every named URL pattern of the project, with its parameters, from the resolver (tests/urlwalk.py)."""
    found = [
        SweptURL(name=route.name, route=route.route, parameters=route.converters)
        for route in every_route()
        if route.namespace.split(":")[0] not in SKIPPED_NAMESPACES
    ]
    unique = {(url.name, url.parameters): url for url in found}
    return sorted(unique.values(), key=lambda url: url.name)


# --- the victims ---------------------------------------------------------------------------------


def build_victims(world) -> dict:
    """One object of every kind in village A1, each carrying MARKER where it has text."""
    matter = apply_purchase(world, title=f"{MARKER}购置")
    task = services.active_task(matter, Step.PROPOSE)
    published = to_step(world, apply_purchase(world, title=f"{MARKER}公示"), Step.PUBLISH_RESOLUTION)
    meeting = Meeting.objects.filter(organization=world.collective_a1).order_by("pk").first()
    notice = published.notices.get()
    objection = Objection.objects.create(
        notice=notice, name=f"{MARKER}村民", phone="13800000000", text=MARKER, client_key="sweep"
    )
    evidence = Evidence(
        matter=matter,
        step=Step.APPLY,
        original_name=f"{MARKER}.png",
        content_type="image/png",
        extension=".png",
        size=len(PNG_BYTES),
        sha256="0" * 64,
        uploaded_by=world.secretary_a1,
    )
    evidence.file.save("sweep.png", ContentFile(PNG_BYTES), save=False)
    evidence.thumbnail.save("sweep.jpg", ContentFile(PNG_BYTES), save=False)
    evidence.save()
    document = RenderedDocument(
        kind="minutes", meeting=meeting, status="done", verification_code="SWEEPA1", sha256="1" * 64
    )
    document.pdf.save("sweep.pdf", ContentFile(b"%PDF-1.4 sweep"), save=False)
    document.save()
    members = world.members_a1
    members[0].name = f"{MARKER}成员"
    members[0].save()
    collective = world.collective_a1
    asset = Asset.objects.create(
        organization=collective,
        code="SWEEP-A1-1",
        name=f"{MARKER}资产",
        category="设备",
        unit_price=1,
        original_value=1,
        acquired_on=datetime.date(2020, 1, 1),
    )
    account = FundAccount.objects.create(organization=collective, name=f"{MARKER}账户")
    resource = Resource.objects.create(
        organization=collective, code="SWEEP-A1-R", name=f"{MARKER}耕地", kind="cultivated", location="村东", area_mu=1
    )
    contract = Contract.objects.create(
        organization=collective,
        code="SWEEP-A1-C",
        kind="lease",
        counterparty=f"{MARKER}承租人",
        asset=asset,
        start_date=datetime.date(2025, 1, 1),
        end_date=datetime.date(2027, 1, 1),
        amount=100,
    )
    certificate = ShareCertificate(member=members[0], number="SWEEP-A1-CERT", holdings={"population": 1})
    certificate.pdf.save("sweep-cert.pdf", ContentFile(b"%PDF-1.4 cert"), save=False)
    certificate.save()
    warning = EarlyWarning.objects.create(
        rule=WarningRule.CASH_OVER_LIMIT,
        level=WarningLevel.RED,
        organization=collective,
        subject_key="sweep",
        title=f"{MARKER}预警",
        matter=matter,
    )
    flag = InspectorFlag.objects.create(matter=published, raised_by=world.inspector, note=f"{MARKER}问题")
    correction = CorrectionRequest.objects.create(
        matter=published, requested_by=world.secretary_a1, what=MARKER, correction=MARKER, reason=MARKER
    )
    notification = Notification.objects.create(
        recipient=world.secretary_a1, kind="task_new", title=MARKER, matter=matter
    )
    session = TrackedSession.objects.create(session_key="sweep-a1", user=world.secretary_a1, started_at=timezone.now())
    meeting_notice = MeetingNotice.objects.create(
        organization=collective,
        body=MeetingBody.MEMBER_ASSEMBLY,
        meets_at=timezone.now() + datetime.timedelta(days=12),
        place=f"{MARKER}礼堂",
        agenda=MARKER,
        posted_by=world.supervisor_a1,
    )
    # A register import of A1's collective: the security administrator's initial-password pages must not open it.
    import_job = ImportJob(
        kind=ImportKind.MEMBERS,
        scope=collective,
        original_name=f"{MARKER}.xlsx",
        sha256="2" * 64,
        created_by=world.county_admin,
        status=ImportStatus.APPLIED,
        applied_by=world.county_admin,
        applied_at=timezone.now(),
    )
    members_sheet = {"成员": [IMPORTERS["members"].sheets[0].headers]}
    import_job.file.save("sweep-members.xlsx", ContentFile(workbook_bytes(members_sheet)), save=False)
    import_job.save()
    return {
        "matter": matter,
        "task": task,
        "import_job": import_job,
        "meeting": meeting,
        "notice": notice,
        "meeting_notice": meeting_notice,
        "objection": objection,
        "evidence": evidence,
        "document": document,
        "member": members[0],
        "asset": asset,
        "fund_account": account,
        "resource": resource,
        "contract": contract,
        "certificate": certificate,
        "warning": warning,
        "flag": flag,
        "correction": correction,
        "notification": notification,
        "account": world.secretary_a1,
        "post": world.secretary_a1.posts.first(),
        "session": session,
        "village": world.village_a1,
        "verification_code": "SWEEPA1",
        "transaction_type": "asset_purchase",
        "document_kind": "minutes",
    }


def victim_for(url: SweptURL, parameter: str, victims: dict):
    """Which victim fills this parameter of this URL: by the parameter's name, then the URL name, then the matter."""
    if parameter in VICTIM_PARAMETERS:
        key = VICTIM_PARAMETERS[parameter]
        if url.name == "documents:document_request" and parameter == "kind":
            return "minutes"
        return victims[key]
    name = url.name.split(":")[-1]
    for prefix in sorted(VICTIM_BY_NAME, key=len, reverse=True):
        if name.startswith(prefix):
            return victims[VICTIM_BY_NAME[prefix]]
    for key in sorted(victims, key=len, reverse=True):
        if name.startswith(key):
            return victims[key]
    if url.name == "documents:document_request":
        return victims["meeting"]
    return victims["matter"]


def resolve(url: SweptURL, victims: dict) -> tuple[str, bool]:
    """(path, whether a parameter names a victim object of A1)."""
    kwargs, about_victim = {}, False
    for parameter, _converter in url.parameters:
        value = victim_for(url, parameter, victims)
        if url.name == "documents:document_request" and parameter == "pk":
            value = victims["meeting"]
        if hasattr(value, "pk"):
            about_victim = True
            value = value.pk
        kwargs[parameter] = value
    return reverse(url.name, kwargs=kwargs), about_victim


# --- what must hold ------------------------------------------------------------------------------


BUSINESS_APPS = ("flows", "registers", "documents", "organizations", "imports")
# Rows written by reading or refusing, not business: they may grow on any request.
LOG_MODELS = frozenset({"documents.AccessLog", "flows.Notification", "documents.LedgerEntry"})


def business_fingerprint() -> tuple:
    counts = tuple(
        (model._meta.label, model._default_manager.count())
        for app in BUSINESS_APPS
        for model in apps.get_app_config(app).get_models()
        if model._meta.label not in LOG_MODELS and not model._meta.label.split(".")[1].startswith("Historical")
    )
    ledger = LedgerEntry.objects.exclude(kind=LedgerKind.SECURITY).count()
    handled = (
        Objection.objects.filter(handled_at__isnull=False).count(),
        EarlyWarning.objects.filter(handled_at__isnull=False).count(),
        Matter.objects.exclude(next_step=Step.PROPOSE).count(),
    )
    return counts, ledger, handled


def covers_a1(world, persona: str) -> bool:
    user = getattr(world, persona, None)
    return user is not None and can_see(user, world.collective_a1)


def sweep_requests(client_for: Callable, world, persona: str, victims: dict) -> Iterator[str]:
    """Run every URL and method as the persona; yield a message for every expectation that fails."""
    insider = persona != "anonymous" and covers_a1(world, persona)
    user = getattr(world, persona, None)
    administrator = user is not None and user.posts.filter(role__in=ADMINISTRATOR_ROLES).exists()
    client = client_for(persona)
    for url in url_patterns():
        path, about_victim = resolve(url, victims)
        for method in METHODS:
            before = business_fingerprint() if not insider and method == "post" else None
            response = getattr(client, method)(path)
            where = f"{persona} {method.upper()} {path} ({url.name})"
            if response.status_code >= 500:
                yield f"{where}: {response.status_code}"
                continue
            if persona == "anonymous":
                if url.name not in PUBLIC_URL_NAMES and not _refuses_anonymous(response):
                    yield f"{where}: {response.status_code}, neither sent to the login page nor refused"
            elif (
                url.namespace == "administration"
                and url.name not in SELF_SERVICE_URL_NAMES | {"administration:home"}
                and not administrator
                and response.status_code not in REFUSED
            ):
                yield f"{where}: {response.status_code} on an administrator's page"
            if persona != "anonymous" and not insider:
                if url.namespace in BUSINESS_NAMESPACES and about_victim and response.status_code not in REFUSED:
                    yield f"{where}: {response.status_code} on A1's object"
                if url.name not in PUBLIC_URL_NAMES and _shows_marker(response):
                    yield f"{where}: shows A1's data"
            # An administrator's own pages change accounts and posts: that is their work, not a business write.
            own_work = administrator and url.namespace == "administration"
            if (
                before is not None
                and not own_work
                and url.name not in SELF_SERVICE_URL_NAMES
                and business_fingerprint() != before
            ):
                yield f"{where}: an outsider's POST changed business rows"
            if url.name == "logout" and method == "post":
                client = client_for(persona)  # logged out: sign in again for the next pages


def _to_login(response) -> bool:
    return response.status_code == 302 and response.url.startswith(reverse("login"))


def _refuses_anonymous(response) -> bool:
    """A page sends the visitor to log in; an endpoint a script calls answers 401 instead."""
    return _to_login(response) or response.status_code == 401


def _shows_marker(response) -> bool:
    if getattr(response, "streaming", False):
        return False
    return MARKER in response.content.decode(errors="ignore")
