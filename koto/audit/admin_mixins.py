"""For the admin pages that change reference data every page reads (compensation rates,
guidance reasons): each change leaves an audit record in the hash chain, naming the
administrator and the fields changed from what to what, as a service's write does."""

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
