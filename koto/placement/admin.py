"""Read-only admin: placement records change only through the services."""

from django.contrib import admin

from koto.audit.admin_mixins import AuditedReadAdminMixin
from koto.placement.models import (
    HealthCheckReferral,
    MinorCare,
    Placement,
    PlacementAgreement,
    WelfareConsultation,
)


class ReadOnlyAdmin(AuditedReadAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PlacementAgreement)
class PlacementAgreementAdmin(ReadOnlyAdmin):
    list_display = ("municipality", "year", "authority", "status", "signed_on")
    list_filter = ("year", "status")


@admin.register(Placement)
class PlacementAdmin(ReadOnlyAdmin):
    list_display = ("id", "municipality", "year", "category", "status", "proposed_on")
    list_filter = ("status", "category", "year")


@admin.register(WelfareConsultation)
class WelfareConsultationAdmin(ReadOnlyAdmin):
    list_display = ("welfare_region", "consulted_on", "agreement", "placement")


@admin.register(HealthCheckReferral)
class HealthCheckReferralAdmin(ReadOnlyAdmin):
    list_display = ("placement", "welfare_region", "sent_on", "status")


@admin.register(MinorCare)
class MinorCareAdmin(ReadOnlyAdmin):
    list_display = ("client", "housing_form", "turns_18_on", "support_ends_on")
