"""Domain errors: one shape for every refusal, mapped to HTTP by the API handler."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "domain_error"
    status = 400
    default_message: str | Promise = _("The request could not be processed.")

    def __init__(self, message: str | None = None, *, code: str | None = None, **details: Any):
        self.message = str(message or self.default_message)
        if code:
            self.code = code
        self.details = details
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = _("Not found.")


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403
    default_message = _("You are not allowed to do this.")


class ValidationFailed(DomainError):
    code = "validation_error"
    status = 422
    default_message = _("The input is not valid.")


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = _("The request conflicts with the current state.")


class InsufficientStock(Conflict):
    code = "insufficient_stock"
    default_message = _("Not enough available stock.")


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    default_message = _("This idempotency key was already used for a different request.")


class InvalidState(Conflict):
    code = "invalid_state"
    default_message = _("The document is not in a state that allows this.")
