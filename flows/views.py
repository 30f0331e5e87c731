"""Pages of the approval work: inbox, matters, steps, meetings. Each asks the jurisdiction helper."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from viewflow.workflow.models import Task

from documents.filetypes import ACCEPT_ATTRIBUTE
from documents.models import AccessAction
from documents.review import access_log_record, inspects
from forms.steps import (
    EVIDENCE_HELP_TEXT,
    AgendaVoteForm,
    MeetingForm,
    MeetingNoticeForm,
    ObjectionHandlingForm,
    StepActionForm,
    WithdrawForm,
)
from listing.keyset import KeysetPage, page_from_request
from organizations.jurisdiction import can_act, get_for_user, visible, visible_organizations
from organizations.models import MeetingBody, MeetingRule, OrganizationKind, Role, TransactionType
from organizations.rules import rule_version_in_force
from registers.exports import XLSX_CONTENT_TYPE

from . import selectors, services, sign_in_sheet
from .batch import BATCH_STEPS, batch_alone_reason
from .catalogue import available_types, flow_for
from .disclosure import disclosure_for
from .filters import INBOX_SORTING, MATTER_LIST_SORTING, MatterFilterForm
from .history import history_lines
from .models import AttendanceWay, Decision, Matter, MatterStatus, Meeting, MeetingNotice, Objection, Step


def conflict(request, message: str):
    return render(request, "flows/conflict.html", {"message": message}, status=409)


@dataclass
class MatterRow:
    """A matter as a list shows it: its open task, how long it has waited, whether it may join a batch."""

    matter: Matter
    task: Task | None
    waiting: selectors.Waiting | None
    batchable: bool = False
    # Why a matter at a batch step must be approved on its own page ("" when it may join a batch).
    alone_because: str = ""


# Rows per page of the inbox and the matter list (keyset pages: a deep page costs what the first does).
LIST_PAGE_SIZE = 50


def _filtered_page(request, matters, *, sorting, with_status: bool):
    """The filter form bound to the query string, and the keyset page of the matters it lets through."""
    form = MatterFilterForm(request.GET, user=request.user, with_status=with_status)
    if not form.is_valid():
        return form, KeysetPage(rows=[], sort=sorting.normalise(request.GET.get("sort", ""))), 400
    return form, page_from_request(request, form.apply(matters), sorting=sorting, size=LIST_PAGE_SIZE), 200


@login_required
def inbox(request):
    if selectors.overview_is_home(request.user):
        return redirect("oversight:home")
    form, page, status = _filtered_page(
        request, selectors.inbox_for(request.user), sorting=INBOX_SORTING, with_status=False
    )
    now = timezone.now()
    rows = []
    for matter in page:
        task = next(iter(matter.process.active_tasks), None) if matter.process_id else None
        step = matter.next_step
        batch_step = (
            task is not None
            and step in BATCH_STEPS
            and task.owner_id in (None, request.user.pk)
            and can_act(request.user, matter.organization, services.STEP_ROLES[step])
        )
        alone_because = batch_alone_reason(matter) if batch_step else ""
        rows.append(
            MatterRow(
                matter=matter,
                task=task,
                waiting=selectors.waiting_of(matter, now),
                batchable=batch_step and not alone_because,
                alone_because=alone_because,
            )
        )
    objections = list(selectors.open_objections_for(request.user))
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "any_batchable": any(row.batchable for row in rows),
        "objections": objections,
        "can_apply": bool(_applicant_collectives(request.user)),
    }
    return render(request, "flows/inbox.html", context, status=status)


@login_required
def matter_list(request):
    form, page, status = _filtered_page(
        request,
        selectors.matters_for(request.user).select_related("rule_version"),
        sorting=MATTER_LIST_SORTING,
        with_status=True,
    )
    now = timezone.now()
    rows = [MatterRow(matter=matter, task=None, waiting=selectors.waiting_of(matter, now)) for matter in page]
    return render(request, "flows/matter_list.html", {"form": form, "page": page, "rows": rows}, status=status)


def _applicant_collectives(user):
    collectives = visible_organizations(user, kind=OrganizationKind.COLLECTIVE)
    return [org for org in collectives if can_act(user, org, services.STEP_ROLES[Step.APPLY])]


@login_required
def matter_create(request, transaction_type: str):
    flow_class = flow_for(transaction_type)
    collectives = _applicant_collectives(request.user)
    if not collectives:
        raise PermissionDenied
    chosen = request.POST.get("organization") or str(collectives[0].pk)
    organization = next((org for org in collectives if str(org.pk) == chosen), None)
    if organization is None:
        raise PermissionDenied
    form = flow_class.application_form_class(
        data=request.POST or None, files=request.FILES or None, **flow_class.instance.form_kwargs(organization)
    )
    if request.method == "POST" and form.is_valid():
        try:
            matter = services.matter_apply(
                user=request.user,
                organization=organization,
                transaction_type=transaction_type,
                data=form.to_data(),
                uploads=request.FILES.getlist("files"),
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("The application was submitted."))
            return redirect(matter)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "flows/matter_form.html",
        {
            "form": form,
            "flow_class": flow_class,
            "collectives": collectives,
            "organization": organization,
            "transaction_type": TransactionType(transaction_type),
            "evidence_help": EVIDENCE_HELP_TEXT,
            "evidence_accept": ACCEPT_ATTRIBUTE,
        },
        status=status,
    )


@login_required
def matter_new(request):
    if not _applicant_collectives(request.user):
        raise PermissionDenied
    return render(
        request,
        "flows/matter_new.html",
        {"types": [TransactionType(value) for value in available_types()]},
    )


def _step_form_for(request, matter: Matter, task: Task | None, data=None, files=None):
    """The action form for the matter's current step, if this user may act on it."""
    if task is None or not matter.is_open:
        return None
    step = task.flow_task.name
    roles = services.STEP_ROLES.get(step)
    if not roles or not can_act(request.user, matter.organization, roles):
        return None
    decisions = sorted(services.STEP_DECISIONS[step])
    earlier = matter.required_steps[: matter.required_steps.index(step)]
    return_steps = [s for s in earlier if s != Step.PUBLISH_RESOLUTION] if step != Step.APPLY else []
    confirm = Decision.AGREE in decisions and services.approval_lacks_application_file(matter, step)
    return StepActionForm(
        data=data, files=files, decisions=decisions, return_steps=return_steps, confirm_without_evidence=confirm
    )


