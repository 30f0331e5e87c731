"""Pages of the three administrators, and the pages every account has (password, two-factor login)."""

import functools

import django_otp
from axes.models import AccessAttempt
from django.contrib import messages
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from documents.models import LedgerKind
from listing.keyset import Sorting, SortKey, bounded_count, page_from_request
from organizations.models import Organization, Post, Role
from registers.exports import Column, xlsx_response

from . import log, selectors, services
from .forms import (
    AccountForm,
    OrganizationForm,
    PolicyForm,
    PostForm,
    PurgeForm,
    SecurityLogForm,
    TokenForm,
    UnlockForm,
)
from .mfa import confirmed_devices, device_qr, device_secret, mfa_required, pending_device
from .models import AccountProfile, EventKind, Outcome, TrackedSession
from .policy import current_policy

User = get_user_model()
PAGE_SIZE = 50
# Keyset pages (listing.keyset): accounts by username, the log newest first; the primary key breaks ties.
ACCOUNT_SORTING = Sorting(keys=[SortKey("username", "username")], default="username")
EVENT_SORTING = Sorting(keys=[SortKey("at", "at")], default="-at")


def _page(request, queryset, sorting: Sorting):
    """The keyset page the URL asks for; ``page.extra["found"]`` counts the rows up to "1,000+"."""
    page = page_from_request(request, queryset.order_by(), sorting=sorting, size=PAGE_SIZE)
    page.extra["found"] = bounded_count(queryset)
    return page


def administrator(role: str):
    """The view is for one kind of administrator; it receives their post."""

    def decorate(view):
        @login_required
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            return view(request, services.require_administrator(request.user, role), *args, **kwargs)

        return wrapped

    return decorate


def _next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


@login_required
def home(request):
    """Where a login lands: each administrator on their own work, everyone else in the inbox."""
    for role, name in (
        (Role.SYSTEM_ADMIN, "administration:accounts"),
        (Role.SECURITY_ADMIN, "administration:policy"),
        (Role.AUDIT_ADMIN, "administration:security_log"),
    ):
        if services.administrator_post(request.user, role):
            return redirect(name)
    return redirect("flows:inbox")


# --- system administrator ---------------------------------------------------------------------


def _places(post):
    return Organization.objects.filter(path__startswith=post.organization.path).select_related("parent")


@administrator(Role.SYSTEM_ADMIN)
def organizations(request, post):
    form = OrganizationForm(request.POST or None, parents=_places(post).exclude(kind="collective"))
    if request.method == "POST" and form.is_valid():
        try:
            organization = services.organization_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": organization})
            return redirect("administration:organizations")
    return render(
        request,
        "administration/organizations.html",
        {"post": post, "places": _places(post), "form": form},
        status=400 if form.errors else 200,
    )


@administrator(Role.SYSTEM_ADMIN)
def accounts(request, post):
    form = AccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        account, password = services.account_create(actor=request.user, **form.cleaned_data)
        return render(request, "administration/initial_password.html", {"account": account, "password": password})
    page = _page(request, services.accounts_in_scope(post).prefetch_related("posts__organization"), ACCOUNT_SORTING)
    return render(
        request,
        "administration/accounts.html",
        {"post": post, "page": page, "form": form},
        status=400 if form.errors else 200,
    )


@administrator(Role.SYSTEM_ADMIN)
def account_detail(request, post, pk: int):
    account = get_object_or_404(services.accounts_in_scope(post), pk=pk)
    form = PostForm(request.POST or None, organizations=_places(post))
    if request.method == "POST" and form.is_valid():
        try:
            services.post_grant(actor=request.user, account=account, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("The post was granted."))
            return redirect("administration:account_detail", pk=account.pk)
    context = {
        "post": post,
        "account": account,
        "posts": account.posts.select_related("organization"),
        "form": form,
        "is_administrator": services.is_administrator(account),
        "is_self": account.pk == request.user.pk,
    }
    return render(request, "administration/account_detail.html", context, status=400 if form.errors else 200)


@administrator(Role.SYSTEM_ADMIN)
@require_POST
def post_revoke(request, post, pk: int):
    revoked = get_object_or_404(Post.objects.select_related("user"), pk=pk)
    services.post_revoke(actor=request.user, post_id=revoked.pk)
    messages.success(request, _("The post was revoked."))
    return redirect("administration:account_detail", pk=revoked.user_id)


