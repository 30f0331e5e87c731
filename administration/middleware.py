"""Security middleware: the security log's request context, session timeouts, and what a signed-in
account must do before anything else (change its password, set up or pass two-factor login)."""

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from . import log
from .mfa import mfa_required, user_has_device
from .models import EventKind, Outcome
from .policy import current_policy
from .receivers import SESSION_STARTED_KEY

LAST_SEEN_KEY = "security_last_seen_at"
# Pages an account may open while it still owes a password change or a two-factor check.
OPEN_URL_NAMES = frozenset(
    {
        "logout",
        "set_language",
        "administration:password_change",
        "administration:mfa_setup",
        "administration:mfa_verify",
    }
)


class SecurityLogMiddleware:
    """Holds the request for the security log, writes what it held once the view is done, and logs every 403
    that the jurisdiction door did not already log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = log.request_started(request)
        try:
            response = self.get_response(request)
            if response.status_code == 403 and not log.refusal_logged():
                log.security_log(
                    kind=EventKind.REFUSED,
                    outcome=Outcome.REFUSED,
                    description=_("Refused (403): %(method)s %(path)s")
                    % {"method": request.method, "path": request.path[:300]},
                )
        finally:
            log.request_finished(token)
        return response


def _is_open(request) -> bool:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return False
    return match.view_name in OPEN_URL_NAMES or request.path.startswith(settings.STATIC_URL)


def _moment(text):
    moment = parse_datetime(text) if isinstance(text, str) else None
    return moment


class SessionPolicyMiddleware:
    """Idle and absolute timeouts (policy of the security administrator), forced password change and MFA."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        expired = self._expired(request)
        if expired:
            log.security_log(kind=EventKind.SESSION_EXPIRED, actor=user, description=expired)
            logout(request)
            messages.info(request, _("Your session ended; please sign in again."))
            return redirect(f"{reverse('login')}?next={request.get_full_path()}")
        request.session[LAST_SEEN_KEY] = timezone.now().isoformat()
        if _is_open(request):
            return None
        profile = getattr(user, "account_profile", None)
        if profile is not None and profile.must_change_password:
            return redirect(f"{reverse('administration:password_change')}?next={request.get_full_path()}")
        if not user.is_verified():
            if user_has_device(user):
                return redirect(f"{reverse('administration:mfa_verify')}?next={request.get_full_path()}")
            if mfa_required(user):
                return redirect(f"{reverse('administration:mfa_setup')}?next={request.get_full_path()}")
        return None

    def _expired(self, request) -> str:
        policy = current_policy()
        now = timezone.now()
        started = _moment(request.session.get(SESSION_STARTED_KEY))
        last_seen = _moment(request.session.get(LAST_SEEN_KEY))
        if started is not None and now - started > policy.absolute_timeout:
            return _("Session ended after %(hours)s hours (absolute limit).") % {"hours": policy.absolute_hours}
        if last_seen is not None and now - last_seen > policy.idle_timeout + datetime.timedelta(seconds=1):
            return _("Session ended after %(minutes)s idle minutes.") % {"minutes": policy.idle_minutes}
        return ""
