"""Inspector review of the archive: search, the access log, flags, and corrections of archived matters.

Reads (selectors) and writes (services) both live here; every one asks organizations.jurisdiction.
Corrections follow the Jilin measures, art. 14: data once archived changes only through an application
approved by the township and then the county, and recorded. The archived matter's own rows never change;
an approved correction is appended to the tamper-evident ledger and a new dossier is rendered.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, Prefetch, Q, QuerySet
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from flows.models import (
    AssetPurchase,
    Disposal,
    EquityTransfer,
    FundDisbursement,
    Leasing,
    Matter,
    MatterStatus,
    MemberCandidate,
    Quotation,
    ResourceContracting,
    StepRecord,
)
from organizations.jurisdiction import (
    TOWNSHIP_ROLES,
    can_act,
    require_act,
    user_posts,
    visible,
    visible_organizations,
)
from organizations.models import OrganizationKind, Post, Role
from registers.models import Member

from . import services
from .models import (
    AccessLog,
    CorrectionRequest,
    CorrectionStatus,
    InspectorFlag,
    RenderedDocument,
    RenderStatus,
)

INSPECTOR_ROLES = frozenset({Role.DISCIPLINE_INSPECTOR})
FLAG_READER_ROLES = TOWNSHIP_ROLES | INSPECTOR_ROLES
CORRECTION_APPLICANT_ROLES = frozenset({Role.VILLAGE_SECRETARY})
CORRECTION_TOWNSHIP_ROLES = frozenset({Role.TOWNSHIP_LEADER})
CORRECTION_COUNTY_ROLES = frozenset({Role.COUNTY_ADMIN})
# The access log is read by the audit administrator (三员分立), not by the administrators it watches.
LOG_READER_ROLES = frozenset({Role.AUDIT_ADMIN})
SEARCH_PLACE_KINDS = (OrganizationKind.VILLAGE, OrganizationKind.COLLECTIVE)


class AlreadyDecided(Exception):
    """The flag was already answered, or the correction is no longer waiting for this decision."""


def _under_posts(user, roles, field: str) -> Q:
    """Rows whose organisation (``field``) lies under one of the user's posts holding one of ``roles``."""
    condition = Q(pk__in=[])
    for post in user_posts(user):
        if post.role in roles:
            condition |= Q(**{f"{field}__path__startswith": post.organization.path})
    return condition


def holds_role(user, roles) -> bool:
    return any(post.role in roles for post in user_posts(user))


# --- the access log -------------------------------------------------------------------


def access_log_record(
    *, user, action: str, matter=None, evidence=None, document=None, detail: str = "", request=None
) -> AccessLog:
    """Note who opened or searched what, when and from where (the security log of the Jilin measures).

    The request's address goes with the entry; the row itself is written by documents.services, the log's one writer.
    """
    address = request.META.get("REMOTE_ADDR") if request is not None else None
    return services.access_log_record(
        user=user, action=action, matter=matter, evidence=evidence, document=document, detail=detail, address=address
    )


def inspects(user, organization) -> bool:
    """True when the user reads this organisation as a discipline inspector (whose every opening is logged)."""
    return can_act(user, organization, INSPECTOR_ROLES)


def access_log_admin_scope(user) -> Q:
    """What an audit administrator may read of the log: entries on matters of their county, and
    entries without a matter (searches) by people posted in it."""
    condition = Q(pk__in=[])
    for post in user_posts(user):
        if post.role in LOG_READER_ROLES:
            path = post.organization.path
            staff = Post.objects.filter(organization__path__startswith=path).values("user_id")
            condition |= Q(matter__organization__path__startswith=path) | Q(matter__isnull=True, user_id__in=staff)
    return condition


@dataclass(frozen=True)
class AccessLogQuery:
    user: str = ""
    action: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    matter: str = ""


def access_log_for(user, query: AccessLogQuery) -> QuerySet:
    """The access log entries an audit administrator may read, filtered; newest first."""
    entries = AccessLog.objects.filter(access_log_admin_scope(user)).select_related(
        "user", "matter", "evidence", "document"
    )
    if query.user:
        entries = entries.annotate(
            user_full_name=Concat("user__last_name", "user__first_name", output_field=CharField())
        ).filter(
            Q(user__username__icontains=query.user)
            | Q(user_full_name__icontains=query.user)
            | Q(user__first_name__icontains=query.user)
            | Q(user__last_name__icontains=query.user)
        )
    if query.action:
        entries = entries.filter(action=query.action)
    if query.date_from:
        entries = entries.filter(at__date__gte=query.date_from)
    if query.date_to:
        entries = entries.filter(at__date__lte=query.date_to)
    if query.matter:
        # A number is the matter's id (archive numbers end in it); anything else, its archive number or title.
        if query.matter.isdigit():
            condition = Q(matter_id=int(query.matter))
        else:
            condition = Q(matter__archive_number__icontains=query.matter) | Q(matter__title__icontains=query.matter)
        entries = entries.filter(condition)
    return entries.order_by("-at", "-pk")


