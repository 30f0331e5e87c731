from django.contrib import admin

from .models import Witness


@admin.register(Witness)
class WitnessAdmin(admin.ModelAdmin):
    """The county registers the offices that witness its log (name and public key from ledger_witness --print-key)."""

    list_display = ("name", "description", "active", "added_at")
    list_filter = ("active",)
