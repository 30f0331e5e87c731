"""The registers (台账) of a collective economic organisation."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from protection.fields import BlindIndexField, SealedCharField

from .identity import birth_date, validate_id_number

# Every ID number column indexes under one purpose, so a candidate's number finds the roster row.
ID_NUMBER_INDEX = "id_number"


class MembershipBasis(models.TextChoices):
    ORIGINAL = "original", _("Original member")
    BIRTH = "birth", _("Birth")
    MARRIAGE = "marriage", _("Marriage")
    ADOPTION = "adoption", _("Adoption")
    RETURN = "return", _("Return")
    OTHER = "other", _("Other")


class MemberStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    LEFT = "left", _("Left")
    DECEASED = "deceased", _("Deceased")


class Member(models.Model):
    """A member of the collective; the rosters of every meeting body come from here."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="members")
    name = models.CharField(_("name"), max_length=50)
    # Sealed at rest (个人信息保护法 art. 51); found through its blind index (registers/selectors.py).
    id_number = SealedCharField(_("ID number"), max_length=18, validators=[validate_id_number])
    id_number_index = BlindIndexField(source="id_number", purpose=ID_NUMBER_INDEX)
    household = models.CharField(_("household"), max_length=40)
    basis = models.CharField(
        _("basis"), max_length=20, choices=MembershipBasis.choices, default=MembershipBasis.ORIGINAL
    )
    status = models.CharField(_("status"), max_length=20, choices=MemberStatus.choices, default=MemberStatus.ACTIVE)
    is_party_member = models.BooleanField(_("party member"), default=False)
    is_representative = models.BooleanField(_("villager representative"), default=False)
    is_committee_member = models.BooleanField(_("two-committee member"), default=False)
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    source_matter = models.ForeignKey(
        "flows.Matter",
        verbose_name=_("confirmed by matter"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="confirmed_members",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["organization", "household", "name"]
        # The register's keyset order, collective first (registers.views.MEMBER_SORTING).
        indexes = [models.Index(fields=["organization", "household", "name", "id"], name="member_place_household")]
        constraints = [
            models.UniqueConstraint(fields=["organization", "id_number_index"], name="unique_member_id_number"),
        ]
        verbose_name = _("member")
        verbose_name_plural = _("members")

    def __str__(self):
        return self.name

    @property
    def birth_date(self):
        return birth_date(self.id_number)


class AssetStatus(models.TextChoices):
    IN_USE = "in_use", _("In use")
    IDLE = "idle", _("Idle")
    LEASED = "leased", _("Leased")
    DISPOSED = "disposed", _("Disposed")


class Asset(models.Model):
    """An asset card in the asset register."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="assets")
    code = models.CharField(_("asset number"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("category"), max_length=50)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    unit_price = models.DecimalField(_("unit price (yuan)"), max_digits=14, decimal_places=2)
    original_value = models.DecimalField(_("original value (yuan)"), max_digits=14, decimal_places=2)
    acquired_on = models.DateField(_("acquired on"))
    status = models.CharField(_("status"), max_length=20, choices=AssetStatus.choices, default=AssetStatus.IN_USE)
    disposed_on = models.DateField(_("disposed on"), null=True, blank=True)
    # Set when the asset becomes idle and cleared when it is used again: the idle-asset warning counts from it.
    idle_since = models.DateField(_("idle since"), null=True, blank=True)
    source_matter = models.ForeignKey(
        "flows.Matter",
        verbose_name=_("source matter"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="created_assets",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["organization", "code"]
        indexes = [models.Index(fields=["organization", "code", "id"], name="asset_place_code")]
        verbose_name = _("asset")
        verbose_name_plural = _("assets")

    def __str__(self):
        return f"{self.code} {self.name}"

    def save(self, *args, **kwargs):
        if self.status == AssetStatus.IDLE and self.idle_since is None:
            self.idle_since = timezone.localdate()
        elif self.status != AssetStatus.IDLE:
            self.idle_since = None
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("registers:asset_detail", args=[self.pk])


class AccountKind(models.TextChoices):
    BANK = "bank", _("Bank account")
    CASH = "cash", _("Cash on hand")


class FundAccount(models.Model):
    """A fund account of the collective; its balance is the opening balance plus its movements."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="fund_accounts"
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=AccountKind.choices, default=AccountKind.BANK)
    account_number = models.CharField(_("account number"), max_length=40, blank=True)
    opening_balance = models.DecimalField(_("opening balance (yuan)"), max_digits=14, decimal_places=2, default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["organization", "name"]
        indexes = [models.Index(fields=["organization", "name", "id"], name="fundaccount_place_name")]
        verbose_name = _("fund account")
        verbose_name_plural = _("fund accounts")

    def __str__(self):
        return f"{self.name} {self.account_number}".strip()

    def get_absolute_url(self):
        return reverse("registers:fund_account_detail", args=[self.pk])


class Direction(models.TextChoices):
    IN = "in", _("Income")
    OUT = "out", _("Payment")


class FundMovement(models.Model):
    """Money in or out of an account; payments are recorded against the matter that approved them."""

    account = models.ForeignKey(FundAccount, on_delete=models.PROTECT, related_name="movements")
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)
    occurred_on = models.DateField(_("date"))
    counterparty = models.CharField(_("counterparty"), max_length=100)
    purpose = models.CharField(_("purpose"), max_length=200)
    matter = models.ForeignKey(
        "flows.Matter", null=True, blank=True, on_delete=models.PROTECT, related_name="fund_movements"
    )
    recorded_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-occurred_on", "-pk"]
        indexes = [models.Index(fields=["account", "occurred_on", "id"], name="movement_account_occurred")]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="movement_amount_positive")]
        verbose_name = _("fund movement")
        verbose_name_plural = _("fund movements")

    def __str__(self):
        return f"{self.get_direction_display()} {self.amount}"


