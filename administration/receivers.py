"""What the security log hears: logins, lockouts, refusals at the jurisdiction door, post, permission,
organisation and rule-table changes, and the events business apps announce (exports, downloads, reveals).

Changes to posts, accounts, organisations and rules are logged when a request makes them (an
administrator's page, or the maintenance superuser in the Django admin); the services here log their own
actions, and the command-line tools theirs, so seeding and tests do not fill the log.
"""

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from organizations.models import MeetingRule, Organization, Post, RuleBand, RuleVersion
from organizations.signals import jurisdiction_refused, security_event
from protection.addresses import client_address

from .log import current_request, mark_refusal_logged, security_log
from .models import EventKind, Outcome, TrackedSession

User = get_user_model()
SESSION_STARTED_KEY = "security_session_started_at"


def _username_of(credentials) -> str:
    return str((credentials or {}).get("username", ""))[:150]


@receiver(user_logged_in, dispatch_uid="security_log_login")
def log_login(sender, request, user, **kwargs):
    if request is None:
        return
    security_log(kind=EventKind.LOGIN, actor=user, description=_("Signed in with a password."), request=request)
    if hasattr(request, "session"):
        request.session[SESSION_STARTED_KEY] = timezone.now().isoformat()
        if request.session.session_key is None:
            request.session.save()
        TrackedSession.objects.update_or_create(
            session_key=request.session.session_key,
            defaults={
                "user": user,
                "started_at": timezone.now(),
                "address": client_address(request) or None,
                "user_agent": request.META.get("HTTP_USER_AGENT", "")[:200],
            },
        )


@receiver(user_login_failed, dispatch_uid="security_log_login_failed")
def log_login_failed(sender, credentials, request=None, **kwargs):
    username = _username_of(credentials)
    locked = getattr(request, "axes_locked_out", False)
    description = (
        _("Login refused: the account or address is locked out.") if locked else _("Wrong username or password.")
    )
    security_log(
        kind=EventKind.LOGIN_FAILED,
        outcome=Outcome.REFUSED if locked else Outcome.FAILURE,
        actor_name=username,
        organization=_organization_of_username(username),
        description=description,
        request=request,
    )


def _organization_of_username(username: str):
    post = Post.objects.filter(user__username=username).select_related("organization").first()
    return post.organization if post else None


@receiver(user_logged_out, dispatch_uid="security_log_logout")
def log_logout(sender, request, user, **kwargs):
    if user is None:
        return
    security_log(kind=EventKind.LOGOUT, actor=user, description=_("Signed out."), request=request)
    if request is not None and getattr(request, "session", None) is not None and request.session.session_key:
        TrackedSession.objects.filter(session_key=request.session.session_key).delete()


@receiver(user_locked_out, dispatch_uid="security_log_lockout")
def log_lockout(sender, request, username, ip_address, **kwargs):
    security_log(
        kind=EventKind.LOCKOUT,
        outcome=Outcome.REFUSED,
        actor_name=str(username or "")[:150],
        organization=_organization_of_username(username or ""),
        description=_("Too many failed logins: %(account)s locked out (address %(address)s).")
        % {"account": username or "—", "address": ip_address or "—"},
        request=request,
        address=client_address(request) if request is not None else ip_address,
    )


@receiver(jurisdiction_refused, dispatch_uid="security_log_refusal")
def log_refusal(sender, user, outcome, what, **kwargs):
    mark_refusal_logged()
    if outcome == "not_found":
        description = _("Not found within the jurisdiction: %(what)s") % {"what": what}
    else:
        description = _("Action outside the jurisdiction or role refused: %(what)s") % {"what": what}
    security_log(kind=EventKind.REFUSED, outcome=Outcome.REFUSED, actor=user, description=description)


@receiver(security_event, dispatch_uid="security_log_business_event")
def log_business_event(
    sender, kind, description, outcome=Outcome.SUCCESS, actor=None, obj=None, request=None, **kwargs
):
    security_log(kind=kind, description=description, outcome=outcome, actor=actor, obj=obj, request=request)


# --- changes made through a request --------------------------------------------------------------