# --- archive search -------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveQuery:
    place: object = None  # a village or collective the user may see
    transaction_type: str = ""
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    date_field: str = "archived"  # "applied" or "archived"
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    party: str = ""
    text: str = ""
    include_unarchived: bool = False


def search_places(user) -> QuerySet:
    """Villages and collectives under the user's posts, in tree order: the place filter's choices."""
    return visible_organizations(user).filter(kind__in=SEARCH_PLACE_KINDS)


def party_matters(party: str) -> Q:
    """Matters with ``party`` in the applicant's name or any counterparty of the application.

    One id subquery per table rather than one join across all of them: each is a substring match on one
    column, which PostgreSQL answers from that column's trigram index (listing/search_indexes.py).
    """
    applicants = (
        get_user_model()
        .objects.annotate(full_name=Concat("last_name", "first_name", output_field=CharField()))
        .filter(Q(full_name__icontains=party) | Q(first_name__icontains=party) | Q(last_name__icontains=party))
        .values("pk")
    )
    in_members = Member.objects.filter(name__icontains=party).values("pk")
    return (
        Q(applicant__in=applicants)
        | Q(pk__in=AssetPurchase.objects.filter(chosen_supplier__icontains=party).values("matter_id"))
        | Q(pk__in=Quotation.objects.filter(supplier__icontains=party).values("purchase__matter_id"))
        | Q(pk__in=FundDisbursement.objects.filter(payee__icontains=party).values("matter_id"))
        | Q(pk__in=ResourceContracting.objects.filter(contractor__icontains=party).values("matter_id"))
        | Q(pk__in=Leasing.objects.filter(lessee__icontains=party).values("matter_id"))
        | Q(pk__in=Disposal.objects.filter(counterparty__icontains=party).values("matter_id"))
        | Q(pk__in=EquityTransfer.objects.filter(from_member__in=in_members).values("matter_id"))
        | Q(pk__in=EquityTransfer.objects.filter(to_member__in=in_members).values("matter_id"))
        | Q(pk__in=MemberCandidate.objects.filter(name__icontains=party).values("matter_id"))
    )


def text_matters(term: str) -> Q:
    """Matters whose title, reason or any step record's opinion contains ``term``.

    A case-insensitive substring match (LIKE / ILIKE), the same on SQLite and PostgreSQL; on PostgreSQL
    each column has a trigram index (Chinese text has no spaces for a word index to split on).
    """
    return (
        Q(title__icontains=term)
        | Q(pk__in=StepRecord.objects.filter(opinion__icontains=term).values("matter_id"))
        | Q(pk__in=AssetPurchase.objects.filter(reason__icontains=term).values("matter_id"))
        | Q(pk__in=Disposal.objects.filter(reason__icontains=term).values("matter_id"))
    )


def archive_search(user, query: ArchiveQuery) -> QuerySet:
    """Matters in the user's jurisdiction matching the query, archived ones only unless asked; newest first.

    Multi-valued conditions (quotations, candidates, step records) are id subqueries, so a matter appears
    once without DISTINCT; the current dossier comes in one prefetch, so a page costs the same queries
    however many rows it shows.
    """
    matters = visible(user, Matter.objects.all())
    if not query.include_unarchived:
        matters = matters.filter(status=MatterStatus.ARCHIVED)
    if query.place is not None:
        matters = matters.filter(organization__path__startswith=query.place.path)
    if query.transaction_type:
        matters = matters.filter(transaction_type=query.transaction_type)
    if query.amount_min is not None:
        matters = matters.filter(amount__gte=query.amount_min)
    if query.amount_max is not None:
        matters = matters.filter(amount__lte=query.amount_max)
    date_lookup = "finished_at" if query.date_field == "archived" else "created_at"
    if query.date_field == "archived" and (query.date_from or query.date_to):
        matters = matters.filter(status=MatterStatus.ARCHIVED)
    if query.date_from:
        matters = matters.filter(**{f"{date_lookup}__date__gte": query.date_from})
    if query.date_to:
        matters = matters.filter(**{f"{date_lookup}__date__lte": query.date_to})
    if query.party.strip():
        matters = matters.filter(party_matters(query.party.strip()))
    for term in query.text.split():
        matters = matters.filter(text_matters(term))
    return (
        matters.select_related("organization", "organization__parent", "applicant")
        .prefetch_related(Prefetch("rendered_documents", queryset=current_dossiers(), to_attr="current_dossiers"))
        .order_by("-created_at", "-pk")
    )


