"""A matter (事项) and the records its steps leave: decisions, meetings, notices, objections."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords
from viewflow.workflow.models import Process

from organizations.models import MeetingBody, Role, TransactionType
from protection.fields import BlindIndexField, SealedCharField
from registers.models import ID_NUMBER_INDEX


class Step(models.TextChoices):
    """The spine, in order. Each value is also the name of the flow node that carries it."""

    APPLY = "apply", _("Pre-application")
    PROPOSE = "propose", _("Party branch proposal")
    DELIBERATE = "deliberate", _("Two-committee deliberation")
    REVIEW_BY_PARTY_MEMBERS = "review_by_party_members", _("Party members' review")
    RESOLVE_BY_MEMBERS = "resolve_by_members", _("Member meeting resolution")
    PUBLISH_RESOLUTION = "publish_resolution", _("Resolution publication")
    CHECK_BY_TOWNSHIP = "check_by_township", _("Township officer check")
    APPROVE_BY_TOWNSHIP = "approve_by_township", _("Township leader approval")
    IMPLEMENT = "implement", _("Implementation")
    PUBLISH_RESULT = "publish_result", _("Result publication")
    ARCHIVE = "archive", _("Archive")


SPINE = list(Step)
END = "end"


class MatterStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    ARCHIVED = "archived", _("Archived")


class Matter(models.Model):
    """One application of any transaction type, carried by one viewflow process."""

    process = models.OneToOneField(Process, on_delete=models.PROTECT, related_name="matter", null=True, blank=True)
    organization = models.ForeignKey(
        "organizations.Organization", verbose_name=_("collective"), on_delete=models.PROTECT, related_name="matters"
    )
    transaction_type = models.CharField(_("transaction type"), max_length=30, choices=TransactionType.choices)
    title = models.CharField(_("title"), max_length=200)
    amount = models.DecimalField(
        _("amount (yuan)"), max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("applicant"), on_delete=models.PROTECT, related_name="matters"
    )
    rule_version = models.ForeignKey(
        "organizations.RuleVersion", verbose_name=_("rule version"), on_delete=models.PROTECT, related_name="matters"
    )
    band = models.ForeignKey(
        "organizations.RuleBand", verbose_name=_("rule band"), on_delete=models.PROTECT, related_name="matters"
    )
    # The path is copied from the band when the matter starts, so a later edit of the
    # rule table can never change a running or archived matter.
    required_steps = models.JSONField(_("steps required"), default=list)
    member_body = models.CharField(_("member meeting body"), max_length=30, choices=MeetingBody.choices, blank=True)
    next_step = models.CharField(_("next step"), max_length=40, blank=True)
    # When the matter arrived at its next step: the inbox sorts by it and marks it overdue from it.
    step_since = models.DateTimeField(_("waiting since"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=20, choices=MatterStatus.choices, default=MatterStatus.IN_PROGRESS
    )
    archive_number = models.CharField(_("archive number"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("applied at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("matter")
        verbose_name_plural = _("matters")
        indexes = [
            models.Index(fields=["status", "next_step"]),
            # Keyset pages of the matter list and inbox: each sortable column with the tiebreak.
            models.Index(fields=["created_at", "id"], name="matter_created_keyset"),
            models.Index(fields=["amount", "id"], name="matter_amount_keyset"),
            models.Index(fields=["step_since", "id"], name="matter_waiting_keyset"),
            # Jurisdiction first (issue 15): a place's matters by status and wait, or newest first.
            models.Index(fields=["organization", "status", "step_since", "id"], name="matter_place_waiting"),
            models.Index(fields=["organization", "created_at", "id"], name="matter_place_created"),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        # The step's clock starts when the matter arrives at it, whichever service moved it there.
        if not self._state.adding and self.next_step != getattr(self, "_stored_next_step", self.next_step):
            self.step_since = timezone.now()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "step_since"}
        super().save(*args, **kwargs)
        self._stored_next_step = self.next_step

    def get_absolute_url(self):
        return reverse("flows:matter_detail", args=[self.pk])

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._stored_next_step = instance.__dict__.get("next_step")
        return instance

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        self._stored_next_step = self.__dict__.get("next_step")

    @property
    def is_open(self) -> bool:
        return self.status == MatterStatus.IN_PROGRESS

    @property
    def next_step_label(self) -> str:
        """Where the matter waits, in words; empty once it has ended."""
        return Step(self.next_step).label if self.next_step in Step.values else ""


class Decision(models.TextChoices):
    # One form for every decision, as a record reads it and as a reviewer picks it (同意 / 退回 / 驳回).
    SUBMIT = "submit", pgettext_lazy("decision", "Submit")
    AGREE = "agree", pgettext_lazy("decision", "Agree")
    RETURN = "return", pgettext_lazy("decision", "Return")
    REJECT = "reject", pgettext_lazy("decision", "Reject")
    WITHDRAW = "withdraw", pgettext_lazy("decision", "Withdraw")
    PASSED = "passed", pgettext_lazy("decision", "Passed")
    FAILED = "failed", pgettext_lazy("decision", "Not passed")
    PUBLISHED = "published", pgettext_lazy("decision", "Publish")
    DONE = "done", pgettext_lazy("decision", "Complete")
    DELEGATE = "delegate", pgettext_lazy("decision", "Hand over")


class StepRecord(models.Model):
    """What happened at one step: who, when, the decision and the opinion."""

    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="step_records")
    step = models.CharField(_("step"), max_length=40, choices=Step.choices)
    task = models.ForeignKey("viewflow.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices)
    opinion = models.TextField(_("opinion"), blank=True)
    return_to = models.CharField(_("returned to"), max_length=40, choices=Step.choices, blank=True)
    acted_at = models.DateTimeField(_("at"), auto_now_add=True)
    meeting = models.ForeignKey("Meeting", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The record reads "A for B": the actor acted on a task the holder of this post handed over (委托).
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("on behalf of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The township approved a matter above the county's amount although its application carries no file.
    no_evidence_confirmed = models.BooleanField(_("approved without an application file, confirmed"), default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["acted_at", "pk"]
        verbose_name = _("step record")
        verbose_name_plural = _("step records")

    def __str__(self):
        return f"{self.get_step_display()}: {self.get_decision_display()}"


class MeetingNotice(models.Model):
    """The announcement of a meeting on the village's public board: its time, place and agenda, days ahead."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("collective"),
        on_delete=models.PROTECT,
        related_name="meeting_notices",
    )
    body = models.CharField(_("body"), max_length=30, choices=MeetingBody.choices)
    meets_at = models.DateTimeField(_("meets at"))
    place = models.CharField(_("place"), max_length=100)
    agenda = models.TextField(_("agenda"))
    matters = models.ManyToManyField(
        Matter, verbose_name=_("matters on the agenda"), related_name="meeting_notices", blank=True
    )
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("posted by"), on_delete=models.PROTECT, related_name="+"
    )
    # Not auto_now_add: the days of notice are counted from it, and tests let those days pass by moving it.
    posted_at = models.DateTimeField(_("posted at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-posted_at", "-pk"]
        verbose_name = _("meeting notice")
        verbose_name_plural = _("meeting notices")

    def __str__(self):
        return f"{self.get_body_display()} {timezone.localtime(self.meets_at):%Y-%m-%d %H:%M}"

    def get_absolute_url(self):
        return reverse("board:meeting_notice", args=[self.pk])

    @property
    def meets_on(self):
        return timezone.localtime(self.meets_at).date()

    @property
    def posted_on(self):
        return timezone.localtime(self.posted_at).date()


class Meeting(models.Model):
    """A meeting of one body of a village; it may decide several pending matters."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="meetings")
    body = models.CharField(_("body"), max_length=30, choices=MeetingBody.choices)
    held_on = models.DateField(_("held on"))
    place = models.CharField(_("place"), max_length=100)
    chair = models.CharField(_("chaired by"), max_length=50)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    attendees = models.ManyToManyField("registers.Member", related_name="meetings_attended", blank=True)
    expected_count = models.PositiveIntegerField(_("should attend"))
    attended_count = models.PositiveIntegerField(_("attended"))
    households_expected = models.PositiveIntegerField(default=0)
    households_attended = models.PositiveIntegerField(default=0)
    minutes = models.TextField(_("minutes"))
    recorded_at = models.DateTimeField(auto_now_add=True)
    # The public notice that announced the meeting, where its body needs one.
    notice = models.ForeignKey(
        MeetingNotice,
        verbose_name=_("meeting notice"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="meetings",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-held_on", "-pk"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")

    def __str__(self):
        return f"{self.get_body_display()} {self.held_on}"

    def get_absolute_url(self):
        return reverse("flows:meeting_detail", args=[self.pk])


class AttendanceWay(models.TextChoices):
    """How a member attends (农村集体经济组织法 art. 27)."""

    IN_PERSON = "in_person", _("In person")
    ONLINE = "online", _("Online (instant messaging)")
    PROXY = "proxy", _("By written proxy")


class MeetingAttendance(models.Model):
    """One member counted as attending a meeting, and how; a proxy names the household member who carried it.

    The scanned written authorisation of a proxy is an evidence file (documents.Evidence.attendance)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="attendance")
    member = models.ForeignKey("registers.Member", verbose_name=_("member"), on_delete=models.PROTECT, related_name="+")
    way = models.CharField(_("attended"), max_length=20, choices=AttendanceWay.choices, default=AttendanceWay.IN_PERSON)
    proxy_holder = models.ForeignKey(
        "registers.Member",
        verbose_name=_("proxy carried by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["meeting", "member__household", "member__name", "pk"]
        verbose_name = _("meeting attendance")
        verbose_name_plural = _("meeting attendance")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "member"], name="one_attendance_per_member"),
            models.CheckConstraint(
                condition=(models.Q(way="proxy") & models.Q(proxy_holder__isnull=False))
                | (~models.Q(way="proxy") & models.Q(proxy_holder__isnull=True)),
                name="proxy_names_its_holder",
            ),
        ]

    def __str__(self):
        return f"{self.member}: {self.get_way_display()}"