class ResourceKind(models.TextChoices):
    CULTIVATED = "cultivated", _("Cultivated land")
    FOREST = "forest", _("Forest land")
    WATER = "water", _("Water surface")
    WASTELAND = "wasteland", _("Wasteland")
    CONSTRUCTION = "construction", _("Construction land")


class ResourceStatus(models.TextChoices):
    UNCONTRACTED = "uncontracted", _("Not contracted")
    CONTRACTED = "contracted", _("Contracted")


class Resource(models.Model):
    """A resource card: land, forest, water or wasteland the collective owns."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="resources")
    code = models.CharField(_("resource number"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=ResourceKind.choices)
    location = models.CharField(_("location"), max_length=200)
    area_mu = models.DecimalField(_("area (mu)"), max_digits=12, decimal_places=2)
    status = models.CharField(
        _("status"), max_length=20, choices=ResourceStatus.choices, default=ResourceStatus.UNCONTRACTED
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["organization", "code"]
        indexes = [models.Index(fields=["organization", "code", "id"], name="resource_place_code")]
        verbose_name = _("resource")
        verbose_name_plural = _("resources")

    def __str__(self):
        return f"{self.code} {self.name}"

    def get_absolute_url(self):
        return reverse("registers:resource_detail", args=[self.pk])


class ContractKind(models.TextChoices):
    CONTRACTING = "contracting", _("Resource contracting")
    LEASE = "lease", _("Asset lease")


class ContractStatus(models.TextChoices):
    ACTIVE = "active", _("In force")
    ENDED = "ended", _("Ended")
    TERMINATED = "terminated", _("Terminated")


class Contract(models.Model):
    """A contract of the collective over a resource or an asset."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="contracts")
    code = models.CharField(_("contract number"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=ContractKind.choices)
    counterparty = models.CharField(_("counterparty"), max_length=100)
    resource = models.ForeignKey(Resource, null=True, blank=True, on_delete=models.PROTECT, related_name="contracts")
    asset = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.PROTECT, related_name="contracts")
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until"))
    amount = models.DecimalField(_("contract amount (yuan)"), max_digits=14, decimal_places=2)
    trading_reference = models.CharField(_("trading platform reference"), max_length=60, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=ContractStatus.choices, default=ContractStatus.ACTIVE)
    matter = models.ForeignKey(
        "flows.Matter", null=True, blank=True, on_delete=models.PROTECT, related_name="contracts"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["organization", "-start_date", "code"]
        indexes = [models.Index(fields=["organization", "-start_date", "code", "id"], name="contract_place_start")]
        constraints = [
            models.CheckConstraint(condition=models.Q(end_date__gt=models.F("start_date")), name="contract_term"),
        ]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")

    def __str__(self):
        return f"{self.code} {self.counterparty}"

    def get_absolute_url(self):
        return reverse("registers:contract_detail", args=[self.pk])


class ContractPayment(models.Model):
    """One instalment of a contract's payment schedule."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="payments")
    due_on = models.DateField(_("due on"))
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "due_on"]
        verbose_name = _("scheduled payment")
        verbose_name_plural = _("payment schedule")

    def __str__(self):
        return f"{self.due_on} {self.amount}"


class ShareKind(models.TextChoices):
    POPULATION = "population", _("Population share")
    LABOUR_AGE = "labour_age", _("Labour-age share")


class ShareReason(models.TextChoices):
    ALLOCATION = "allocation", _("Initial allocation")
    INHERITANCE = "inheritance", _("Inheritance")
    GIFT = "gift", _("Gift")
    INTERNAL_TRANSFER = "internal_transfer", _("Internal transfer")
    REDEMPTION = "redemption", _("Collective redemption")


class ReservationKind(models.TextChoices):
    SHARES = "shares", _("Shares of a holding")
    ASSET = "asset", _("Asset")
    RESOURCE_TERM = "resource_term", _("Resource for a term")


class ReservationState(models.TextChoices):
    HELD = "held", _("Held")
    RELEASED = "released", _("Released")
    CONSUMED = "consumed", _("Consumed")


HELD = models.Q(state=ReservationState.HELD)


class Reservation(models.Model):
    """What a running matter has promised away: shares of a holding, an asset, or a resource for a term.

    Held from the application on (registers/reservations.py), so a second application for the same thing
    is refused at once; released when the matter is withdrawn, rejected or stopped, consumed when it is
    implemented."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="reservations"
    )
    matter = models.ForeignKey("flows.Matter", on_delete=models.PROTECT, related_name="reservations")
    kind = models.CharField(_("kind"), max_length=20, choices=ReservationKind.choices)
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="reservations", verbose_name=_("holder")
    )
    share_kind = models.CharField(_("share kind"), max_length=20, choices=ShareKind.choices, blank=True)
    shares = models.PositiveIntegerField(_("shares"), null=True, blank=True)
    asset = models.ForeignKey(
        Asset, null=True, blank=True, on_delete=models.PROTECT, related_name="reservations", verbose_name=_("asset")
    )
    resource = models.ForeignKey(
        Resource,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reservations",
        verbose_name=_("resource"),
    )
    start_date = models.DateField(_("from"), null=True, blank=True)
    end_date = models.DateField(_("until"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=20, choices=ReservationState.choices, default=ReservationState.HELD)
    reserved_at = models.DateTimeField(_("reserved at"), auto_now_add=True)
    ended_at = models.DateTimeField(_("released or consumed at"), null=True, blank=True)

    class Meta:
        ordering = ["-reserved_at", "-pk"]
        constraints = [
            # The database itself refuses a second held reservation of one asset, or a matter holding two.
            models.UniqueConstraint(
                fields=["asset"],
                condition=HELD,
                name="one_held_reservation_per_asset",
                violation_error_message=_("This asset is already reserved by another running matter."),
            ),
            models.UniqueConstraint(fields=["matter"], condition=HELD, name="one_held_reservation_per_matter"),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        kind=ReservationKind.SHARES,
                        member__isnull=False,
                        shares__gt=0,
                        asset__isnull=True,
                        resource__isnull=True,
                    )
                    & ~models.Q(share_kind="")
                )
                | models.Q(kind=ReservationKind.ASSET, asset__isnull=False, member__isnull=True, resource__isnull=True)
                | models.Q(
                    kind=ReservationKind.RESOURCE_TERM,
                    resource__isnull=False,
                    start_date__lte=models.F("end_date"),
                    member__isnull=True,
                    asset__isnull=True,
                ),
                name="reservation_names_what_it_holds",
            ),
        ]
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")

    def __str__(self):
        if self.kind == ReservationKind.SHARES:
            return f"{self.member} {self.get_share_kind_display()} {self.shares}"
        if self.kind == ReservationKind.ASSET:
            return str(self.asset)
        return f"{self.resource} {self.start_date}–{self.end_date}"