@administrator(Role.SYSTEM_ADMIN)
@require_POST
def account_active(request, post, pk: int):
    account = get_object_or_404(services.accounts_in_scope(post), pk=pk)
    services.account_set_active(actor=request.user, account=account, active=request.POST.get("active") == "1")
    messages.success(request, _("Saved."))
    return redirect("administration:account_detail", pk=account.pk)


# --- security administrator -------------------------------------------------------------------


@administrator(Role.SECURITY_ADMIN)
def policy(request, post):
    form = PolicyForm(request.POST or None, instance=current_policy())
    if request.method == "POST" and form.is_valid():
        services.policy_update(actor=request.user, **{name: form.cleaned_data[name] for name in services.POLICY_FIELDS})
        messages.success(request, _("The security policy was saved."))
        return redirect("administration:policy")
    return render(
        request, "administration/policy.html", {"post": post, "form": form}, status=400 if form.errors else 200
    )


@administrator(Role.SECURITY_ADMIN)
def lockouts(request, post):
    form = UnlockForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        released = services.lockout_release(actor=request.user, **form.cleaned_data)
        messages.success(request, _("Lockout lifted (%(count)s records).") % {"count": released})
        return redirect("administration:lockouts")
    attempts = AccessAttempt.objects.order_by("-attempt_time")[:200]
    limit = current_policy().failure_limit
    return render(
        request,
        "administration/lockouts.html",
        {"post": post, "attempts": attempts, "limit": limit, "form": form},
        status=400 if form.errors else 200,
    )


@administrator(Role.SECURITY_ADMIN)
def sessions(request, post):
    tracked = TrackedSession.objects.filter(user__in=services.accounts_in_scope(post)).select_related("user")
    return render(request, "administration/sessions.html", {"post": post, "sessions": tracked[:500]})


@administrator(Role.SECURITY_ADMIN)
@require_POST
def session_end(request, post, pk: int):
    services.session_end(actor=request.user, tracked_id=get_object_or_404(TrackedSession, pk=pk).pk)
    messages.success(request, _("The session was ended."))
    return redirect("administration:sessions")


@administrator(Role.SECURITY_ADMIN)
def security_accounts(request, post):
    accounts_page = _page(request, services.accounts_in_scope(post), ACCOUNT_SORTING)
    # Two queries for the page's accounts, not one per account.
    shown = [account.pk for account in accounts_page]
    with_device = set(TOTPDevice.objects.filter(confirmed=True, user_id__in=shown).values_list("user_id", flat=True))
    administrators = services.administrators_among(shown)
    for account in accounts_page:
        account.has_mfa = account.pk in with_device
        account.administrator = account.pk in administrators
    return render(request, "administration/security_accounts.html", {"post": post, "page": accounts_page})


@administrator(Role.SECURITY_ADMIN)
@require_POST
def mfa_reset(request, post, pk: int):
    account = get_object_or_404(services.accounts_in_scope(post), pk=pk)
    services.mfa_reset(actor=request.user, account=account)
    messages.success(request, _("Two-factor login of %(account)s was reset.") % {"account": account.get_username()})
    return redirect("administration:security_accounts")


@administrator(Role.SECURITY_ADMIN)
@require_POST
def password_reset(request, post, pk: int):
    account = get_object_or_404(services.accounts_in_scope(post), pk=pk)
    password = services.password_reset(actor=request.user, account=account)
    return render(request, "administration/initial_password.html", {"account": account, "password": password})


# --- audit administrator ----------------------------------------------------------------------


def _events(request, post):
    form = SecurityLogForm(request.GET)
    if not form.is_valid():
        return form, None
    return form, selectors.events_for(post, **form.cleaned_data)


@administrator(Role.AUDIT_ADMIN)
def security_log(request, post):
    form, events = _events(request, post)
    if events is None:
        return render(request, "administration/security_log.html", {"form": form, "page": None}, status=400)
    page = _page(request, events, EVENT_SORTING)
    return render(
        request,
        "administration/security_log.html",
        {"post": post, "form": form, "page": page, "purge_form": PurgeForm(), "query": request.GET.urlencode()},
    )


