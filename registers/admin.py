from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from organizations.admin import JurisdictionAdmin

from .models import Asset, Member


@admin.register(Member)
class MemberAdmin(JurisdictionAdmin):
    list_display = ["name", "household", "organization", "status", "is_party_member", "is_representative"]
    list_filter = ["status", "is_party_member", "is_representative", "is_committee_member"]
    search_fields = ["name", "household"]


@admin.register(Asset)
class AssetAdmin(SimpleHistoryAdmin):
    """Read-only: asset cards change only through approved matters."""

    list_display = ["code", "name", "organization", "status", "original_value"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