class AppendOnly(Exception):
    """Ledger entries are never changed or deleted: corrections are new entries."""


class ShareLedgerQuerySet(models.QuerySet):
    """Bulk writes would bypass the model's guard: refuse them too."""

    def update(self, **kwargs):
        raise AppendOnly("share ledger entries cannot be changed")

    def delete(self):
        raise AppendOnly("share ledger entries cannot be deleted")


class ShareLedgerEntry(models.Model):
    """One change of one member's holding; a holding is the sum of its entries."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="share_entries"
    )
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="share_entries")
    kind = models.CharField(_("share kind"), max_length=20, choices=ShareKind.choices)
    change = models.IntegerField(_("change (shares)"))
    reason = models.CharField(_("reason"), max_length=20, choices=ShareReason.choices)
    counterpart = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("counterpart")
    )
    matter = models.ForeignKey(
        "flows.Matter", null=True, blank=True, on_delete=models.PROTECT, related_name="share_entries"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = ShareLedgerQuerySet.as_manager()

    class Meta:
        ordering = ["recorded_at", "pk"]
        indexes = [models.Index(fields=["organization", "recorded_at", "id"], name="share_entry_place_recorded")]
        constraints = [models.CheckConstraint(condition=~models.Q(change=0), name="share_change_nonzero")]
        verbose_name = _("share ledger entry")
        verbose_name_plural = _("share ledger")

    def __str__(self):
        return f"{self.member} {self.get_kind_display()} {self.change:+d}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnly("share ledger entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("share ledger entries cannot be deleted")


class ShareCertificate(models.Model):
    """A share certificate (股权证) issued to a holder; a new one supersedes the last."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="certificates")
    number = models.CharField(_("certificate number"), max_length=40, unique=True)
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    holdings = models.JSONField(_("holdings"), default=dict)
    matter = models.ForeignKey(
        "flows.Matter", null=True, blank=True, on_delete=models.PROTECT, related_name="certificates"
    )
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)
    pdf = models.FileField(upload_to="certificates/", blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-issued_at", "-pk"]
        verbose_name = _("share certificate")
        verbose_name_plural = _("share certificates")

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("registers:certificate_pdf", args=[self.pk])


class ShareSetup(models.Model):
    """How many shares of a kind the collective set up (股权设置): the allocations to members never exceed it."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="share_setups"
    )
    kind = models.CharField(_("share kind"), max_length=20, choices=ShareKind.choices)
    total = models.PositiveIntegerField(_("total shares"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["organization", "kind"]
        constraints = [models.UniqueConstraint(fields=["organization", "kind"], name="unique_share_setup")]
        verbose_name = _("share set-up")
        verbose_name_plural = _("share set-ups")

    def __str__(self):
        return f"{self.organization} {self.get_kind_display()} {self.total}"


class WarningRule(models.TextChoices):
    """The supervision rules (监督预警) that watch the registers and matters."""

    PAYMENT_WITHOUT_APPROVAL = "payment_without_approval", _("Payment without approval (先付后批)")
    SPLIT_SPENDING = "split_spending", _("Spending split to stay under a threshold")
    CASH_OVER_LIMIT = "cash_over_limit", _("Cash on hand over the limit")
    CONTRACT_EXPIRING = "contract_expiring", _("Contract about to expire")
    RENT_OVERDUE = "rent_overdue", _("Rent overdue")
    ASSET_IDLE = "asset_idle", _("Asset idle too long")
    OFF_PLATFORM_TRADING = "off_platform_trading", _("Off-platform trading (场外交易)")
    OBJECTION_UNHANDLED = "objection_unhandled", _("Publication ended with an objection not handled")
    OBJECTION_SURGE = "objection_surge", _("Many objections to one notice in a short time")
    # Raised by documents/witness.py when a witness holds two signed tree heads that cannot both be true.
    LEDGER_FORK = "ledger_fork", _("Tamper-evident log forked (账本分叉)")
    # Raised by documents/ledger_checks.py when the scheduled (or asked-for) whole-log check fails.
    LEDGER_CHECK_FAILED = "ledger_check_failed", _("Tamper-evident log failed its check (账本校验失败)")
    EVIDENCE_REUSED = "evidence_reused", _("The same file attached to different matters")
    TERM_OVER_LIMIT = "term_over_limit", _("Lease or contract term over 20 years (民法典 art. 705)")
    APPROVED_WITHOUT_EVIDENCE = "approved_without_evidence", _("Township approval with no application file")


class WarningLevel(models.TextChoices):
    RED = "red", _("Red")
    YELLOW = "yellow", _("Yellow")
    GREEN = "green", _("Green")


class EarlyWarning(models.Model):
    """One warning raised by a rule about one subject; it stays open until someone records the handling."""

    rule = models.CharField(_("rule"), max_length=40, choices=WarningRule.choices)
    level = models.CharField(_("level"), max_length=10, choices=WarningLevel.choices)
    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("collective"),
        on_delete=models.PROTECT,
        related_name="early_warnings",
    )
    # What the warning is about, e.g. "movement:12"; one warning per rule and subject, so a
    # rule checked twice raises it once.
    subject_key = models.CharField(max_length=100)
    title = models.CharField(_("title"), max_length=200)
    detail = models.TextField(_("detail"), blank=True)
    matter = models.ForeignKey(
        "flows.Matter", null=True, blank=True, on_delete=models.PROTECT, related_name="early_warnings"
    )
    url = models.CharField(max_length=300, blank=True)
    # What the warning rests on, each a {"label", "url"} the page links: the matters, files or contracts.
    causes = models.JSONField(_("causes"), default=list, blank=True)
    raised_at = models.DateTimeField(_("raised at"), auto_now_add=True)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handling = models.TextField(_("how it was handled"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-raised_at", "-pk"]
        verbose_name = _("early warning")
        verbose_name_plural = _("early warnings")
        constraints = [models.UniqueConstraint(fields=["rule", "subject_key"], name="one_warning_per_subject")]
        indexes = [
            models.Index(fields=["handled_at", "level"]),
            models.Index(fields=["organization", "raised_at", "id"], name="warning_place_raised"),
        ]

    def __str__(self):
        return self.title

    @property
    def is_open(self) -> bool:
        return self.handled_at is None
