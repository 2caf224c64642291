"""For the admin pages that change reference data every page reads (compensation rates,
guidance reasons): each change leaves an audit record in the hash chain, naming the
administrator and the fields changed from what to what, as a service's write does. And for
the read-only admin pages of records about people (referrals, placements, guidance contacts,
claims, the audit trail itself): each list and each record read is audited, as the pages'
reads are."""

from django.core.exceptions import FieldDoesNotExist
from django.db.models import ForeignKey

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


# The model whose rows are people with records (named by label: the audit layer does not
# import the clients app).
CLIENT_MODEL = "clients.Client"


class AuditedReadAdminMixin:
    """A read-only ModelAdmin of personal data whose list pages and record pages leave an
    audit record (`read`, reason "admin"), with the record's client where it has one. A list
    page's record names the clients it showed (`listed`: on each client's audit page), taken
    from the list's columns that are a client (`list_display`, or `audit_listed_client_fields`
    where a column shows a client otherwise); until 2026-12-07 the minors' care list showed
    names and named no client."""

    #: the attributes of a row holding the id of a client the list shows; None: each
    #: `list_display` column that is a foreign key (or one-to-one) to a client
    audit_listed_client_fields: tuple[str, ...] | None = None

    def _listed_client_fields(self, request) -> list[str]:
        if self.audit_listed_client_fields is not None:
            return list(self.audit_listed_client_fields)
        names = []
        for column in self.get_list_display(request):
            if not isinstance(column, str):
                continue
            try:
                field = self.model._meta.get_field(column)
            except FieldDoesNotExist:
                continue
            if isinstance(field, ForeignKey) and field.related_model._meta.label == CLIENT_MODEL:
                names.append(field.attname)
        return names

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        fields = self._listed_client_fields(request)
        listed = None
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if fields and changelist is not None:
            # the page's rows, read here once and then rendered from the same result cache
            rows = changelist.result_list
            listed = [getattr(row, name) for row in rows for name in fields]
        elif fields:
            listed = []  # no list shown (a redirect on a bad filter)
        audit_record(
            actor=request.user,
            action="read",
            object_type=self.model._meta.model_name,
            object_id="",
            reason="admin list",
            changes={"query": request.GET.urlencode()[:500]},
            listed=listed,
        )
        return response

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
