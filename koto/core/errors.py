"""Domain errors: raised by services, translated by views (form message) and API (422)."""

from collections.abc import Mapping


class DomainError(Exception):
    """A rule refused the operation. `fields` maps field names to messages."""

    status = 422

    def __init__(
        self,
        code: str,
        message: str,
        *,
        fields: Mapping[str, list[str] | str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = str(message)
        self.fields = {
            k: [str(m) for m in (v if isinstance(v, list) else [v])]
            for k, v in (fields or {}).items()
        }

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "fields": self.fields}


class ValidationFailed(DomainError):
    """Bad input: one or more named fields."""

    def __init__(self, fields: Mapping[str, list[str] | str], message: str | None = None) -> None:
        from django.utils.translation import gettext

        super().__init__(
            "validation_error", message or gettext("Check the highlighted fields."), fields=fields
        )


class NotFound(DomainError):
    """The object does not exist or the viewer may not see it: both answer 404."""

    status = 404

    def __init__(self, what: str = "object") -> None:
        from django.utils.translation import gettext

        super().__init__("not_found", gettext("Not found."))
        self.what = what


class PermissionDenied(DomainError):
    """The viewer may see the object but not do this with it."""

    status = 403

    def __init__(self, message: str | None = None) -> None:
        from django.utils.translation import gettext

        super().__init__("permission_denied", message or gettext("You may not do this."))


def read_upload(upload, limit: int, message: str, field: str = "file") -> bytes:
    """The bytes of an uploaded file, refused on `field` before reading when it is larger than
    `limit`: Django spools any size to disk and `read()` took it all into memory."""
    if (upload.size or 0) > limit:
        raise ValidationFailed({field: message})
    return upload.read()
