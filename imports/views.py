"""The import pages: templates to download, the upload, the dry-run report, the confirmation, the baselines,
and the security administrator's initial passwords for an import's accounts.

County administrators open them for the registers (IMPORT_ROLES), system administrators for accounts and
posts; each sees only the kinds and jobs that are theirs, and a job or a collective outside the organisation
of their post is a 404 (organizations/jurisdiction.py).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from administration.services import BUSINESS_ROLES, require_administrator
from organizations.jurisdiction import get_for_user
from organizations.models import Organization, OrganizationKind, Post, Role
from project.jobs import enqueue
from registers.exports import XLSX_CONTENT_TYPE

from . import services, tasks
from .forms import PasswordsAgainForm, UploadForm
from .importers import IMPORTERS
from .models import ImportJob, ImportKind, Register, RegisterBaseline
from .workbooks import error_report, initial_password_sheet, template_workbook

ERRORS_PER_PAGE = 200


def _scopes(request, roles=None) -> list[Organization]:
    scopes = services.import_scopes(request.user, roles)
    if not scopes:
        raise PermissionDenied
    return scopes


def _under(scopes, lookup: str) -> Q:
    condition = Q(pk__in=[])
    for scope in scopes:
        condition |= Q(**{lookup: scope.path})
    return condition


def _jobs_of(scopes, kinds):
    jobs = ImportJob.objects.filter(_under(scopes, "scope__path__startswith"), kind__in=kinds)
    return jobs.select_related("scope", "created_by")


def _job(request, pk: int) -> ImportJob:
    scopes = _scopes(request)
    jobs = _jobs_of(scopes, services.import_kinds(request.user)).select_related("applied_by")
    if not jobs.filter(pk=pk).exists():
        # Refused (and announced) by the door that covers the job's kind.
        get_for_user(request.user, ImportJob.objects.none(), pk, field="scope")
    job = jobs.get(pk=pk)
    services.require_import(request.user, job.scope, job.kind)
    return job


@login_required
def home(request):
    scopes = _scopes(request)
    kinds = services.import_kinds(request.user)
    form = UploadForm(request.POST or None, request.FILES or None, scopes=scopes, kinds=kinds)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_upload(
                user=request.user,
                scope=form.cleaned_data["scope"],
                kind=form.cleaned_data["kind"],
                uploaded=form.cleaned_data["file"],
            )
        except ValidationError as error:
            form.add_error("file" if not hasattr(error, "error_dict") else None, error)
        else:
            enqueue(tasks.check_import, job.pk)
            return redirect("imports:job_detail", pk=job.pk)
    context = {
        "form": form,
        "kinds": [(kind, ImportKind(kind).label) for kind in kinds],
        "jobs": _jobs_of(scopes, kinds)[:30],
        "baselines": bool(services.import_scopes(request.user, services.IMPORT_ROLES)),
    }
    return render(request, "imports/home.html", context, status=400 if form.errors else 200)


@login_required
def template(request, kind: str):
    _scopes(request)
    importer = IMPORTERS.get(kind)
    if importer is None or kind not in services.import_kinds(request.user):
        raise Http404
    content = template_workbook(importer.sheets, str(importer.title))
    response = FileResponse(
        iter([content]), as_attachment=True, filename=f"import-{kind}.xlsx", content_type=XLSX_CONTENT_TYPE
    )
    response["Content-Length"] = str(len(content))
    return response


@login_required
def job_detail(request, pk: int):
    job = _job(request, pk)
    errors = Paginator(job.errors, ERRORS_PER_PAGE).get_page(request.GET.get("page"))
    counts = job.summary.get("counts", {}) if job.summary else {}
    context = {
        "job": job,
        "errors": errors,
        "more_errors": max(job.error_count - len(job.errors), 0),
        "counts": counts,
        "changes": job.summary.get("changes", []) if job.summary else [],
        "changed_total": sum(n.get("create", 0) + n.get("update", 0) for n in counts.values()),
    }
    return render(request, "imports/job.html", context)


@login_required
def job_status(request, pk: int):
    job = _job(request, pk)
    return JsonResponse(
        {"status": job.status, "label": job.get_status_display(), "progress": job.progress, "finished": job.finished}
    )


@login_required
@require_POST
def job_confirm(request, pk: int):
    job = _job(request, pk)
    try:
        services.import_confirm(job=job, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        enqueue(tasks.apply_import, job.pk, request.user.pk)
    return redirect("imports:job_detail", pk=job.pk)


@login_required
def job_report(request, pk: int):
    job = _job(request, pk)
    with job.file.open("rb") as file:
        report = error_report(file, job.errors, max(job.error_count - len(job.errors), 0))
    return FileResponse(
        report, as_attachment=True, filename=f"import-{job.pk}-report.xlsx", content_type=XLSX_CONTENT_TYPE
    )


def _collective(request, scopes) -> Organization:
    collectives = Organization.objects.filter(_under(scopes, "path__startswith"), kind=OrganizationKind.COLLECTIVE)
    try:
        return collectives.get(pk=int(request.POST.get("organization", "")))
    except (ValueError, Organization.DoesNotExist) as error:
        raise Http404 from error


@login_required
def baselines(request):
    scopes = _scopes(request, services.IMPORT_ROLES)
    if request.method == "POST":
        organization = _collective(request, scopes)
        try:
            services.baseline_confirm(
                user=request.user, organization=organization, register=request.POST.get("register", "")
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("The baseline is confirmed: the register now changes only through matters and correction requests."),
            )
        return redirect("imports:baselines")
    collectives = Organization.objects.filter(_under(scopes, "path__startswith"), kind=OrganizationKind.COLLECTIVE)
    collectives = collectives.order_by("path")
    page = Paginator(collectives, 50).get_page(request.GET.get("page"))
    confirmed = {
        (baseline.organization_id, baseline.register): baseline
        for baseline in RegisterBaseline.objects.filter(organization__in=list(page)).select_related("confirmed_by")
    }
    rows = [
        (
            collective,
            [(register, label, confirmed.get((collective.pk, register))) for register, label in Register.choices],
        )
        for collective in page
    ]
    return render(request, "imports/baselines.html", {"rows": rows, "page": page, "registers": Register.choices})


# --- the security administrator: initial passwords of an import's accounts -------------------------
# Here rather than in administration/, which sits below the importer and may not read its jobs.


@login_required
def password_jobs(request):
    post = require_administrator(request.user, Role.SECURITY_ADMIN)
    jobs = Paginator(services.password_jobs(post), 50).get_page(request.GET.get("page"))
    return render(request, "imports/password_jobs.html", {"post": post, "jobs": jobs})


def _password_job(post, pk: int) -> ImportJob:
    """Any job of the security administrator's area (a wrong kind is explained, not hidden); others are a 404."""
    jobs = ImportJob.objects.filter(scope__path__startswith=post.organization.path)
    return get_object_or_404(jobs.select_related("scope", "applied_by"), pk=pk)


