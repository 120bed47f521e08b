"""Shared pieces of the stock operation screens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chainstore.catalog.models import Sku
from chainstore.catalog.selectors import get_sku
from chainstore.catalog.services import resolve_scan
from chainstore.core.errors import DomainError, PermissionDenied
from chainstore.core.permissions import ensure_can
from chainstore.core.quantities import milli_to_qty
from chainstore.inventory.errors import LotNotFound
from chainstore.inventory.models import Lot, StockOperation
from chainstore.sites.models import Location, Site
from chainstore.sites.selectors import get_site, list_locations, list_sites
from chainstore.web.errors import describe

PUTAWAY, MOVE = "putaway", "move"
OPERATION_PERMISSIONS = (
    "inventory.move",
    "inventory.issue",
    "inventory.adjust",
    "inventory.safety_stock",
    "inventory.lots",
)
MESSAGES = {
    "idempotency_key_reused": gettext_lazy(
        "This form was already posted with other values; nothing was changed again. "
        "Start over with a fresh form."
    ),
    "lot_expired": gettext_lazy("This lot has expired and cannot be issued."),
    "same_location": gettext_lazy("Source and destination are the same."),
    "cross_site_move": gettext_lazy("Both locations must be at the same site."),
}


class Refusal(Exception):
    """A refusal found by the screen before calling a service (e.g. an unknown bin)."""


def _describe(exc: DomainError) -> str:
    if exc.code in MESSAGES:
        text = str(MESSAGES[exc.code])
        subject = " / ".join(str(exc.details[k]) for k in ("sku", "lot") if exc.details.get(k))
        text = f"{subject}: {text}" if subject else text
    else:
        text = describe(exc)
    if exc.code == "insufficient_stock" and exc.details.get("available") is not None:
        available = Decimal(str(exc.details["available"])).normalize()
        text += " " + _("Available: %(quantity)s.") % {"quantity": f"{available:f}"}
    return text


def _qty_text(milli: int) -> str:
    """Integer thousandths -> the plain decimal a person types ("5.5", "10")."""
    return f"{milli_to_qty(milli).normalize():f}"


def _attempt(errors: list[str], call: Callable[[], StockOperation]) -> tuple[Any, int]:
    """Run one posting; a refusal (403 aside) becomes an inline message and a status."""
    try:
        return call(), 200
    except PermissionDenied:
        raise
    except DomainError as exc:
        errors.append(_describe(exc))
        return None, exc.status if exc.status in (409, 422) else 422
    except Refusal as exc:
        errors.append(str(exc))
        return None, 422


# -- shared lookups ----------------------------------------------------------------------
def _sites_and_site(request: HttpRequest, data: QueryDict) -> tuple[list[Site], Site | None]:
    """The actor's sites and the chosen one (scope checked by get_site: 403 outside)."""
    sites = list(list_sites(actor=request.user))
    code = data.get("site", "").strip()
    if code:
        return sites, get_site(code=code, actor=request.user)
    return sites, (sites[0] if sites else None)


def _open_screen(
    request: HttpRequest, permission: str, **context: Any
) -> tuple[QueryDict, Site | None, dict[str, Any]]:
    """How every operation screen starts: the role may do this at all; the form data (POST,
    else GET); the actor's sites and the chosen one, where the permission is checked again.
    Returns (data, site, context) with context holding sites, site and an errors list."""
    ensure_can(request.user, permission)
    data = request.POST if request.method == "POST" else request.GET
    sites, site = _sites_and_site(request, data)
    if site is not None:
        ensure_can(request.user, permission, sites=[site.pk])
    return data, site, {**context, "sites": sites, "site": site, "errors": []}


def _location(site: Site, code: str) -> Location:
    """A physical location of the site by its (scanned) code; "SITE/CODE" labels work too."""
    code = code.strip()
    prefix = f"{site.code}/"
    if code.upper().startswith(prefix.upper()):
        code = code[len(prefix) :]
    location = Location.objects.filter(site=site, code__iexact=code, is_virtual=False).first()
    if location is None or not code:
        raise Refusal(
            _("There is no location %(code)s at %(site)s.") % {"code": code, "site": site.code}
        )
    if not location.is_active:
        raise Refusal(_("Location %(code)s is not active.") % {"code": location.code})
    return location


@dataclass
class Scanned:
    """What a scan named: a SKU (with the GS1 lot if any), or a location of the site."""

    sku: Sku | None = None
    lot_number: str | None = None
    location: Location | None = None
    errors: list[str] = field(default_factory=list)


def _scan(site: Site, code: str) -> Scanned:
    code = code.strip()
    if not code:
        return Scanned()
    try:
        result = resolve_scan(code)
    except DomainError as exc:
        location = Location.objects.filter(site=site, code__iexact=code, is_virtual=False).first()
        if location is not None:
            return Scanned(location=location)
        return Scanned(errors=[describe(exc)])
    return Scanned(sku=result.sku, lot_number=result.lot if result.sku.is_lot_tracked else None)


def _chosen_sku(data: QueryDict) -> Sku | None:
    try:
        return get_sku(sku_id=int(data.get("sku", "")))
    except (ValueError, DomainError):
        return None


def _lot(sku: Sku, lot_id: int | None) -> Lot | None:
    if lot_id is None:
        return None
    lot = Lot.objects.filter(pk=lot_id, sku=sku).first()
    if lot is None:
        raise LotNotFound(sku=sku.code)
    return lot


def _moves(operation: StockOperation) -> list[Any]:
    return list(
        operation.moves.select_related("sku", "lot", "from_location", "to_location").order_by("id")
    )


def _bins(site: Site, request: HttpRequest, kind: str = "") -> list[Location]:
    qs = list_locations(site=site, actor=request.user, kind=kind).filter(is_active=True)
    return list(qs.exclude(is_virtual=True)[:500])