@login_required
def matter_detail(request, pk: int, step_form=None, application_form=None, status=200):
    matter = get_for_user(
        request.user,
        Matter.objects.select_related(
            "organization", "organization__parent", "applicant", "process", "rule_version", "band"
        ),
        pk,
    )
    if inspects(request.user, matter.organization):
        access_log_record(user=request.user, action=AccessAction.OPEN_MATTER, matter=matter, request=request)
    flow_class = flow_for(matter.transaction_type)
    task = None
    if matter.is_open and matter.next_step in services.STEP_ROLES:
        task = services.active_task(matter, matter.next_step)
    if step_form is None:
        step_form = _step_form_for(request, matter, task)
    if application_form is None and step_form is not None:
        application_form = _extra_form_for(flow_class, matter, matter.next_step)
    context = {
        "matter": matter,
        "flow_class": flow_class,
        "task": task,
        "step_form": step_form,
        "application_form": application_form,
        "path": selectors.matter_path(matter),
        "waiting": selectors.waiting_of(matter),
        "standing_return": selectors.standing_return(matter),
        "records": matter.step_records.select_related("actor", "on_behalf_of", "meeting").prefetch_related("evidence"),
        "evidence": matter.evidence.select_related("uploaded_by"),
        "notices": matter.notices.prefetch_related("objections"),
        # The route gateway is bookkeeping, not work anyone did: leave it out of the log shown.
        "task_log": Task.objects.filter(process_id=matter.process_id)
        .exclude(flow_task_type="SWITCH")
        .select_related("owner")
        .order_by("created", "pk"),
        "history": history_lines(selectors.matter_history(matter)),
        "can_withdraw": services.can_withdraw(matter)
        and can_act(request.user, matter.organization, services.STEP_ROLES[Step.APPLY]),
        "withdraw_form": WithdrawForm(),
        "can_handle_objections": can_act(request.user, matter.organization, {Role.VILLAGE_SUPERVISOR}),
        **disclosure_for(request, matter),
    }
    return render(request, "flows/matter_detail.html", context, status=status)


