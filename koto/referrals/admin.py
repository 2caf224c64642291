"""Read-only admin: referrals change only through their services."""

from django.contrib import admin

from koto.audit.admin_mixins import AuditedReadAdminMixin
from koto.referrals.models import Referral, ReferralStep


class ReadOnlyAdmin(AuditedReadAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "status", "from_organisation", "to_organisation", "due_on")
    list_filter = ("status", "kind")
    raw_id_fields = ("client",)


@admin.register(ReferralStep)
class ReferralStepAdmin(ReadOnlyAdmin):
    list_display = ("referral", "operation", "to_status", "at")
