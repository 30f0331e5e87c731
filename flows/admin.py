"""Matters are read in the admin by superusers for maintenance; all changes go through the flow."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Matter


@admin.register(Matter)
class MatterAdmin(SimpleHistoryAdmin):
    list_display = ["title", "organization", "transaction_type", "amount", "status", "next_step"]
    list_filter = ["status", "transaction_type"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
