"""The administrative tree, the posts people hold in it, and the county rule tables."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .amounts import band_range_label
from .credit_code import validate_credit_code
from .law import Share, band_law_errors, meeting_rule_law_errors


class OrganizationKind(models.TextChoices):
    PROVINCE = "province", _("Province")
    CITY = "city", _("City")
    COUNTY = "county", _("County")
    TOWNSHIP = "township", _("Township")
    VILLAGE = "village", _("Village")
    COLLECTIVE = "collective", _("Collective economic organisation")


class Role(models.TextChoices):
    VILLAGE_SECRETARY = "village_secretary", _("Village party secretary")
    VILLAGE_CASHIER = "village_cashier", _("Village cashier")
    VILLAGE_SUPERVISOR = "village_supervisor", _("Village supervision committee director")
    TOWNSHIP_OFFICER = "township_officer", _("Township agricultural economy officer")
    TOWNSHIP_LEADER = "township_leader", _("Township leader")
    COUNTY_ADMIN = "county_admin", _("County administrator")
    DISCIPLINE_INSPECTOR = "discipline_inspector", _("Discipline inspector")
    # The three administrators (三员分立), each apart from business work and from the other two.
    SYSTEM_ADMIN = "system_admin", _("System administrator")
    SECURITY_ADMIN = "security_admin", _("Security administrator")
    AUDIT_ADMIN = "audit_admin", _("Audit administrator")


ADMINISTRATOR_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})


class TransactionType(models.TextChoices):
    ASSET_PURCHASE = "asset_purchase", _("Asset purchase")
    FUND_DISBURSEMENT = "fund_disbursement", _("Fund disbursement")
    RESOURCE_CONTRACTING = "resource_contracting", _("Resource contracting")
    LEASING = "leasing", _("Asset leasing")
    DISPOSAL = "disposal", _("Asset disposal")
    MEMBER_CONFIRMATION = "member_confirmation", _("Member confirmation")
    EQUITY_TRANSFER = "equity_transfer", _("Equity transfer")


class MeetingBody(models.TextChoices):
    TWO_COMMITTEES = "two_committees", _("Joint meeting of the two village committees")
    PARTY_MEMBERS = "party_members", _("Party members' meeting")
    VILLAGER_MEETING = "villager_meeting", _("Villagers' meeting")
    VILLAGER_REPRESENTATIVES = "villager_representatives", _("Villager representatives' meeting")
    MEMBER_ASSEMBLY = "member_assembly", _("Members' assembly")
    MEMBER_REPRESENTATIVES = "member_representatives", _("Member representatives' assembly")


class Organization(models.Model):
    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=OrganizationKind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Materialised path ("/1/4/9/"): "everything below" is one indexed prefix match.
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    # Where the organisation has one (GB 32100); the importer matches organisations by it.
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, blank=True, default="", validators=[validate_credit_code]
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"], condition=~models.Q(credit_code=""), name="unique_organization_credit_code"
            )
        ]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        expected = (self.parent.path if self.parent_id else "/") + f"{self.pk}/"
        if self.path != expected:
            moved_from, self.path = self.path, expected
            type(self).objects.filter(pk=self.pk).update(path=expected)
            if moved_from:
                # A place put under another (a county under its new city): everything below it moves too.
                type(self).objects.filter(path__startswith=moved_from).exclude(pk=self.pk).update(
                    path=Concat(Value(expected), Substr("path", len(moved_from) + 1))
                )

    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def ancestor_of_kind(self, kind: str) -> "Organization | None":
        return Organization.objects.filter(pk__in=self.ancestor_ids(), kind=kind).first()

    @property
    def village(self) -> "Organization | None":
        if self.kind == OrganizationKind.VILLAGE:
            return self
        return self.ancestor_of_kind(OrganizationKind.VILLAGE)

    @property
    def county(self) -> "Organization | None":
        if self.kind == OrganizationKind.COUNTY:
            return self
        return self.ancestor_of_kind(OrganizationKind.COUNTY)


class Post(models.Model):
    """A role a person holds in one organisation; one person may hold several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="posts"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="posts"
    )
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organization", "role"], name="unique_post")]
        verbose_name = _("post")
        verbose_name_plural = _("posts")

    def __str__(self):
        return f"{self.organization} · {self.get_role_display()} · {self.user}"

    def clean(self):
        # Separation of duties: an administrator's account holds that one post and nothing else.
        others = Post.objects.filter(user_id=self.user_id).exclude(pk=self.pk)
        if self.role in ADMINISTRATOR_ROLES and others.exists():
            raise ValidationError(
                {"role": _("An administrator's account holds no other post; use a separate account.")}
            )
        if others.filter(role__in=ADMINISTRATOR_ROLES).exists():
            raise ValidationError({"role": _("This account belongs to an administrator and can hold no other post.")})


