"""The county administrator manages organisations, posts and rule tables here, within their county."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.db import models
from django.utils.html import format_html
from django.utils.translation import gettext as _
from simple_history.admin import SimpleHistoryAdmin

from .amounts import AmountField
from .jurisdiction import visible, visible_organizations
from .models import MeetingRule, Organization, Post, RuleBand, RuleVersion


class JurisdictionAdmin(SimpleHistoryAdmin):
    """Superusers see everything; a county administrator only what lies under their posts."""

    organization_field = "organization"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        if self.organization_field == "self":
            return queryset.filter(pk__in=visible_organizations(request.user).values("pk"))
        return visible(request.user, queryset, self.organization_field)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Organization and not request.user.is_superuser:
            kwargs["queryset"] = visible_organizations(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Organization)
class OrganizationAdmin(JurisdictionAdmin):
    organization_field = "self"
    list_display = ["name", "code", "kind", "parent"]
    list_filter = ["kind"]
    search_fields = ["name", "code"]


@admin.register(Post)
class PostAdmin(JurisdictionAdmin):
    list_display = ["user", "organization", "role"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__first_name", "organization__name"]


# Every decimal of the rule tables is an amount in yuan: typed as a person writes it, never "1e5".
AMOUNT_INPUTS = {models.DecimalField: {"form_class": AmountField}}


class RuleBandInline(admin.TabularInline):
    model = RuleBand
    extra = 0
    formfield_overrides = AMOUNT_INPUTS


class MeetingRuleInline(admin.TabularInline):
    model = MeetingRule
    extra = 0


@admin.register(RuleVersion)
class RuleVersionAdmin(JurisdictionAdmin):
    organization_field = "county"
    list_display = ["county", "number", "effective_from", "publication_days", "quotation_threshold"]
    inlines = [RuleBandInline, MeetingRuleInline]
    formfield_overrides = AMOUNT_INPUTS

    def has_change_permission(self, request, obj=None):
        # A version some matter started under is frozen: the county changes rules by adding a version.
        if obj is not None and obj.matters.exists():
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.matters.exists():
            return False
        return super().has_delete_permission(request, obj)


class PasswordChangeForm(AdminPasswordChangeForm):
    """Django's form, with the warning Django 5.2 appends to its help text in English put into words we translate."""

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        if "usable_password" in self.fields:
            self.fields["usable_password"].help_text = format_html(
                '{}<ul id="id_unusable_warning" class="messagelist"><li class="warning">{}</li></ul>',
                self.fields["usable_password"].help_text.split("<ul", 1)[0],
                _("If disabled, the current password for this user will be lost."),
            )


class CountyUserAdmin(UserAdmin):
    """A county administrator keeps people's accounts; only a superuser hands out Django's own permissions.

    Without this a user with the "change user" permission could make anyone, themselves included, a
    superuser. Posts (roles in organisations) are what the product's permissions come from."""

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser or obj is None:
            return fieldsets
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in self.superuser_only_fields]})
            for name, options in fieldsets
        ]

    superuser_only_fields = ("is_superuser", "groups", "user_permissions")
    change_password_form = PasswordChangeForm


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), CountyUserAdmin)
