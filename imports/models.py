"""Import jobs (an uploaded workbook, its dry run and its confirmation) and the confirmed register baselines."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    COUNTY = "county", _("Everything in one workbook (tree and registers)")
    TREE = "tree", _("Administrative tree")
    MEMBERS = "members", _("Households and members")
    ASSETS = "assets", _("Asset cards")
    RESOURCES = "resources", _("Resource cards")
    CONTRACTS = "contracts", _("Contracts and payment schedules")
    SHARES = "shares", _("Share set-up and allocations")
    ACCOUNTS = "accounts", _("Fund accounts and opening balances")
    # The system administrator's: accounts and their business posts (三员分立).
    USERS = "users", _("Accounts and posts")


class ImportStatus(models.TextChoices):
    CHECKING = "checking", _("Being checked")
    CHECKED = "checked", _("Checked: ready to confirm")
    REJECTED = "rejected", _("Problems found: nothing imported")
    APPLYING = "applying", _("Being imported")
    APPLIED = "applied", _("Imported")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    """One uploaded workbook: checked in a dry run, written only when the administrator confirms it."""

    kind = models.CharField(_("kind"), max_length=20, choices=ImportKind.choices)
    # The organisation of the county administrator's post the import is made under: every row must lie below it.
    scope = models.ForeignKey(
        "organizations.Organization", verbose_name=_("for"), on_delete=models.PROTECT, related_name="import_jobs"
    )
    file = models.FileField(_("workbook"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    # Moved by the dry run and the import through QuerySet.update (the log covers only what the file is
    # and who confirmed it, documents/coverage.py).
    status = models.CharField(_("status"), max_length=20, choices=ImportStatus.choices, default=ImportStatus.CHECKING)
    progress = models.PositiveSmallIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    # [{"sheet", "row", "column", "message"}], the first ERRORS_KEPT of them; error_count counts all.
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    # {"counts": {sheet: {"create": n, "update": n, "unchanged": n}},
    #  "changes": [{"sheet", "row", "action", "label", "fields"}]}
    summary = models.JSONField(default=dict, blank=True)
    failure = models.TextField(blank=True)
    # Moved with the progress: a job whose worker shows no sign of life for JOB_REQUEUE_SECONDS is queued again.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    applied_at = models.DateTimeField(_("imported at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self):
        return f"{self.get_kind_display()} {self.original_name}"

    @property
    def finished(self) -> bool:
        return self.status not in (ImportStatus.CHECKING, ImportStatus.APPLYING)


class Register(models.TextChoices):
    MEMBERS = "members", _("Member register")
    ASSETS = "assets", _("Asset register")
    RESOURCES = "resources", _("Resource register")
    CONTRACTS = "contracts", _("Contract register")
    SHARES = "shares", _("Share register")
    ACCOUNTS = "accounts", _("Fund accounts")


class RegisterBaseline(models.Model):
    """A register of a collective whose imported baseline is confirmed (Jilin measures): from then on it
    changes only through matters or recorded correction requests, never through another import."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("collective"),
        on_delete=models.PROTECT,
        related_name="register_baselines",
    )
    register = models.CharField(_("register"), max_length=20, choices=Register.choices)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(_("confirmed at"), auto_now_add=True)

    class Meta:
        ordering = ["organization", "register"]
        constraints = [models.UniqueConstraint(fields=["organization", "register"], name="unique_register_baseline")]
        verbose_name = _("register baseline")
        verbose_name_plural = _("register baselines")

    def __str__(self):
        return f"{self.organization} {self.get_register_display()}"
