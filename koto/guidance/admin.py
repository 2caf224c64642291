from django.contrib import admin

from koto.audit.admin_mixins import AuditedAdminMixin, AuditedReadAdminMixin
from koto.guidance.models import Contact, ReasonCode


@admin.register(ReasonCode)
class ReasonCodeAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Reason codes are reference data: an administrator may add, relabel and deactivate them
    (a code in use is never deleted, so old reports keep their rows; a code is never renamed,
    for imports and API clients send it). Each change is audited."""

    audit_object_type = "guidance_reason"

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()

    list_display = ["code", "label_fi", "label_en", "theme", "active", "position"]
    list_editable = ["active", "position"]
    list_filter = ["theme", "active"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Contact)
class ContactAdmin(AuditedReadAdminMixin, admin.ModelAdmin):
    """Read-only: contacts are written by the service."""

    list_display = ["id", "organisation", "contacted_on", "kind", "channel", "outcome"]
    list_filter = ["kind", "channel", "outcome"]
    raw_id_fields = ["client", "organisation", "logged_by", "referred_to_organisation", "office"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