def _password_page(request, post, job, *, message="", again_form=None, status=200):
    context = {"post": post, "job": job, "message": message, "again_form": again_form or PasswordsAgainForm()}
    try:
        services.require_password_job(job)
    except ValidationError as error:
        context["problem"] = " ".join(error.messages)
        if error.code == "not_accounts":
            # Not the security administrator's to read: only the refusal, not the job.
            return render(request, "imports/initial_passwords.html", {"problem": context["problem"]}, status=404)
        status = 400 if request.method == "POST" else status
    else:
        accounts = list(services.job_accounts(post, job))
        waiting = [account for account in accounts if not account.has_usable_password()]
        issued = [account for account in accounts if account.has_usable_password() and _owes_change(account)]
        context.update(
            accounts=len(accounts),
            waiting=len(waiting),
            issued=len(issued),
            chosen=len(accounts) - len(waiting) - len(issued),
        )
    return render(request, "imports/initial_passwords.html", context, status=status)


def _owes_change(account) -> bool:
    profile = getattr(account, "account_profile", None)
    return profile is not None and profile.must_change_password


def _sheet_response(request, job: ImportJob, issued: list[tuple]) -> HttpResponse:
    places: dict[int, list[str]] = {}
    posts = Post.objects.filter(user__in=[account for account, _password in issued], role__in=BUSINESS_ROLES)
    for held in posts.select_related("organization").order_by("organization__path", "pk"):
        places.setdefault(held.user_id, []).append(held.organization.name)
    rows = [
        (account.username, f"{account.last_name}{account.first_name}", "、".join(places.get(account.pk, [])), password)
        for account, password in issued
    ]
    issued_line = _(
        "Issued by %(who)s on %(when)s for %(count)s accounts. The sheet is kept nowhere: it cannot be "
        "downloaded again."
    ) % {
        "who": request.user.get_username(),
        "when": date_format(timezone.localtime(), "Y-m-d H:i"),
        "count": len(rows),
    }
    title = _("One-time passwords of import #%(number)s (%(name)s)") % {"number": job.pk, "name": job.original_name}
    content = initial_password_sheet(rows, title=title, issued=issued_line)
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="initial-passwords-{job.pk}.xlsx"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def initial_passwords(request, pk: int):
    """The job's accounts and their initial passwords; a POST issues them once, as a sheet to download."""
    post = require_administrator(request.user, Role.SECURITY_ADMIN)
    job = _password_job(post, pk)
    if request.method != "POST":
        return _password_page(request, post, job)
    try:
        issued = services.job_initial_passwords(actor=request.user, job=job)
    except ValidationError as error:
        return _password_page(request, post, job, message=" ".join(error.messages), status=409)
    return _sheet_response(request, job, issued)


@login_required
@require_POST
def initial_passwords_again(request, pk: int):
    """A fresh, explicit reset of the job's passwords not yet changed (a lost sheet): a new sheet, logged again."""
    post = require_administrator(request.user, Role.SECURITY_ADMIN)
    job = _password_job(post, pk)
    form = PasswordsAgainForm(request.POST)
    if not form.is_valid():
        return _password_page(request, post, job, again_form=form, status=400)
    try:
        issued = services.job_initial_passwords(actor=request.user, job=job, again=True)
    except ValidationError as error:
        return _password_page(request, post, job, message=" ".join(error.messages), status=409)
    return _sheet_response(request, job, issued)