EVENT_COLUMNS = [
    Column(gettext_lazy("At"), lambda event: event.at),
    Column(gettext_lazy("Account"), lambda event: event.actor_name),
    Column(gettext_lazy("Type"), lambda event: event.get_kind_display()),
    Column(gettext_lazy("Outcome"), lambda event: event.get_outcome_display()),
    Column(gettext_lazy("Description"), lambda event: event.description),
    Column(gettext_lazy("Address"), lambda event: event.address or ""),
]


@administrator(Role.AUDIT_ADMIN)
def security_log_export(request, post):
    _form, events = _events(request, post)
    if events is None:
        raise PermissionDenied
    log.security_log(
        kind=EventKind.LOG_EXPORTED,
        description=_("Security log exported (%(query)s).") % {"query": request.GET.urlencode() or "—"},
        request=request,
    )
    return xlsx_response(
        rows=events.iterator(), columns=EVENT_COLUMNS, title=_("Security log"), filename="security-log"
    )


@administrator(Role.AUDIT_ADMIN)
def security_log_verify(request, post):
    checked, bad = selectors.security_log_check()
    return render(
        request,
        "administration/security_log_verify.html",
        {"post": post, "checked": checked, "bad": bad[:50], "bad_count": len(bad), "kind": LedgerKind.SECURITY},
    )


@administrator(Role.AUDIT_ADMIN)
@require_POST
def security_log_purge(request, post):
    form = PurgeForm(request.POST)
    if form.is_valid():
        try:
            purged = services.security_log_purge(actor=request.user, before=form.cleaned_data["before"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("%(count)s old entries purged.") % {"count": purged})
    else:
        messages.error(request, _("Choose a date."))
    return redirect("administration:security_log")


# --- every account ------------------------------------------------------------------------------


@login_required
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    profile = AccountProfile.objects.filter(user=request.user).first()
    if request.method == "POST" and form.is_valid():
        form.save()
        update_session_auth_hash(request, form.user)
        if profile is not None and profile.must_change_password:
            profile.must_change_password = False
            profile.save(update_fields=["must_change_password"])
        log.security_log(kind=EventKind.PASSWORD_CHANGED, description=_("Password changed."), request=request)
        messages.success(request, _("Your password was changed."))
        return redirect(_next(request, "/"))
    return render(
        request,
        "administration/password_change.html",
        {"form": form, "forced": profile is not None and profile.must_change_password, "next": _next(request, "")},
        status=400 if form.errors else 200,
    )


@login_required
def mfa_setup(request):
    """Set up TOTP: scan the code (or type the secret) into an authenticator app, then confirm with a code."""
    if confirmed_devices(request.user) and not request.user.is_verified():
        return redirect(f"{reverse('administration:mfa_verify')}?next={_next(request, '/')}")
    device = pending_device(request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            django_otp.login(request, device)
            log.security_log(kind=EventKind.MFA_ENROLLED, description=_("Two-factor login set up."), request=request)
            messages.success(request, _("Two-factor login is set up; from now on each login asks for a code."))
            return redirect(_next(request, "/"))
        log.security_log(
            kind=EventKind.MFA_FAILED,
            outcome=Outcome.FAILURE,
            description=_("Wrong code while setting up."),
            request=request,
        )
        form.add_error("token", _("That code is not right; check the time on your phone and try the next one."))
    context = {
        "form": form,
        "secret": device_secret(device),
        "qr": device_qr(device),
        "required": mfa_required(request.user),
        "has_device": bool(confirmed_devices(request.user)),
        "next": _next(request, ""),
    }
    return render(request, "administration/mfa_setup.html", context, status=400 if form.errors else 200)


@login_required
def mfa_verify(request):
    """The second step of a login: a code from the account's authenticator app."""
    devices = confirmed_devices(request.user)
    if not devices:
        return redirect("administration:mfa_setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = next((device for device in devices if device.verify_token(form.cleaned_data["token"])), None)
        if device is not None:
            django_otp.login(request, device)
            log.security_log(kind=EventKind.MFA_VERIFIED, description=_("Two-factor code accepted."), request=request)
            return redirect(_next(request, "/"))
        log.security_log(
            kind=EventKind.MFA_FAILED, outcome=Outcome.FAILURE, description=_("Wrong two-factor code."), request=request
        )
        form.add_error("token", _("That code is not right; try the one your app shows now."))
    return render(
        request,
        "administration/mfa_verify.html",
        {"form": form, "next": _next(request, "")},
        status=400 if form.errors else 200,
    )