def _extra_form_for(flow_class, matter: Matter, step: str, data=None, files=None):
    """The transaction's own form at a step: the application when revising, the implementation record."""
    transaction_flow = flow_class.instance
    kwargs = transaction_flow.form_kwargs(matter.organization)
    if step == Step.APPLY:
        initial = None if data is not None else transaction_flow.application_data(matter)
        return flow_class.application_form_class(data=data, files=files, initial=initial, **kwargs)
    if step == Step.IMPLEMENT and flow_class.implementation_form_class is not None:
        return flow_class.implementation_form_class(data=data, files=files, **kwargs)
    return None


def _task_for_user(request, task_id: int) -> tuple[Task, Matter]:
    task = get_object_or_404(Task.objects.select_related("process"), pk=task_id)
    matter = get_for_user(request.user, Matter.objects.select_related("organization"), task.process.matter.pk)
    return task, matter


@login_required
@require_POST
def perform_step(request, task_id: int):
    task, matter = _task_for_user(request, task_id)
    step = task.flow_task.name
    if not can_act(request.user, matter.organization, services.STEP_ROLES.get(step, ())):
        raise PermissionDenied
    form = _step_form_for(request, matter, task, data=request.POST, files=request.FILES)
    if form is None:
        return conflict(request, _("This step has already been handled; nothing was changed."))
    data = None
    flow_class = flow_for(matter.transaction_type)
    application_form = _extra_form_for(flow_class, matter, step, data=request.POST, files=request.FILES)
    if application_form is not None:
        if not application_form.is_valid():
            return matter_detail(request, matter.pk, step_form=form, application_form=application_form, status=400)
        data = application_form.to_data()
    if not form.is_valid():
        return matter_detail(request, matter.pk, step_form=form, application_form=application_form, status=400)
    try:
        record = services.step_perform(
            user=request.user,
            task_id=task.pk,
            decision=form.cleaned_data["decision"],
            opinion=form.cleaned_data["opinion"],
            return_to=form.cleaned_data.get("return_to", ""),
            uploads=form.cleaned_data["files"],
            data=data,
            confirm_without_evidence=form.cleaned_data.get("confirm_without_evidence", False),
        )
    except services.TaskConflict as error:
        return conflict(request, str(error))
    except ValidationError as error:
        if application_form is not None:
            application_form.add_service_error(error)
        _add_errors(form, error)
        return matter_detail(request, matter.pk, step_form=form, application_form=application_form, status=400)
    matter = Matter.objects.get(pk=matter.pk)
    messages.success(request, step_done_message(record, matter))
    return redirect(matter)


def step_done_message(record, matter: Matter) -> str:
    """What the step just recorded did, in words, for the message after it."""
    words = {
        "title": matter.title,
        "step": record.get_step_display(),
        "next": matter.next_step_label,
        "to": record.get_return_to_display(),
    }
    if record.decision == Decision.RETURN:
        return (
            _("You returned “%(title)s” to %(to)s with your reason; those who hold that step have been told.") % words
        )
    if record.decision == Decision.REJECT:
        return _("You rejected “%(title)s” at %(step)s; the matter is closed.") % words
    if not matter.is_open or not matter.next_step_label:
        return _("%(step)s of “%(title)s” is recorded; the matter has reached its end.") % words
    if record.decision == Decision.SUBMIT:
        return _("The revised application “%(title)s” was submitted; it now waits at %(next)s.") % words
    if record.decision == Decision.DONE:
        return _("The implementation of “%(title)s” is recorded; it now waits at %(next)s.") % words
    return _("You agreed at %(step)s of “%(title)s”; it now waits at %(next)s.") % words


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, field_messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, field_messages)
    else:
        form.add_error(None, error.messages)


