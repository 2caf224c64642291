from django.contrib import admin

from koto.funding.models import Claim, ClaimLine, CompensationRate


@admin.register(CompensationRate)
class CompensationRateAdmin(admin.ModelAdmin):
    """Administrators keep the amounts from 2025 (set by government decree): enter the source
    and tick `confirmed` once checked."""

    list_display = ("year", "recipient", "age_band", "annual_amount", "confirmed", "source")
    list_filter = ("year", "confirmed", "recipient")
    list_editable = ("annual_amount", "confirmed", "source")
    ordering = ("year", "recipient", "age_band")


class ClaimLineInline(admin.TabularInline):
    model = ClaimLine
    fields = ("occurred_on", "description", "amount")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    """Read-only: claims move through their services."""

    list_display = ("id", "organisation", "section", "period_start", "period_end", "status")
    list_filter = ("status", "section")
    inlines = [ClaimLineInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