class MeetingDecision(models.Model):
    """The vote of one meeting on one matter of its agenda."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="decisions")
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="meeting_decisions")
    votes_for = models.PositiveIntegerField(_("for"))
    votes_against = models.PositiveIntegerField(_("against"))
    votes_abstain = models.PositiveIntegerField(_("abstain"))
    passed = models.BooleanField(_("passed"))
    reason = models.CharField(_("reason"), max_length=200)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("meeting vote")
        verbose_name_plural = _("meeting votes")
        constraints = [models.UniqueConstraint(fields=["meeting", "matter"], name="one_vote_per_matter")]

    def __str__(self):
        return f"{self.meeting}: {self.matter}"


class NoticeKind(models.TextChoices):
    RESOLUTION = "resolution", _("Resolution notice")
    RESULT = "result", _("Result notice")


class Notice(models.Model):
    """A notice on the village's public board for a publication period."""

    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="notices")
    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(_("kind"), max_length=20, choices=NoticeKind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    published_at = models.DateTimeField(_("published at"))
    ends_at = models.DateTimeField(_("objections until"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-published_at", "-pk"]
        # A village's board: its collectives' notices, newest first, one keyset page at a time.
        indexes = [models.Index(fields=["organization", "published_at", "id"], name="notice_place_published")]
        verbose_name = _("notice")
        verbose_name_plural = _("notices")

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("board:notice", args=[self.pk])


class Objection(models.Model):
    """A villager's objection to a notice; while open it holds the matter."""

    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="objections")
    # What the villager keeps to follow the objection, with their phone number (flows/board.py).
    receipt = models.CharField(_("receipt number"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=50)
    # Sealed at rest, a plain str in Python; shown masked except to the supervisor who handles it.
    phone = SealedCharField(_("phone"), max_length=20)
    phone_index = BlindIndexField(source="phone", purpose="phone")
    text = models.TextField(_("objection"))
    submitted_at = models.DateTimeField(auto_now_add=True)
    # A salted hash of the sender's address: enough to rate-limit, not enough to identify.
    client_key = models.CharField(max_length=64, db_index=True)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handling = models.TextField(_("how it was handled"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["submitted_at", "pk"]
        verbose_name = _("objection")
        verbose_name_plural = _("objections")

    def __str__(self):
        return f"{self.name}: {self.text[:30]}"

    @property
    def is_open(self) -> bool:
        return self.handled_at is None


class AssetPurchase(models.Model):
    """The application data of an asset purchase (资产购置)."""

    matter = models.OneToOneField(Matter, on_delete=models.PROTECT, related_name="asset_purchase")
    funding_source = models.CharField(_("funding source"), max_length=100)
    reason = models.TextField(_("reason"))
    chosen_supplier = models.CharField(_("chosen supplier"), max_length=100)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("asset purchase application")
        verbose_name_plural = _("asset purchase applications")

    def __str__(self):
        return str(self.matter)


class PurchaseItem(models.Model):
    purchase = models.ForeignKey(AssetPurchase, on_delete=models.CASCADE, related_name="items")
    name = models.CharField(_("item"), max_length=100)
    category = models.CharField(_("category"), max_length=50)
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(
        _("unit price (yuan)"), max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("purchase item")
        verbose_name_plural = _("purchase items")
        ordering = ["pk"]

    def __str__(self):
        return self.name

    @property
    def subtotal(self) -> Decimal:
        return self.unit_price * self.quantity


class Quotation(models.Model):
    purchase = models.ForeignKey(AssetPurchase, on_delete=models.CASCADE, related_name="quotations")
    supplier = models.CharField(_("supplier"), max_length=100)
    amount = models.DecimalField(
        _("quoted total (yuan)"), max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("quotation")
        verbose_name_plural = _("quotations")
        ordering = ["amount", "pk"]

    def __str__(self):
        return f"{self.supplier} {self.amount}"


class FundDisbursement(models.Model):
    """The application data of a fund disbursement (资金支出); the amount is the matter's."""

    matter = models.OneToOneField(Matter, on_delete=models.PROTECT, related_name="fund_disbursement")
    account = models.ForeignKey("registers.FundAccount", on_delete=models.PROTECT, related_name="+")
    payee = models.CharField(_("payee"), max_length=100)
    purpose = models.CharField(_("purpose"), max_length=200)
    budget_line = models.CharField(_("budget line"), max_length=100)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("fund disbursement application")
        verbose_name_plural = _("fund disbursement applications")

    def __str__(self):
        return str(self.matter)


class ContractingMethod(models.TextChoices):
    PUBLIC_BIDDING = "public_bidding", _("Public bidding on the trading platform")
    AUCTION = "auction", _("Auction")
    NEGOTIATION = "negotiation", _("Negotiation")


class ResourceContracting(models.Model):
    """The application data of a resource contracting (资源发包)."""

    matter = models.OneToOneField(Matter, on_delete=models.PROTECT, related_name="resource_contracting")
    resource = models.ForeignKey("registers.Resource", on_delete=models.PROTECT, related_name="+")
    contractor = models.CharField(_("contractor"), max_length=100)
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until"))
    reserve_price = models.DecimalField(_("reserve price (yuan)"), max_digits=14, decimal_places=2)
    annual_fee = models.DecimalField(_("annual fee (yuan)"), max_digits=14, decimal_places=2)
    method = models.CharField(_("method"), max_length=20, choices=ContractingMethod.choices)
    trading_reference = models.CharField(_("trading platform reference"), max_length=60, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("resource contracting application")
        verbose_name_plural = _("resource contracting applications")

    def __str__(self):
        return str(self.matter)


class PaymentFrequency(models.TextChoices):
    YEARLY = "yearly", _("Yearly")
    QUARTERLY = "quarterly", _("Quarterly")
    MONTHLY = "monthly", _("Monthly")
    ONCE = "once", _("Once, in advance")


class Leasing(models.Model):
    """The application data of an asset lease (资产出租)."""

    matter = models.OneToOneField(Matter, on_delete=models.PROTECT, related_name="leasing")
    asset = models.ForeignKey("registers.Asset", on_delete=models.PROTECT, related_name="+")
    lessee = models.CharField(_("lessee"), max_length=100)
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until"))
    annual_rent = models.DecimalField(_("annual rent (yuan)"), max_digits=14, decimal_places=2)
    frequency = models.CharField(_("payment schedule"), max_length=20, choices=PaymentFrequency.choices)
    trading_reference = models.CharField(_("trading platform reference"), max_length=60, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("leasing application")
        verbose_name_plural = _("leasing applications")

    def __str__(self):
        return str(self.matter)


class DisposalMethod(models.TextChoices):
    TRANSFER = "transfer", _("Transfer")
    AUCTION = "auction", _("Auction")
    EXCHANGE = "exchange", _("Exchange")
    WRITE_OFF = "write_off", _("Write-off (loss)")
    SCRAPPING = "scrapping", _("Scrapping")


class Disposal(models.Model):
    """The application data of an asset disposal (资产处置)."""

    matter = models.OneToOneField(Matter, on_delete=models.PROTECT, related_name="disposal")
    asset = models.ForeignKey("registers.Asset", on_delete=models.PROTECT, related_name="+")
    method = models.CharField(_("method"), max_length=20, choices=DisposalMethod.choices)
    appraisal_value = models.DecimalField(_("appraised value (yuan)"), max_digits=14, decimal_places=2)
    appraiser = models.CharField(_("appraiser"), max_length=100)
    reason = models.TextField(_("reason"))
    counterparty = models.CharField(_("buyer or counterparty"), max_length=100, blank=True)
    proceeds_account = models.ForeignKey(
        "registers.FundAccount", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("disposal application")
        verbose_name_plural = _("disposal applications")

    def __str__(self):
        return str(self.matter)


class MemberCandidate(models.Model):
    """One person whose membership a member confirmation (成员身份确认) matter decides."""

    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="member_candidates")
    name = models.CharField(_("name"), max_length=50)
    id_number = SealedCharField(_("ID number"), max_length=18)
    id_number_index = BlindIndexField(source="id_number", purpose=ID_NUMBER_INDEX)
    household = models.CharField(_("household"), max_length=40)
    basis = models.CharField(_("basis"), max_length=20)
    note = models.CharField(_("note"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("candidate member")
        verbose_name_plural = _("candidate members")
        ordering = ["pk"]

    def __str__(self):
        return self.name


class EquityTransferKind(models.TextChoices):
    INHERITANCE = "inheritance", _("Inheritance")
    GIFT = "gift", _("Gift")
    INTERNAL_TRANSFER = "internal_transfer", _("Internal transfer")
    REDEMPTION = "redemption", _("Collective redemption")


class EquityTransfer(models.Model):
    """The application data of an equity transfer (股权转让)."""

    matter = models.OneToOneField(Matter, on_delete=models.PROTECT, related_name="equity_transfer")
    kind = models.CharField(_("kind"), max_length=20, choices=EquityTransferKind.choices)
    from_member = models.ForeignKey("registers.Member", on_delete=models.PROTECT, related_name="+")
    to_member = models.ForeignKey("registers.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    share_kind = models.CharField(_("share kind"), max_length=20)
    shares = models.PositiveIntegerField(_("shares"), validators=[MinValueValidator(1)])
    price = models.DecimalField(_("price (yuan)"), max_digits=14, decimal_places=2, default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("equity transfer application")
        verbose_name_plural = _("equity transfer applications")

    def __str__(self):
        return str(self.matter)


class NotificationKind(models.TextChoices):
    TASK_NEW = "task_new", _("New task")
    TASK_TAKEN = "task_taken", _("Task taken by someone else")
    RETURNED = "returned", _("Matter returned")
    MATTER_PROGRESS = "matter_progress", _("Matter moved on")
    OBJECTION = "objection", _("Objection to a publication")
    WARNING = "warning", _("Early warning")
    REMINDER = "reminder", _("Reminder")
    ESCALATION = "escalation", _("Escalation")
    DELEGATED = "delegated", _("Task handed over to you")
    JOB_PROGRESS = "job_progress", _("Job progress")
    JOB_DONE = "job_done", _("Job finished")


# Kinds that only move a progress bar: kept for the live stream, not listed in the notification centre.
TRANSIENT_KINDS = frozenset({NotificationKind.JOB_PROGRESS})


class Notification(models.Model):
    """One event for one user. The row is the source of truth; the live stream only pushes rows."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(max_length=300, blank=True)
    matter = models.ForeignKey(Matter, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    task_id = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            # The notification centre's keyset order: one person's rows, newest first.
            models.Index(fields=["recipient", "id"], name="notification_recipient_id"),
        ]

    def __str__(self):
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class ReminderLevel(models.TextChoices):
    REMIND = "remind", _("Reminder")
    ESCALATE = "escalate", _("Escalation")


class TaskReminder(models.Model):
    """A reminder or escalation sent for one waiting task; one per level, so beat firing twice sends one."""

    task = models.ForeignKey("viewflow.Task", on_delete=models.CASCADE, related_name="+")
    matter = models.ForeignKey(Matter, on_delete=models.CASCADE, related_name="reminders")
    step = models.CharField(_("step"), max_length=40, choices=Step.choices)
    level = models.CharField(_("level"), max_length=10, choices=ReminderLevel.choices)
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["sent_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["task", "level"], name="one_reminder_per_level")]

    def __str__(self):
        return f"{self.matter}: {self.get_level_display()}"


class Delegation(models.Model):
    """A holder of a township post, away, hands their tasks to another holder of the same post (转办/委托).

    The tasks they hold go to the delegate at once; tasks of the post's steps that arrive between the
    two dates go to the delegate as they arrive. Either way the delegate's records read "A for B"."""

    delegator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("delegated by"), on_delete=models.PROTECT, related_name="+"
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("delegated to"), on_delete=models.PROTECT, related_name="+"
    )
    organization = models.ForeignKey(
        "organizations.Organization", verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("post"), max_length=30, choices=Role.choices)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    reason = models.CharField(_("reason"), max_length=200)
    created_at = models.DateTimeField(_("delegated at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("ended early at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-starts_on", "-pk"]
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        indexes = [models.Index(fields=["organization", "role", "starts_on", "ends_on"])]

    def __str__(self):
        return f"{self.delegator} → {self.delegate} ({self.starts_on} – {self.ends_on})"

    def is_active_on(self, day) -> bool:
        return self.revoked_at is None and self.starts_on <= day <= self.ends_on


class DelegatedTask(models.Model):
    """One task handed from one user to another under a delegation; who acts on it acts for ``from_user``."""

    task = models.ForeignKey("viewflow.Task", on_delete=models.CASCADE, related_name="+")
    delegation = models.ForeignKey(Delegation, on_delete=models.PROTECT, related_name="tasks")
    from_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    handed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["handed_at", "pk"]

    def __str__(self):
        return f"{self.task_id}: {self.from_user} → {self.to_user}"

    @classmethod
    def principal(cls, *, task_id: int, user) -> "models.Model | None":
        """On whose behalf ``user`` acts on the task: the first holder of a chain of hand-overs, or None."""
        handovers = list(cls.objects.filter(task_id=task_id).select_related("from_user").order_by("pk"))
        holder, principal = user.pk, None
        for handover in reversed(handovers):
            if handover.to_user_id == holder:
                principal, holder = handover.from_user, handover.from_user_id
        return principal
