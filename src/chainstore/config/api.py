"""The one NinjaAPI: a router per app, one error shape, token + session auth."""

from __future__ import annotations

from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from chainstore.accounts.api import router as accounts_router
from chainstore.catalog.api import router as catalog_router
from chainstore.core.api import router as audit_router
from chainstore.core.api_auth import SessionAuth, TokenAuth, docs_auth
from chainstore.core.errors import DomainError
from chainstore.counts.api import router as counts_router
from chainstore.fulfilment.api import routers as fulfilment_routers
from chainstore.integrations.api import router as integrations_router
from chainstore.inventory.api import router as inventory_router
from chainstore.pos.api import routers as pos_routers
from chainstore.sites.api import router as sites_router
from chainstore.transfers.api import routers as transfer_routers

api = NinjaAPI(
    title="chainstore API",
    version="1",
    description=(
        "Warehouse + store management for chain retail. Authenticate with "
        "`Authorization: Bearer <token>` (machines) or the browser session (with CSRF). "
        "Quantities are decimal strings in the SKU's base unit; money in CNY. Every write "
        "that moves stock requires an `Idempotency-Key` header: a replay returns the first "
        "result and moves nothing. Errors are `{code, message, details}`."
    ),
    auth=[TokenAuth(), SessionAuth()],
    urls_namespace="api",
    docs_url="/docs",
    docs_decorator=docs_auth,
    openapi_url="/openapi.json",
)


def _error(
    request: HttpRequest, status: int, code: str, message: str, details: dict | None = None
) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "details": details or {}}, status=status
    )


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc.status, exc.code, exc.message, exc.details)


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [
        {"loc": [str(p) for p in e.get("loc", [])], "msg": e.get("msg", ""), "type": e.get("type")}
        for e in exc.errors
    ]
    return _error(
        request, 422, "validation_error", _("The input is not valid."), {"errors": errors}
    )


@api.exception_handler(DataError)
def on_data_error(request: HttpRequest, exc: DataError) -> HttpResponse:
    """Input the database cannot hold (a NUL character in text, a number out of range) that
    slipped past validation: refused as bad input, never a 500. The failed statement's
    transaction has rolled back, so nothing changed."""
    return _error(
        request, 422, "invalid_input", _("The input contains a value that cannot be stored.")
    )


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "not_authenticated", _("Log in or send a valid API token."))


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", _("Not found."))


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = "csrf_failed" if exc.status_code == 403 else "http_error"
    return _error(request, exc.status_code, code, str(exc))


api.add_router("/accounts", accounts_router, tags=["accounts"])
api.add_router("/catalog", catalog_router, tags=["catalog"])
api.add_router("/sites", sites_router, tags=["sites"])
api.add_router("/inventory", inventory_router, tags=["inventory"])
api.add_router("/counts", counts_router, tags=["counts"])
for pos_router in pos_routers:
    api.add_router("/pos", pos_router, tags=["pos"])
for fulfilment_router in fulfilment_routers:
    api.add_router("/fulfilment", fulfilment_router, tags=["fulfilment"])
for transfer_router in transfer_routers:
    api.add_router("/transfers", transfer_router, tags=["transfers"])
api.add_router("/data", integrations_router, tags=["import-export"])
api.add_router("/audit", audit_router, tags=["audit"])