# The levels that keep a rule table: a province's or a city's is the floor the counties below inherit.
RULE_TABLE_KINDS = (OrganizationKind.PROVINCE, OrganizationKind.CITY, OrganizationKind.COUNTY)


class RuleVersion(models.Model):
    """One version of a county's rule table; matters keep the version they started under.

    ``county`` is the place that keeps the table: a county, or a city or province whose table is the
    floor of the counties below it (organizations.rules.rule_version_in_force)."""

    county = models.ForeignKey(
        Organization,
        verbose_name=_("county"),
        on_delete=models.PROTECT,
        related_name="rule_versions",
        limit_choices_to={"kind__in": RULE_TABLE_KINDS},
    )
    number = models.PositiveIntegerField(_("version"))
    effective_from = models.DateField(_("effective from"))
    publication_days = models.PositiveIntegerField(_("publication days"), default=7, validators=[MinValueValidator(1)])
    quotation_threshold = models.DecimalField(
        _("three quotations required from (yuan)"), max_digits=14, decimal_places=2, default=Decimal("10000.00")
    )
    quotations_required = models.PositiveIntegerField(_("quotations required"), default=3)
    trading_threshold = models.DecimalField(
        _("public trading required from (yuan)"), max_digits=14, decimal_places=2, default=Decimal("50000.00")
    )
    # Reminders (催办) and escalation: a task waiting this many days reminds whoever holds it;
    # after the further escalation days it goes to the township leader.
    reminder_days = models.PositiveIntegerField(
        _("remind after (days a task waits)"), default=3, validators=[MinValueValidator(1)]
    )
    escalation_days = models.PositiveIntegerField(
        _("escalate to the township leader after (further days)"), default=3, validators=[MinValueValidator(1)]
    )
    # Early warnings (监督预警).
    split_window_days = models.PositiveIntegerField(
        _("split spending window (days)"), default=30, validators=[MinValueValidator(1)]
    )
    cash_limit = models.DecimalField(
        _("cash on hand limit (yuan)"), max_digits=14, decimal_places=2, default=Decimal("5000.00")
    )
    contract_expiry_days = models.PositiveIntegerField(_("warn before a contract ends (days)"), default=60)
    rent_grace_days = models.PositiveIntegerField(_("rent overdue after the due date (days)"), default=15)
    asset_idle_days = models.PositiveIntegerField(
        _("asset idle limit (days)"), default=180, validators=[MinValueValidator(1)]
    )
    # A township approval of a matter from this amount whose application carries no evidence file needs the
    # approver's explicit confirmation and raises a warning; empty: the county has set no such amount.
    evidence_threshold = models.DecimalField(
        _("approval without an application file from (yuan)"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_(
            "From this amount, a township approval of a matter whose application has no evidence file needs an "
            "explicit confirmation and raises a warning; leave empty for no such amount."
        ),
    )
    # Batch approval (批量审批): a township officer or leader may agree several matters at once only up to this.
    batch_approval_limit = models.DecimalField(
        _("batch approval up to (yuan)"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("50000.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Matters above this amount are approved one by one; 0 turns batch approval off."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["county", "-effective_from", "-number"]
        constraints = [models.UniqueConstraint(fields=["county", "number"], name="unique_rule_version")]
        verbose_name = _("rule version")
        verbose_name_plural = _("rule versions")

    def __str__(self):
        return f"{self.county} v{self.number} ({self.effective_from})"


class RuleBand(models.Model):
    """For one transaction type and amount range: which optional spine steps a matter needs."""

    rule_version = models.ForeignKey(
        RuleVersion, verbose_name=_("rule version"), on_delete=models.CASCADE, related_name="bands"
    )
    transaction_type = models.CharField(_("transaction type"), max_length=30, choices=TransactionType.choices)
    min_amount = models.DecimalField(_("from amount (inclusive)"), max_digits=14, decimal_places=2, default=0)
    max_amount = models.DecimalField(
        _("below amount (exclusive)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    party_proposal = models.BooleanField(_("party branch proposal"), default=True)
    two_committees = models.BooleanField(_("two-committee deliberation"), default=True)
    party_members = models.BooleanField(_("party members' review"), default=False)
    member_body = models.CharField(
        _("member meeting body"), max_length=30, choices=MeetingBody.choices, blank=True, default=""
    )
    resolution_publication = models.BooleanField(_("resolution publication"), default=True)
    township_check = models.BooleanField(_("township officer check"), default=True)
    township_approval = models.BooleanField(_("township leader approval"), default=False)
    result_publication = models.BooleanField(_("result publication"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["rule_version", "transaction_type", "min_amount"]
        verbose_name = _("rule band")
        verbose_name_plural = _("rule bands")

    def __str__(self):
        return f"{self.get_transaction_type_display()} {self.range_label}"

    def clean(self):
        errors = band_law_errors(
            transaction_type=self.transaction_type, member_body=self.member_body, party_proposal=self.party_proposal
        )
        if errors:
            raise ValidationError(errors)

    @property
    def range_label(self) -> str:
        """The amounts the band covers, in words ("2万元以下")."""
        return band_range_label(self.min_amount, self.max_amount)


class OnFailedVote(models.TextChoices):
    STOP = "stop", _("Stop the matter")
    RETURN = "return", _("Return it to the applicant")


# Days' notice of a meeting the law sets, and where: a county may lengthen them, never shorten them.
LAW_NOTICE_DAYS = {
    MeetingBody.MEMBER_ASSEMBLY: (10, _("Rural Collective Economic Organisations Law, art. 27")),
    MeetingBody.VILLAGER_MEETING: (10, _("Organic Law of Villagers' Committees, art. 21")),
}


class MeetingRule(models.Model):
    """Quorum and pass rule of one meeting body; defaults follow the law (see DOMAIN.md)."""

    rule_version = models.ForeignKey(
        RuleVersion, verbose_name=_("rule version"), on_delete=models.CASCADE, related_name="meeting_rules"
    )
    body = models.CharField(_("body"), max_length=30, choices=MeetingBody.choices)
    quorum_numerator = models.PositiveIntegerField(_("quorum numerator"))
    quorum_denominator = models.PositiveIntegerField(_("quorum denominator"), validators=[MinValueValidator(1)])
    quorum_inclusive = models.BooleanField(_("quorum reached at exactly the fraction"), default=True)
    # A villagers' meeting is also quorate when this share of households attend (组织法 art. 22).
    household_quorum_numerator = models.PositiveIntegerField(_("household quorum numerator"), null=True, blank=True)
    household_quorum_denominator = models.PositiveIntegerField(_("household quorum denominator"), null=True, blank=True)
    # The pass rule, a fraction like the quorum: a members' assembly needs at least 2/3 of ALL members (art. 27).
    pass_numerator = models.PositiveIntegerField(_("pass numerator"), default=1)
    pass_denominator = models.PositiveIntegerField(_("pass denominator"), default=2, validators=[MinValueValidator(1)])
    pass_inclusive = models.BooleanField(_("passed at exactly the fraction"), default=False)
    pass_of_expected = models.BooleanField(
        _("pass counted against those who should attend"),
        default=False,
        help_text=_("Otherwise against those who attended."),
    )
    on_failed_vote = models.CharField(
        _("when the vote fails"), max_length=10, choices=OnFailedVote.choices, default=OnFailedVote.RETURN
    )
    # The meeting's time, place and agenda are on the village's public board this many days before it.
    notice_days = models.PositiveIntegerField(
        _("days of notice before the meeting"),
        default=0,
        help_text=_("0: the body meets without a public notice."),
    )
    # A member may attend by a written proxy to a member of their own household (农村集体经济组织法 art. 27).
    proxies_per_attendee = models.PositiveIntegerField(
        _("written proxies one attendee may carry"),
        default=1,
        help_text=_("Proxies come only from members of the attendee's own household; 0: no proxies."),
    )
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule_version", "body"], name="unique_meeting_rule")]
        verbose_name = _("meeting rule")
        verbose_name_plural = _("meeting rules")

    def __str__(self):
        return f"{self.rule_version} · {self.get_body_display()}"

    def clean(self):
        law = LAW_NOTICE_DAYS.get(self.body)
        if law and self.notice_days is not None and self.notice_days < law[0]:
            raise ValidationError(
                {
                    "notice_days": _(
                        "The law requires at least %(days)s days' notice of this meeting (%(article)s); "
                        "a county may lengthen it, never shorten it."
                    )
                    % {"days": law[0], "article": law[1]}
                }
            )
        # A field that failed its own validation is already reported; the law is checked on whole fractions.
        if not (self.quorum_denominator and self.pass_denominator) or None in (
            self.quorum_numerator,
            self.pass_numerator,
        ):
            return
        has_households = self.household_quorum_numerator is not None or self.household_quorum_denominator
        if has_households and not (self.household_quorum_numerator and self.household_quorum_denominator):
            raise ValidationError(
                {"household_quorum_numerator": _("Give both the numerator and the denominator, or neither.")}
            )
        errors = meeting_rule_law_errors(
            body=self.body,
            quorum=self.quorum,
            household_quorum=self.household_quorum,
            passing=self.passing,
            pass_of_expected=self.pass_of_expected,
        )
        if errors:
            raise ValidationError(errors)

    @property
    def quorum(self) -> Share:
        return Share(self.quorum_numerator, self.quorum_denominator, self.quorum_inclusive)

    @property
    def household_quorum(self) -> Share | None:
        if not (self.household_quorum_numerator and self.household_quorum_denominator):
            return None
        return Share(self.household_quorum_numerator, self.household_quorum_denominator, True)

    @property
    def passing(self) -> Share:
        return Share(self.pass_numerator, self.pass_denominator, self.pass_inclusive)
