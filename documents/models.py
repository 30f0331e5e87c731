"""Evidence files: what each step of a matter proves, fingerprinted on arrival."""

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


def evidence_path(instance, filename: str) -> str:
    # The server names stored files; the uploader's name is kept only as data.
    return f"evidence/{instance.matter_id}/{uuid.uuid4().hex}{instance.extension}"


class Evidence(models.Model):
    matter = models.ForeignKey("flows.Matter", on_delete=models.PROTECT, related_name="evidence")
    step = models.CharField(_("step"), max_length=40)
    step_record = models.ForeignKey(
        "flows.StepRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )
    meeting = models.ForeignKey(
        "flows.Meeting", null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )
    # The scanned written authorisation of one member's proxy at a meeting.
    attendance = models.ForeignKey(
        "flows.MeetingAttendance", null=True, blank=True, on_delete=models.PROTECT, related_name="authorisations"
    )
    file = models.FileField(upload_to=evidence_path)
    original_name = models.CharField(_("original name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=50)
    extension = models.CharField(max_length=10)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    sm3 = models.CharField(_("SM3"), max_length=64, blank=True)
    page_count = models.PositiveIntegerField(_("pages"), default=1)
    thumbnail = models.FileField(upload_to="thumbnails/", blank=True)
    # Position among the files of the same step, as the uploader ordered the pages.
    position = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["uploaded_at", "position", "pk"]
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")

    def __str__(self):
        return self.original_name

    def get_absolute_url(self):
        return reverse("documents:evidence_download", args=[self.pk])

    @property
    def step_label(self) -> str:
        """The name of the step this file proves (the code when it is not a spine step)."""
        from flows.models import Step

        return Step(self.step).label if self.step in Step.values else self.step


class LedgerKind(models.TextChoices):
    DECISION = "decision", _("Step decision")
    REGISTER = "register", _("Register change")
    FILE = "file", _("Archived file")
    DOSSIER = "dossier", _("Dossier")
    CORRECTION = "correction", _("Correction")
    SECURITY = "security", _("Security log entry")
    RECORD = "record", _("Record of a matter")
    DOCUMENT = "document", _("Printed document")
    ARCHIVE_CHECK = "archive_check", _("Archive check (四性检测)")


class LeafFormat(models.IntegerChoices):
    CHAIN = 0, _("Hash chain (before the transparency log)")
    LEAF = 1, _("Transparency log leaf")


class LedgerEntry(models.Model):
    """One leaf of the transparency log: every decision, record change and archived file.

    A step writes its leaf in its own transaction, with no lock and without reading the log: the leaf
    hash (RFC 9162: SHA-256 of 0x00 and the leaf data of documents/ledger.py) needs nothing of the
    entries before it. The sequencer later gives it its position ``seq`` (1-based; leaf index seq - 1)
    and adds it to the Merkle tree. Entries from before the tree (format CHAIN) keep their hash chain:
    entry_hash = SHA-256(seq | kind | object | payload_hash | prev_hash).
    """

    seq = models.PositiveBigIntegerField(unique=True, null=True, blank=True)
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    format = models.PositiveSmallIntegerField(choices=LeafFormat.choices, default=LeafFormat.LEAF)
    kind = models.CharField(max_length=20, choices=LedgerKind.choices)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40)
    # The object's primary key as a number, when it has one: the whole-log check walks records and
    # their latest leaves side by side in this order.
    object_pk = models.BigIntegerField(null=True, blank=True)
    matter = models.ForeignKey(
        "flows.Matter", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    payload = models.JSONField()
    payload_hash = models.CharField(max_length=64)
    payload_sm3 = models.CharField(max_length=64, blank=True)
    leaf_hash = models.CharField(max_length=64, unique=True)
    leaf_sm3 = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    entry_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    recorded_at = models.DateTimeField()
    sequenced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["seq"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("tamper-evident ledger")
        indexes = [
            models.Index(fields=["object_type", "object_pk", "seq"], name="ledger_object_seq"),
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="ledger_unsequenced"),
        ]

    def __str__(self):
        return f"#{self.seq or '?'} {self.kind} {self.object_type}:{self.object_id}"

    @property
    def leaf_index(self) -> int | None:
        return None if self.seq is None else self.seq - 1


class TreeNode(models.Model):
    """A complete perfect subtree of the log's Merkle tree: leaves [index·2^level, (index+1)·2^level)."""

    level = models.PositiveSmallIntegerField()
    index = models.PositiveBigIntegerField()
    # The last leaf under the node: the order in which a growing tree completes its nodes.
    last_leaf = models.PositiveBigIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="one_node_per_place")]
        indexes = [models.Index(fields=["last_leaf", "level"], name="tree_node_order")]

    def __str__(self):
        return f"{self.level}/{self.index} {self.hash[:12]}"


class TreeHead(models.Model):
    """A signed tree head: the size and root of the log at a moment, as a C2SP checkpoint signed note."""

    size = models.PositiveBigIntegerField(unique=True)
    root_hash = models.CharField(max_length=64)
    timestamp = models.DateTimeField()
    # The checkpoint with the installation's signatures (documents/signing.py has the format).
    note = models.TextField()
    # An RFC 3161 time-stamp token over the checkpoint, when a TSA is configured (DER, base64).
    tsa_token = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-size"]
        verbose_name = _("signed tree head")
        verbose_name_plural = _("signed tree heads")

    def __str__(self):
        return f"{self.size} {self.root_hash[:12]}"


class Witness(models.Model):
    """A county office or an inspector's office that watches the log and countersigns its heads."""

    name = models.CharField(
        _("name"), max_length=100, unique=True, help_text=_("The witness's key name, e.g. witness.county.example/1")
    )
    description = models.CharField(_("who runs it"), max_length=200)
    public_key = models.CharField(
        _("public key"), max_length=100, help_text=_("The witness's Ed25519 public key, base64 (32 bytes)")
    )
    active = models.BooleanField(_("active"), default=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("witness")
        verbose_name_plural = _("witnesses")

    def __str__(self):
        return self.description or self.name


class WitnessCosignature(models.Model):
    """A witness's cosignature (C2SP cosignature/v1) on one signed tree head."""

    head = models.ForeignKey(TreeHead, on_delete=models.CASCADE, related_name="cosignatures")
    witness = models.ForeignKey(Witness, on_delete=models.PROTECT, related_name="cosignatures")
    signed_at = models.DateTimeField()
    # The whole signature line, as it goes into the note.
    line = models.CharField(max_length=300)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["witness__name"]
        constraints = [models.UniqueConstraint(fields=["head", "witness"], name="one_cosignature_per_witness")]

    def __str__(self):
        return f"{self.witness} @ {self.head}"


class ArchiveCheck(models.Model):
    """The 四性检测 of an archived dossier (after DA/T 70): authenticity, integrity, usability, security."""

    matter = models.ForeignKey("flows.Matter", on_delete=models.PROTECT, related_name="archive_checks")
    document = models.ForeignKey(
        "RenderedDocument", on_delete=models.PROTECT, related_name="archive_checks", null=True, blank=True
    )
    passed = models.BooleanField()
    report = models.JSONField()
    checked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-checked_at", "-pk"]
        verbose_name = _("archive check")
        verbose_name_plural = _("archive checks")

    def __str__(self):
        return f"{self.matter} {self.checked_at:%Y-%m-%d}"


class LedgerCheck(models.Model):
    """One run of the whole-log verification (documents/ledger_checks.py), stored for the ledger page.

    Not in the log itself: it is derived from the log, can be recomputed at any time, and no decision
    rests on it (a failure raises an early warning, which is what people act on)."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Scheduled")
        REQUEST = "request", _("Asked for")
        COMMAND = "command", _("manage.py verify_ledger")

    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Whether the stored files were re-read and their fingerprints compared (the nightly check).
    check_files = models.BooleanField()
    started_at = models.DateTimeField()
    # Empty while it runs, and for ever when its worker died: the page shows the latest finished one.
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(null=True)
    checked = models.PositiveBigIntegerField(default=0)
    records = models.PositiveBigIntegerField(default=0)
    first_bad_seq = models.PositiveBigIntegerField(null=True, blank=True)
    bad_model = models.CharField(max_length=100, blank=True)
    bad_pk = models.BigIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True)
    # The latest signed tree head when the check began: the check covered at least that much of the log.
    head_size = models.PositiveBigIntegerField(null=True, blank=True)
    head_root = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["check_files", "-finished_at"], name="ledgercheck_latest")]
        verbose_name = _("ledger check")
        verbose_name_plural = _("ledger checks")

    def __str__(self):
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.ok}"


class Checkpoint(models.Model):
    """A Merkle root over chain entries 1..last_seq, from before signed tree heads; still verified."""

    last_seq = models.PositiveBigIntegerField(unique=True)
    entry_count = models.PositiveBigIntegerField()
    merkle_root = models.CharField(max_length=64)
    last_entry_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["last_seq"]
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")

    def __str__(self):
        return f"≤#{self.last_seq} {self.merkle_root[:12]}"


class RenderStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be rendered")
    RENDERING = "rendering", _("Rendering")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class RenderedDocument(models.Model):
    """A PDF rendered by a Celery worker: a matter's dossier (案卷) or approval form (审批表), meeting minutes
    or a printable notice."""

    class Kind(models.TextChoices):
        DOSSIER = "dossier", _("Dossier")
        MINUTES = "minutes", _("Meeting minutes")
        NOTICE = "notice", _("Publication notice")
        APPROVAL_FORM = "approval_form", _("Approval form")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    matter = models.ForeignKey(
        "flows.Matter", null=True, blank=True, on_delete=models.PROTECT, related_name="rendered_documents"
    )
    meeting = models.ForeignKey(
        "flows.Meeting", null=True, blank=True, on_delete=models.PROTECT, related_name="rendered_documents"
    )
    notice = models.ForeignKey(
        "flows.Notice", null=True, blank=True, on_delete=models.PROTECT, related_name="rendered_documents"
    )
    status = models.CharField(max_length=20, choices=RenderStatus.choices, default=RenderStatus.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    pdf = models.FileField(upload_to="rendered/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    sm3 = models.CharField(max_length=64, blank=True)
    page_count = models.PositiveIntegerField(default=0)
    verification_code = models.CharField(max_length=32, unique=True)
    error = models.TextField(blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    # Who asked, to send them the job's progress; empty when the system asked (on archiving).
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rendered_at = models.DateTimeField(null=True, blank=True)
    # The language it is printed in: the site's, unless whoever asked for it chose another. The worker
    # renders in this language, whatever the language of the request that queued it.
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    # The job is safe to lose (documents/tasks.py): when it was last sent to the broker, when a worker
    # rendering it last showed it was alive, and how many times a worker has started on it.
    queued_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # A newer rendering (after a correction) supersedes this one; old files stay for the record.
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("rendered document")
        verbose_name_plural = _("rendered documents")

    def __str__(self):
        return f"{self.get_kind_display()} {self.verification_code}"


class AccessAction(models.TextChoices):
    OPEN_DOSSIER = "open_dossier", _("Opened a dossier")
    DOWNLOAD_FILE = "download_file", _("Downloaded a file")
    OPEN_MATTER = "open_matter", _("Opened a matter")
    SEARCH = "search", _("Searched the archive")


class AccessLog(models.Model):
    """Who opened which dossier or file, and when; the county administrator reads it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=20, choices=AccessAction.choices)
    matter = models.ForeignKey("flows.Matter", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    evidence = models.ForeignKey(Evidence, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    document = models.ForeignKey(RenderedDocument, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    detail = models.CharField(max_length=300, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")

    def __str__(self):
        return f"{self.user} {self.action} {self.at:%Y-%m-%d %H:%M}"


class InspectorFlag(models.Model):
    """A problem an inspector flags on a matter; the township sees it until it answers."""

    matter = models.ForeignKey("flows.Matter", on_delete=models.PROTECT, related_name="flags")
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(_("problem"))
    raised_at = models.DateTimeField(auto_now_add=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answer = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-raised_at", "-pk"]
        verbose_name = _("inspector flag")
        verbose_name_plural = _("inspector flags")

    def __str__(self):
        return self.note[:40]


class CorrectionStatus(models.TextChoices):
    AWAITING_TOWNSHIP = "awaiting_township", _("Awaiting the township")
    AWAITING_COUNTY = "awaiting_county", _("Awaiting the county")
    APPROVED = "approved", _("Approved and recorded")
    REJECTED = "rejected", _("Rejected")


class CorrectionRequest(models.Model):
    """A correction of an archived matter (Jilin measures art. 14): approved by township and county,
    then appended to the dossier as a correction record; the archived records themselves never change."""

    matter = models.ForeignKey("flows.Matter", on_delete=models.PROTECT, related_name="corrections")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    what = models.CharField(_("what is wrong"), max_length=200)
    correction = models.TextField(_("the correct content"))
    reason = models.TextField(_("reason"))
    status = models.CharField(
        max_length=20, choices=CorrectionStatus.choices, default=CorrectionStatus.AWAITING_TOWNSHIP
    )
    township_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    township_at = models.DateTimeField(null=True, blank=True)
    township_opinion = models.TextField(blank=True)
    county_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    county_at = models.DateTimeField(null=True, blank=True)
    county_opinion = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("correction request")
        verbose_name_plural = _("correction requests")

    def __str__(self):
        return self.what
