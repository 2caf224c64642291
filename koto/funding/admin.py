from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from koto.audit.admin_mixins import AuditedAdminMixin, AuditedReadAdminMixin
from koto.funding.models import UNCONFIRMED_SOURCE, Claim, ClaimLine, CompensationRate


class CompensationRateForm(forms.ModelForm):
    class Meta:
        model = CompensationRate
        fields = ("year", "recipient", "age_band", "annual_amount", "source", "confirmed")

    def clean(self):
        data = super().clean()
        source = (data.get("source") or "").strip()
        if data.get("confirmed") and (not source or source == UNCONFIRMED_SOURCE):
            self.add_error(
                "source", _("Enter the decree or other source before marking the amount confirmed.")
            )
        return data


@admin.register(CompensationRate)
class CompensationRateAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Administrators keep the amounts from 2025 (set by government decree): enter the source
    and tick `confirmed` once checked. Each change is audited (every report and
    reconciliation reads these amounts)."""

    form = CompensationRateForm
    audit_object_type = "compensation_rate"

    def get_changelist_form(self, request, **kwargs):
        kwargs.setdefault("form", CompensationRateForm)
        return super().get_changelist_form(request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return False

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
class ClaimAdmin(AuditedReadAdminMixin, admin.ModelAdmin):
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