@login_required
@require_POST
def task_take(request, task_id: int):
    task, matter = _task_for_user(request, task_id)
    if not can_act(request.user, matter.organization, services.STEP_ROLES.get(task.flow_task.name, ())):
        raise PermissionDenied
    try:
        services.task_take(user=request.user, task_id=task.pk)
    except services.TaskConflict as error:
        return conflict(request, str(error))
    messages.success(request, _("You have taken this step."))
    return redirect(matter)


@login_required
@require_POST
def matter_withdraw(request, pk: int):
    matter = get_for_user(request.user, Matter.objects.select_related("organization"), pk)
    if not can_act(request.user, matter.organization, services.STEP_ROLES[Step.APPLY]):
        raise PermissionDenied
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for withdrawing."))
        return redirect(matter)
    try:
        services.matter_withdraw(user=request.user, matter_id=matter.pk, reason=form.cleaned_data["reason"])
    except services.TaskConflict as error:
        return conflict(request, str(error))
    messages.success(request, _("The matter was withdrawn."))
    return redirect(matter)


# --- meetings ----------------------------------------------------------------------


@login_required
def meeting_list(request):
    meetings = visible(request.user, Meeting.objects.select_related("organization", "recorded_by"))
    page = Paginator(meetings, 50).get_page(request.GET.get("page"))
    return render(request, "flows/meeting_list.html", {"page": page})


def _supervised_collectives(user):
    collectives = visible_organizations(user, kind=OrganizationKind.COLLECTIVE)
    return [org for org in collectives if can_act(user, org, {Role.VILLAGE_SUPERVISOR})]


def _meeting_place(request, collectives):
    """The collective and body a meeting page is for, from the query or the form."""
    chosen = request.GET.get("organization") or request.POST.get("organization") or str(collectives[0].pk)
    organization = next((org for org in collectives if str(org.pk) == chosen), None)
    if organization is None:
        raise PermissionDenied
    body = request.POST.get("body") or request.GET.get("body") or MeetingBody.TWO_COMMITTEES
    if body not in MeetingBody.values:
        raise Http404
    return organization, body


def _proxies_allowed(organization, body: str) -> int:
    version = rule_version_in_force(county=organization.county, on_date=timezone.localdate())
    rule = MeetingRule.objects.filter(rule_version=version, body=body).first()
    return rule.proxies_per_attendee if rule else 0


def _pending_for(organization, body: str) -> list[Matter]:
    return [
        matter
        for matter in Matter.objects.filter(
            organization=organization, status=MatterStatus.IN_PROGRESS, next_step__in=selectors.MEETING_STEP_VALUES
        )
        if services.step_for_meeting(matter, body) == matter.next_step
    ]


def _imported_initial(request, rows) -> dict:
    """The page as the supervisor filled it in, with the attendance of the imported sheet in place of theirs."""
    initial = {name: request.POST.get(name, "") for name in ("body", "notice", "held_on", "place", "chair", "minutes")}
    initial["attendees"] = [str(row.member.pk) for row in rows]
    for row in rows:
        initial[f"way_{row.member.pk}"] = row.way
        if row.holder is not None:
            initial[f"holder_{row.member.pk}"] = str(row.holder.pk)
    return initial