def _in_request() -> bool:
    return current_request() is not None


@receiver(post_save, sender=Post, dispatch_uid="security_log_post_saved")
def log_post_saved(sender, instance, created, **kwargs):
    if _in_request():
        security_log(
            kind=EventKind.POST_GRANTED,
            description=(_("Post granted: %(post)s") if created else _("Post changed: %(post)s")) % {"post": instance},
            obj=instance,
            organization=instance.organization,
        )


@receiver(post_delete, sender=Post, dispatch_uid="security_log_post_deleted")
def log_post_deleted(sender, instance, **kwargs):
    if _in_request():
        security_log(
            kind=EventKind.POST_REVOKED,
            description=_("Post revoked: %(post)s") % {"post": instance},
            organization=instance.organization,
        )


@receiver(post_save, sender=Organization, dispatch_uid="security_log_organization")
def log_organization(sender, instance, created, **kwargs):
    if _in_request():
        text = _("Organisation created: %(name)s") if created else _("Organisation changed: %(name)s")
        security_log(
            kind=EventKind.ORGANIZATION_CHANGED,
            description=text % {"name": instance},
            obj=instance,
            organization=instance,
        )


def log_rule_change(sender, instance, **kwargs):
    if _in_request():
        deleted = "created" not in kwargs
        action = _("deleted") if deleted else (_("created") if kwargs["created"] else _("changed"))
        security_log(
            kind=EventKind.RULE_CHANGED,
            description=_("%(model)s %(action)s: %(row)s")
            % {"model": sender._meta.verbose_name, "action": action, "row": instance},
            obj=None if deleted else instance,
        )


for rule_model in (RuleVersion, RuleBand, MeetingRule):
    post_save.connect(log_rule_change, sender=rule_model, dispatch_uid=f"security_log_rule_{rule_model.__name__}")
    post_delete.connect(log_rule_change, sender=rule_model, dispatch_uid=f"security_log_rule_del_{rule_model.__name__}")


PRIVILEGE_FLAGS = ("is_superuser", "is_staff", "is_active")


@receiver(pre_save, sender=User, dispatch_uid="security_log_user_flags_before")
def remember_user_flags(sender, instance, update_fields=None, **kwargs):
    if not _in_request() or instance.pk is None:
        return
    if update_fields is not None and not set(update_fields) & set(PRIVILEGE_FLAGS):
        return
    instance._flags_before = sender._default_manager.filter(pk=instance.pk).values(*PRIVILEGE_FLAGS).first() or {}


@receiver(post_save, sender=User, dispatch_uid="security_log_user_flags")
def log_user_flags(sender, instance, created, **kwargs):
    if not _in_request():
        return
    if created:
        security_log(
            kind=EventKind.USER_CHANGED,
            description=_("Account created: %(account)s") % {"account": instance.get_username()},
            obj=instance,
        )
        return
    before = getattr(instance, "_flags_before", None)
    if not before:
        return
    changed = [flag for flag in PRIVILEGE_FLAGS if before.get(flag) != getattr(instance, flag)]
    if changed:
        security_log(
            kind=EventKind.PERMISSION_CHANGED,
            description=_("Account %(account)s: %(changes)s")
            % {
                "account": instance.get_username(),
                "changes": ", ".join(f"{flag}={getattr(instance, flag)}" for flag in changed),
            },
            obj=instance,
        )


def log_user_m2m(sender, instance, action, pk_set, **kwargs):
    if _in_request() and action in ("post_add", "post_remove", "post_clear"):
        security_log(
            kind=EventKind.PERMISSION_CHANGED,
            description=_("Account %(account)s: %(relation)s %(action)s %(items)s")
            % {
                "account": getattr(instance, "username", instance),
                "relation": sender._meta.object_name,
                "action": action.removeprefix("post_"),
                "items": sorted(pk_set or []),
            },
        )


m2m_changed.connect(log_user_m2m, sender=User.groups.through, dispatch_uid="security_log_groups")
m2m_changed.connect(log_user_m2m, sender=User.user_permissions.through, dispatch_uid="security_log_permissions")
