from django.contrib import admin

from koto.audit.admin_mixins import AuditedReadAdminMixin
from koto.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(AuditedReadAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "at",
        "actor_label",
        "organisation_label",
        "action",
        "object_type",
        "object_id",
    ]
    list_filter = ["action", "object_type"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