@login_required
def meeting_create(request):
    collectives = _supervised_collectives(request.user)
    if not collectives:
        raise PermissionDenied
    organization, body = _meeting_place(request, collectives)
    roster = services.meeting_roster(organization=organization, body=body, on_date=timezone.localdate())
    pending = _pending_for(organization, body)
    notices = MeetingNotice.objects.filter(organization=organization, body=body)[:20]
    proxies_allowed = _proxies_allowed(organization, body)
    data = request.POST if request.method == "POST" else None
    form = MeetingForm(data=data, files=request.FILES or None, roster=roster, notices=notices, initial={"body": body})
    vote_forms = [(matter, AgendaVoteForm(data=data, prefix=f"m{matter.pk}")) for matter in pending]
    sheet_problems = []
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and request.POST.get("action") == "import":
        upload = request.FILES.get("sign_in_sheet")
        if upload is None:
            sheet_problems = [sign_in_sheet.SheetProblem(0, "", _("Choose the filled-in sign-in sheet to import."))]
        else:
            try:
                rows = sign_in_sheet.sheet_read(upload=upload, roster=roster, proxies_allowed=proxies_allowed)
            except sign_in_sheet.SheetError as error:
                sheet_problems = error.problems
            else:
                ways = [row.way for row in rows]
                messages.success(
                    request,
                    _(
                        "Imported the sign-in sheet: %(in_person)s in person, %(online)s online, %(proxy)s by proxy. "
                        "Check the roster, attach the proxies' scans and record the meeting."
                    )
                    % {
                        "in_person": ways.count(AttendanceWay.IN_PERSON),
                        "online": ways.count(AttendanceWay.ONLINE),
                        "proxy": ways.count(AttendanceWay.PROXY),
                    },
                )
                form = MeetingForm(roster=roster, notices=notices, initial=_imported_initial(request, rows))
                vote_forms = [
                    (matter, AgendaVoteForm(initial=_vote_initial(request, matter), prefix=f"m{matter.pk}"))
                    for matter in pending
                ]
                status = 200
        if sheet_problems:
            # Nothing of the sheet is taken: the page comes back as it was sent, with the report.
            form = MeetingForm(roster=roster, notices=notices, initial=_posted_initial(request, form))
            vote_forms = [
                (matter, AgendaVoteForm(initial=_vote_initial(request, matter), prefix=f"m{matter.pk}"))
                for matter in pending
            ]
    elif request.method == "POST" and form.is_valid() and all(f.is_valid() for _m, f in vote_forms):
        votes = [
            services.VoteInput(
                matter=matter,
                votes_for=vote_form.cleaned_data["votes_for"] or 0,
                votes_against=vote_form.cleaned_data["votes_against"] or 0,
                votes_abstain=vote_form.cleaned_data["votes_abstain"] or 0,
            )
            for matter, vote_form in vote_forms
            if vote_form.cleaned_data["on_agenda"]
        ]
        chosen_notice = form.cleaned_data["notice"]
        try:
            meeting = services.meeting_record(
                user=request.user,
                organization=organization,
                body=form.cleaned_data["body"],
                held_on=form.cleaned_data["held_on"],
                place=form.cleaned_data["place"],
                chair=form.cleaned_data["chair"],
                minutes=form.cleaned_data["minutes"],
                attendance=form.attendance_inputs(),
                votes=votes,
                uploads=form.cleaned_data["files"],
                notice=next((n for n in notices if str(n.pk) == chosen_notice), None),
            )
        except services.TaskConflict as error:
            return conflict(request, str(error))
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The meeting was recorded."))
            return redirect(meeting)
    return render(
        request,
        "flows/meeting_form.html",
        {
            "form": form,
            "vote_forms": vote_forms,
            "organization": organization,
            "collectives": collectives,
            "body": body,
            "bodies": MeetingBody.choices,
            "roster": roster,
            "proxies_allowed": proxies_allowed,
            "sheet_problems": sheet_problems,
            "notices": notices,
            "ways": AttendanceWay.choices,
            "evidence_accept": ACCEPT_ATTRIBUTE,
        },
        status=status,
    )


def _posted_initial(request, form) -> dict:
    initial = {name: request.POST.get(name, "") for name in ("body", "notice", "held_on", "place", "chair", "minutes")}
    initial["attendees"] = request.POST.getlist("attendees")
    for name in form.fields:
        if name.startswith(("way_", "holder_")) and name in request.POST:
            initial[name] = request.POST[name]
    return initial


