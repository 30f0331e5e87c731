"""The registers (台账) of a collective economic organisation."""

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .identity import birth_date, validate_id_number


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
    id_number = models.CharField(_("ID number"), max_length=18, validators=[validate_id_number])
    household = models.CharField(_("household"), max_length=40)
    basis = models.CharField(
        _("basis"), max_length=20, choices=MembershipBasis.choices, default=MembershipBasis.ORIGINAL
    )
    status = models.CharField(_("status"), max_length=20, choices=MemberStatus.choices, default=MemberStatus.ACTIVE)
    is_party_member = models.BooleanField(_("party member"), default=False)
    is_representative = models.BooleanField(_("villager representative"), default=False)
    is_committee_member = models.BooleanField(_("two-committee member"), default=False)
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["organization", "household", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "id_number"], name="unique_member_id_number"),
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
        verbose_name = _("asset")
        verbose_name_plural = _("assets")

    def __str__(self):
        return f"{self.code} {self.name}"

    def get_absolute_url(self):
        return reverse("registers:asset_detail", args=[self.pk])
