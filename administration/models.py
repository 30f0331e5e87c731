"""The security log, the security administrator's policy, and what each account carries for authentication."""

import datetime

import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

# Floors and ceilings of 等保 2.0 level 3: the security administrator may be stricter, never looser.
MIN_PASSWORD_LENGTH = 10
MIN_PASSWORD_HISTORY = 5
MAX_FAILURE_LIMIT = 5
MAX_IDLE_MINUTES = 30
MAX_ABSOLUTE_HOURS = 12
RETENTION_FLOOR_DAYS = 180


class EventKind(models.TextChoices):
    LOGIN = "login", _("Login")
    LOGIN_FAILED = "login_failed", _("Login failed")
    LOCKOUT = "lockout", _("Account or address locked out")
    UNLOCK = "unlock", _("Lockout lifted")
    LOGOUT = "logout", _("Logout")
    SESSION_EXPIRED = "session_expired", _("Session expired")
    SESSION_ENDED = "session_ended", _("Session ended by the security administrator")
    PASSWORD_CHANGED = "password_changed", _("Password changed")
    PASSWORD_RESET = "password_reset", _("Initial password set")
    MFA_ENROLLED = "mfa_enrolled", _("Two-factor login set up")
    MFA_VERIFIED = "mfa_verified", _("Two-factor code accepted")
    MFA_FAILED = "mfa_failed", _("Two-factor code refused")
    MFA_RESET = "mfa_reset", _("Two-factor login reset")
    REFUSED = "refused", _("Access refused")
    USER_CHANGED = "user_changed", _("Account created or changed")
    PERMISSION_CHANGED = "permission_changed", _("Permissions changed")
    POST_GRANTED = "post_granted", _("Post granted")
    POST_REVOKED = "post_revoked", _("Post revoked")
    ORGANIZATION_CHANGED = "organization_changed", _("Organisation created or changed")
    RULE_CHANGED = "rule_changed", _("Rule table changed")
    POLICY_CHANGED = "policy_changed", _("Security policy changed")
    EXPORT = "export", _("Export")
    DOWNLOAD = "download", _("Download")
    REVEAL = "reveal", _("Personal data shown in full")
    ABUSE = "abuse", _("Rate limit reached")
    LOG_EXPORTED = "log_exported", _("Security log exported")
    LOG_PURGED = "log_purged", _("Old security log entries purged")
    BACKUP = "backup", _("Backup or restore")


class Outcome(models.TextChoices):
    SUCCESS = "success", _("Success")
    FAILURE = "failure", _("Failure")
    REFUSED = "refused", _("Refused")


class AppendOnly(Exception):
    """Security log entries are never changed, and deleted only by the audit administrator's purge."""


class SecurityEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly("security log entries cannot be changed")

    def delete(self):
        raise AppendOnly("security log entries are removed only by the purge of old entries")

    def purge(self):
        """Delete these rows (the purge service checks they are past the retention period)."""
        return super().delete()


class SecurityEvent(models.Model):
    """One entry of the security log (Jilin measures: date, time, actor, type, description, outcome)."""

    at = models.DateTimeField(_("at"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The name typed at a failed login, or the actor's username when the event was written.
    actor_name = models.CharField(_("account"), max_length=150, blank=True)
    kind = models.CharField(_("type"), max_length=30, choices=EventKind.choices, db_index=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    description = models.CharField(_("description"), max_length=500)
    address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    # Where the event belongs, for the audit administrator's scope: the actor's (or the object's) place.
    organization = models.ForeignKey(
        "organizations.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = SecurityEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        # The security log's keyset order within an administrator's part of the tree.
        indexes = [models.Index(fields=["organization", "at", "id"], name="security_event_place_at")]
        verbose_name = _("security log entry")
        verbose_name_plural = _("security log")
        triggers = [
            # Append-only in the database itself: no UPDATE ever, no DELETE of an entry younger than 180 days.
            pgtrigger.Protect(name="security_event_never_changes", operation=pgtrigger.Update),
            pgtrigger.Protect(
                name="security_event_kept_180_days",
                operation=pgtrigger.Delete,
                condition=pgtrigger.Condition("OLD.at > NOW() - INTERVAL '180 days'"),
            ),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.kind} {self.outcome}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnly("security log entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("security log entries are removed only by the purge of old entries")


class SecurityPolicy(models.Model):
    """The security administrator's password, lockout and session policy: one row, versioned by history."""

    min_password_length = models.PositiveIntegerField(
        _("minimum password length"), default=MIN_PASSWORD_LENGTH, validators=[MinValueValidator(MIN_PASSWORD_LENGTH)]
    )
    password_history = models.PositiveIntegerField(
        _("earlier passwords that may not be reused"),
        default=MIN_PASSWORD_HISTORY,
        validators=[MinValueValidator(MIN_PASSWORD_HISTORY), MaxValueValidator(24)],
    )
    failure_limit = models.PositiveIntegerField(
        _("failed logins before a lockout"),
        default=MAX_FAILURE_LIMIT,
        validators=[MinValueValidator(3), MaxValueValidator(MAX_FAILURE_LIMIT)],
    )
    lockout_minutes = models.PositiveIntegerField(
        _("first lockout (minutes; doubles with each lockout of the day)"),
        default=15,
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)],
    )
    idle_minutes = models.PositiveIntegerField(
        _("idle timeout (minutes)"),
        default=MAX_IDLE_MINUTES,
        validators=[MinValueValidator(5), MaxValueValidator(MAX_IDLE_MINUTES)],
    )
    absolute_hours = models.PositiveIntegerField(
        _("absolute session limit (hours)"),
        default=MAX_ABSOLUTE_HOURS,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_ABSOLUTE_HOURS)],
    )
    changed_at = models.DateTimeField(auto_now=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("security policy")
        verbose_name_plural = _("security policy")

    def __str__(self):
        return str(_("Security policy"))

    @property
    def idle_timeout(self) -> datetime.timedelta:
        return datetime.timedelta(minutes=self.idle_minutes)

    @property
    def absolute_timeout(self) -> datetime.timedelta:
        return datetime.timedelta(hours=self.absolute_hours)


class AccountProfile(models.Model):
    """What authentication keeps of an account beyond Django's user: its place, and a password change it owes."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_profile")
    # The place of the system administrator who created the account: their scope covers it before it holds posts.
    home_organization = models.ForeignKey(
        "organizations.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    must_change_password = models.BooleanField(_("must change the password at the next login"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self):
        return str(self.user)


class PasswordHistory(models.Model):
    """The hashes of an account's earlier passwords: the newest few may not be chosen again."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    password = models.CharField(max_length=128)
    set_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-set_at", "-pk"]

    def __str__(self):
        return f"{self.user} {self.set_at:%Y-%m-%d}"


class TrackedSession(models.Model):
    """A signed-in session, so that the security administrator can see and end it."""

    session_key = models.CharField(max_length=40, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField()
    address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self):
        return f"{self.user} {self.started_at:%Y-%m-%d %H:%M}"


def validate_retention(days: int) -> None:
    if days < RETENTION_FLOOR_DAYS:
        raise ValidationError(_("The security log is kept at least %(days)s days.") % {"days": RETENTION_FLOOR_DAYS})
