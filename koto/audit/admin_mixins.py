"""For the admin pages that change reference data every page reads (compensation rates,
guidance reasons): each change leaves an audit record in the hash chain, naming the
administrator and the fields changed from what to what, as a service's write does. And for
the read-only admin pages of records about people (referrals, placements, guidance contacts,
claims, the audit trail itself): each list and each record read is audited, as the pages'
reads are."""

from koto.audit.services import audit_record


def _plain(value):
    return value if value is None or isinstance(value, bool | int | str) else str(value)


class AuditedAdminMixin:
    """A ModelAdmin whose additions and changes (also in the list's editable columns) are
    audited. Deletions are not offered by the admins that use it."""

    audit_object_type = ""

    def save_model(self, request, obj, form, change):
        before = {}
        if change and obj.pk is not None:
            stored = type(obj).objects.filter(pk=obj.pk).values(*form.changed_data).first() or {}
            before = {k: _plain(v) for k, v in stored.items()}
        super().save_model(request, obj, form, change)
        changes = {
            name: [before.get(name), _plain(getattr(obj, name))]
            if change
            else _plain(getattr(obj, name))
            for name in form.changed_data
        }
        audit_record(
            actor=request.user,
            action="update" if change else "create",
            object_type=self.audit_object_type or obj._meta.model_name,
            object_id=obj.pk,
            reason="admin",
            changes=changes,
        )


class AuditedReadAdminMixin:
    """A read-only ModelAdmin of personal data whose list pages and record pages leave an
    audit record (`read`, reason "admin"), with the record's client where it has one."""

    def changelist_view(self, request, extra_context=None):
        audit_record(
            actor=request.user,
            action="read",
            object_type=self.model._meta.model_name,
            object_id="",
            reason="admin list",
            changes={"query": request.GET.urlencode()[:500]},
        )
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None:
            audit_record(
                actor=request.user,
                action="read",
                object_type=self.model._meta.model_name,
                object_id=obj.pk,
                client_id=getattr(obj, "client_id", None),
                reason="admin",
            )
        return super().change_view(request, object_id, form_url, extra_context)