def current_dossiers() -> QuerySet:
    """Rendered dossiers that are ready and not superseded by a newer rendering."""
    return RenderedDocument.objects.filter(
        kind=RenderedDocument.Kind.DOSSIER, status=RenderStatus.DONE, superseded_at__isnull=True
    ).order_by("-rendered_at", "-pk")


# --- flags ----------------------------------------------------------------------------


def flag_raise(*, user, matter: Matter, note: str) -> InspectorFlag:
    """An inspector flags a problem on a matter of their jurisdiction; the township sees it until it answers."""
    require_act(user, matter.organization, INSPECTOR_ROLES)
    if not note.strip():
        raise ValidationError({"note": _("Describe the problem.")})
    flag = InspectorFlag(matter=matter, raised_by=user, note=note.strip())
    flag.full_clean()
    flag._history_user = user
    flag.save()
    return flag


def flag_answer(*, user, flag_id: int, answer: str) -> InspectorFlag:
    """The township (officer or leader over the matter's village) answers a flag, once."""
    flag = InspectorFlag.objects.select_related("matter__organization").get(pk=flag_id)
    require_act(user, flag.matter.organization, TOWNSHIP_ROLES)
    if not answer.strip():
        raise ValidationError({"answer": _("Write the township's answer.")})
    with transaction.atomic():
        flag = InspectorFlag.objects.select_for_update(of=("self",)).get(pk=flag.pk)
        if flag.answered_at is not None:
            raise AlreadyDecided(_("This flag has already been answered; nothing was changed."))
        flag.answer = answer.strip()
        flag.answered_by = user
        flag.answered_at = timezone.now()
        flag.full_clean()
        flag._history_user = user
        flag.save()
    return flag


def flags_for(user, *, state: str = "open") -> QuerySet:
    """Flags on matters where the user is a township officer or leader, or an inspector."""
    flags = InspectorFlag.objects.filter(_under_posts(user, FLAG_READER_ROLES, "matter__organization"))
    if state == "open":
        flags = flags.filter(answered_at__isnull=True)
    elif state == "answered":
        flags = flags.filter(answered_at__isnull=False)
    return flags.select_related(
        "matter", "matter__organization", "matter__organization__parent", "raised_by", "answered_by"
    ).order_by("-raised_at", "-pk")


# --- corrections ----------------------------------------------------------------------


def correction_submit(*, user, matter: Matter, what: str, correction: str, reason: str) -> CorrectionRequest:
    """The village secretary asks to correct an archived matter (Jilin measures art. 14)."""
    require_act(user, matter.organization, CORRECTION_APPLICANT_ROLES)
    if matter.status != MatterStatus.ARCHIVED:
        raise ValidationError(_("Only an archived matter is corrected through a correction request."))
    request = CorrectionRequest(
        matter=matter,
        requested_by=user,
        what=what.strip(),
        correction=correction.strip(),
        reason=reason.strip(),
        status=CorrectionStatus.AWAITING_TOWNSHIP,
    )
    request.full_clean()
    request._history_user = user
    request.save()
    return request


def _decision_opinion(approve: bool, opinion: str) -> str:
    opinion = opinion.strip()
    if not approve and not opinion:
        raise ValidationError({"opinion": _("Give the reason for rejecting.")})
    return opinion


def correction_township_decide(*, user, correction_id: int, approve: bool, opinion: str = "") -> CorrectionRequest:
    """The township leader approves (on to the county) or rejects a correction request."""
    correction = CorrectionRequest.objects.select_related("matter__organization").get(pk=correction_id)
    require_act(user, correction.matter.organization, CORRECTION_TOWNSHIP_ROLES)
    opinion = _decision_opinion(approve, opinion)
    with transaction.atomic():
        correction = CorrectionRequest.objects.select_for_update(of=("self",)).get(pk=correction.pk)
        if correction.status != CorrectionStatus.AWAITING_TOWNSHIP:
            raise AlreadyDecided(_("This correction request is not waiting for the township; nothing was changed."))
        correction.township_by = user
        correction.township_at = timezone.now()
        correction.township_opinion = opinion
        correction.status = CorrectionStatus.AWAITING_COUNTY if approve else CorrectionStatus.REJECTED
        correction._history_user = user
        correction.save()
    return correction