def _vote_initial(request, matter: Matter) -> dict:
    prefix = f"m{matter.pk}-"
    return {
        name: request.POST.get(prefix + name)
        for name in ("on_agenda", "votes_for", "votes_against", "votes_abstain")
        if request.POST.get(prefix + name)
    }


@login_required
def sign_in_sheet_template(request):
    """The roster of a meeting body as a sign-in sheet (Excel) to print, sign, fill in and import."""
    collectives = _supervised_collectives(request.user)
    if not collectives:
        raise PermissionDenied
    organization, body = _meeting_place(request, collectives)
    roster = services.meeting_roster(organization=organization, body=body, on_date=timezone.localdate())
    title = f"{organization} · {MeetingBody(body).label}"
    content = sign_in_sheet.sheet_template(roster=roster, title=title)
    return FileResponse(
        iter([content]),
        as_attachment=True,
        filename=f"sign-in-{organization.code}-{body}.xlsx",
        content_type=XLSX_CONTENT_TYPE,
    )


def _notice_collectives(user):
    collectives = visible_organizations(user, kind=OrganizationKind.COLLECTIVE)
    return [org for org in collectives if can_act(user, org, services.NOTICE_ROLES)]


@login_required
def meeting_notice_create(request):
    """Post the notice of a meeting (time, place, agenda) on the village's public board."""
    collectives = _notice_collectives(request.user)
    if not collectives:
        raise PermissionDenied
    organization, body = _meeting_place(request, collectives)
    candidates = [
        matter
        for matter in Matter.objects.filter(organization=organization, status=MatterStatus.IN_PROGRESS)
        if services.step_for_meeting(matter, body) in matter.required_steps
    ]
    form = MeetingNoticeForm(data=request.POST or None, matters=candidates, initial={"body": body})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            chosen = set(form.cleaned_data["matters"])
            try:
                notice = services.meeting_notice_post(
                    user=request.user,
                    organization=organization,
                    body=form.cleaned_data["body"],
                    meets_at=form.cleaned_data["meets_at"],
                    place=form.cleaned_data["place"],
                    agenda=form.cleaned_data["agenda"],
                    matters=[matter for matter in candidates if str(matter.pk) in chosen],
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, _("The meeting notice is on the village's public board."))
                return redirect(notice)
    return render(
        request,
        "flows/meeting_notice_form.html",
        {
            "form": form,
            "organization": organization,
            "collectives": collectives,
            "body": body,
            "bodies": MeetingBody.choices,
            "notices": visible(
                request.user, MeetingNotice.objects.select_related("organization").filter(organization=organization)
            )[:20],
        },
        status=status,
    )


@login_required
def meeting_detail(request, pk: int):
    meeting = get_for_user(
        request.user,
        Meeting.objects.select_related("organization", "recorded_by").prefetch_related(
            "attendees", Prefetch("decisions__matter")
        ),
        pk,
    )
    attendance = list(meeting.attendance.select_related("member", "proxy_holder").prefetch_related("authorisations"))
    return render(
        request,
        "flows/meeting_detail.html",
        {
            "meeting": meeting,
            "evidence": meeting.evidence.filter(attendance__isnull=True),
            "attendance": attendance,
            "ways": {way: sum(1 for row in attendance if row.way == way) for way in AttendanceWay.values},
        },
    )


@login_required
@require_POST
def objection_handle(request, pk: int):
    objection = get_for_user(
        request.user,
        Objection.objects.select_related("notice__organization", "notice__matter"),
        pk,
        "notice__organization",
    )
    if not can_act(request.user, objection.notice.organization, {Role.VILLAGE_SUPERVISOR}):
        raise PermissionDenied
    form = ObjectionHandlingForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Record how the objection was handled."))
        return redirect(objection.notice.matter)
    try:
        services.objection_handle(user=request.user, objection_id=objection.pk, handling=form.cleaned_data["handling"])
    except services.TaskConflict as error:
        return conflict(request, str(error))
    messages.success(request, _("The handling was recorded."))
    return redirect(objection.notice.matter)