def correction_county_decide(*, user, correction_id: int, approve: bool, opinion: str = "") -> CorrectionRequest:
    """The county administrator approves or rejects; approval is recorded in the ledger and re-renders the dossier."""
    correction = CorrectionRequest.objects.select_related("matter__organization").get(pk=correction_id)
    require_act(user, correction.matter.organization, CORRECTION_COUNTY_ROLES)
    opinion = _decision_opinion(approve, opinion)
    with transaction.atomic():
        correction = (
            CorrectionRequest.objects.select_for_update(of=("self",))
            .select_related("matter", "requested_by", "township_by")
            .get(pk=correction.pk)
        )
        if correction.status != CorrectionStatus.AWAITING_COUNTY:
            raise AlreadyDecided(_("This correction request is not waiting for the county; nothing was changed."))
        correction.county_by = user
        correction.county_at = timezone.now()
        correction.county_opinion = opinion
        correction.status = CorrectionStatus.APPROVED if approve else CorrectionStatus.REJECTED
        correction._history_user = user
        correction.save()
        if approve:
            _record_approved_correction(correction)
    return correction


def correction_payload(correction: CorrectionRequest) -> dict:
    """What the ledger keeps of an approved correction: the request, who approved it, when, and why."""
    matter = correction.matter
    return {
        "correction": correction.pk,
        "matter": matter.pk,
        "archive_number": matter.archive_number,
        "what": correction.what,
        "correction_text": correction.correction,
        "reason": correction.reason,
        "requested_by": correction.requested_by.username,
        "requested_at": correction.requested_at.isoformat(),
        "township_by": correction.township_by.username if correction.township_by else "",
        "township_at": correction.township_at.isoformat() if correction.township_at else "",
        "township_opinion": correction.township_opinion,
        "county_by": correction.county_by.username if correction.county_by else "",
        "county_at": correction.county_at.isoformat() if correction.county_at else "",
        "county_opinion": correction.county_opinion,
    }


def _record_approved_correction(correction: CorrectionRequest) -> None:
    # Imported here: the ledger and rendering modules are written alongside this one and import flows.
    from documents.ledger import ledger_append
    from documents.rendering import dossier_request

    ledger_append(kind="correction", obj=correction, matter=correction.matter, payload=correction_payload(correction))
    dossier_request(matter=correction.matter)


def corrections_for(user, *, status: str = "") -> QuerySet:
    """Correction requests on matters the user may see, optionally in one state; newest first."""
    corrections = visible(user, CorrectionRequest.objects.all(), "matter__organization")
    if status in CorrectionStatus.values:
        corrections = corrections.filter(status=status)
    return corrections.select_related(
        "matter", "matter__organization", "requested_by", "township_by", "county_by"
    ).order_by("-requested_at", "-pk")


def correction_waiting_for(user, correction: CorrectionRequest) -> str:
    """Which decision this user may take on the request now: "township", "county" or ""."""
    organization = correction.matter.organization
    if correction.status == CorrectionStatus.AWAITING_TOWNSHIP and can_act(
        user, organization, CORRECTION_TOWNSHIP_ROLES
    ):
        return "township"
    if correction.status == CorrectionStatus.AWAITING_COUNTY and can_act(user, organization, CORRECTION_COUNTY_ROLES):
        return "county"
    return ""


# --- the matter page's review panel ---------------------------------------------------


def review_panel_context(user, matter: Matter) -> dict:
    """Flags, corrections and the forms this user may use on one matter (two queries at most)."""
    organization = matter.organization
    reads_flags = can_act(user, organization, FLAG_READER_ROLES)
    flags = []
    if reads_flags:
        flags = list(matter.flags.select_related("raised_by", "answered_by").order_by("-raised_at", "-pk"))
    corrections = list(
        matter.corrections.select_related("requested_by", "township_by", "county_by").order_by("-requested_at", "-pk")
    )
    for correction in corrections:
        correction.waiting_for_user = correction_waiting_for(user, correction)
    return {
        "matter": matter,
        "flags": flags,
        "corrections": corrections,
        "reads_flags": reads_flags,
        "can_flag": inspects(user, organization),
        "can_answer_flags": can_act(user, organization, TOWNSHIP_ROLES),
        "can_request_correction": matter.status == MatterStatus.ARCHIVED
        and can_act(user, organization, CORRECTION_APPLICANT_ROLES),
    }
