"""Stock operation screens (phone + wedge scanner): put-away, bin moves, adjustments, manual
issue, safety stock and lot expiry. Thin: reads through selectors, writes through services
(which check the role and site scope); refusals are shown inline and change nothing.

A scan field is a GET form (the scanner types the code and presses Enter); the posting form
carries an idempotency key made when the form was first shown, so a double tap or a resend
posts once. After posting, the screen shows the result and is ready for the next item.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from chainstore.catalog.models import Sku
from chainstore.catalog.selectors import get_sku
from chainstore.catalog.services import resolve_scan
from chainstore.core.errors import DomainError, PermissionDenied
from chainstore.core.permissions import ensure_can, has_perm
from chainstore.core.quantities import milli_to_qty
from chainstore.inventory import selectors, services
from chainstore.inventory.errors import LotNotFound
from chainstore.inventory.forms import (
    AdjustForm,
    IssueForm,
    LotExpiryForm,
    MoveForm,
    SafetyStockForm,
    error_list,
)
from chainstore.inventory.models import Balance, Lot, SiteSku, StockOperation
from chainstore.sites.models import Location, LocationKind, Site
from chainstore.sites.selectors import get_site, list_locations, list_sites
from chainstore.web.errors import describe
from chainstore.web.http import page_view, paginate

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


# -- hub -------------------------------------------------------------------------------
@page_view
def index(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not any(has_perm(user, p) for p in OPERATION_PERMISSIONS):
        ensure_can(user, "inventory.move")  # raises: this role has no stock operations
    sites, site = _sites_and_site(request, request.GET)
    actions = [
        ("inventory:putaway", "box-arrow-in-down", _("Put-away"), _("Receiving → storage bin"))
        if has_perm(user, "inventory.move")
        else None,
        ("inventory:move", "arrow-left-right", _("Bin move"), _("Move stock between bins"))
        if has_perm(user, "inventory.move")
        else None,
        ("inventory:issue", "box-arrow-up", _("Manual issue"), _("Internal use, samples"))
        if has_perm(user, "inventory.issue")
        else None,
        ("inventory:adjust", "plus-slash-minus", _("Adjustment"), _("Damage, loss, found stock"))
        if has_perm(user, "inventory.adjust")
        else None,
        ("inventory:safety_stock", "shield", _("Safety stock"), _("Set or clear per site"))
        if has_perm(user, "inventory.safety_stock")
        else None,
        ("inventory:lots", "calendar2-week", _("Lots and expiry"), _("Correct a lot's expiry"))
        if has_perm(user, "inventory.lots")
        else None,
        ("receiving", "truck", pgettext("navigation", "Receiving"), _("Goods in from suppliers"))
        if has_perm(user, "inventory.receive")
        else None,
    ]
    tiles = [
        {"url": reverse(name), "icon": icon, "label": label, "hint": hint}
        for name, icon, label, hint in (a for a in actions if a is not None)
    ]
    return render(request, "inventory/index.html", {"sites": sites, "site": site, "tiles": tiles})


# -- put-away and bin moves ------------------------------------------------------------
@page_view
def putaway(request: HttpRequest) -> HttpResponse:
    return _transfer(request, PUTAWAY)


@page_view
def move(request: HttpRequest) -> HttpResponse:
    return _transfer(request, MOVE)


def _transfer(request: HttpRequest, mode: str) -> HttpResponse:
    ensure_can(request.user, "inventory.move")
    data = request.POST if request.method == "POST" else request.GET
    sites, site = _sites_and_site(request, data)
    context: dict[str, Any] = {"mode": mode, "sites": sites, "site": site, "errors": []}
    if site is None:
        return render(request, "inventory/transfer.html", context)
    ensure_can(request.user, "inventory.move", sites=[site.pk])
    errors: list[str] = context["errors"]
    source_code = data.get("source", "").strip()
    if not source_code and mode == PUTAWAY and site.receiving_location_id:
        source_code = site.receiving_location.code  # type: ignore[union-attr]
    scanned = _scan(site, data.get("scan", "")) if request.method == "GET" else Scanned()
    errors += scanned.errors
    if scanned.location is not None:
        source_code, scanned = scanned.location.code, Scanned()
    source = None
    if source_code:
        try:
            source = _location(site, source_code)
        except Refusal as exc:
            errors.append(str(exc))
    status = 200
    form = None
    if request.method == "POST":
        form = MoveForm(request.POST)
        if source is None:
            status = 422
        elif not form.is_valid():
            errors += error_list(form)
            status = 422
        else:
            posted, status = _attempt(
                errors, partial(_post_transfer, request, mode, site, source, form)
            )
            if posted is not None:
                context["operation"] = posted
    if "operation" in context:
        context["moves"] = _moves(context["operation"])
        form, line = None, None
    else:
        line = _selected_line(request, data, site, source, scanned, context)
    if line is not None and form is None:
        form = MoveForm(
            initial={"quantity": _qty_text(max(line.available, 0))}  # type: ignore[attr-defined]
        )
    rows = selectors.site_stock(site=site, actor=request.user, location=source) if source else None
    dest_kind = LocationKind.STORAGE if mode == PUTAWAY else ""
    context.update(
        {
            "source": source,
            "source_code": source_code,
            "line": line,
            "form": form,
            "page": paginate(request, rows, 50) if rows is not None else None,
            "locations": _bins(site, request),
            "destinations": _bins(site, request, dest_kind),
        }
    )
    return render(request, "inventory/transfer.html", context, status=status)


def _selected_line(
    request: HttpRequest,
    data: QueryDict,
    site: Site,
    source: Location | None,
    scanned: Scanned,
    context: dict[str, Any],
) -> Balance | None:
    """The stock line to move: tapped (sku + lot ids) or scanned (SKU, GS1 lot)."""
    if source is None:
        return None
    sku = scanned.sku or _chosen_sku(data)
    if sku is None:
        return None
    lines = list(selectors.site_stock(site=site, actor=request.user, location=source, sku=sku))
    if scanned.lot_number:
        lines = [b for b in lines if b.lot and b.lot.number == scanned.lot_number]
    elif scanned.sku is None and data.get("lot", ""):
        lines = [b for b in lines if str(b.lot_id) == data.get("lot")]
    elif scanned.sku is None:
        lines = [b for b in lines if b.lot_id is None]
    if len(lines) == 1:
        return lines[0]
    if not lines:
        context["errors"].append(
            _("%(sku)s: nothing of this SKU at %(location)s.")
            % {"sku": sku.code, "location": source.code}
        )
    else:
        context["choices"] = lines
    return None


def _post_transfer(
    request: HttpRequest, mode: str, site: Site, source: Location, form: MoveForm
) -> StockOperation:
    data = form.cleaned_data
    sku = get_sku(sku_id=data["sku"])
    lot = _lot(sku, data["lot"])
    destination = _location(site, data["destination"])
    if mode == PUTAWAY and destination.kind != LocationKind.STORAGE:
        raise Refusal(_("%(code)s is not a storage bin.") % {"code": destination.code})
    service = services.put_away if mode == PUTAWAY else services.move_stock
    return service(
        sku=sku,
        lot=lot,
        quantity=data["quantity"],
        from_location=source,
        to_location=destination,
        actor=request.user,
        idempotency_key=data["idempotency_key"],
    )


# -- adjustment ------------------------------------------------------------------------
@page_view
def adjust(request: HttpRequest) -> HttpResponse:
    ensure_can(request.user, "inventory.adjust")
    data = request.POST if request.method == "POST" else request.GET
    sites, site = _sites_and_site(request, data)
    context: dict[str, Any] = {"sites": sites, "site": site, "errors": []}
    if site is None:
        return render(request, "inventory/adjust.html", context)
    ensure_can(request.user, "inventory.adjust", sites=[site.pk])
    errors: list[str] = context["errors"]
    location_code = data.get("location", "").strip()
    if not location_code and site.stock_location_id:
        location_code = site.stock_location.code  # type: ignore[union-attr]
    scanned = _scan(site, data.get("scan", "")) if request.method == "GET" else Scanned()
    errors += scanned.errors
    if scanned.location is not None:
        location_code = scanned.location.code
    location = None
    try:
        location = _location(site, location_code)
    except Refusal as exc:
        errors.append(str(exc))
    sku = scanned.sku or _chosen_sku(data)
    status, form = 200, None
    if request.method == "POST" and (location is None or sku is None):
        status = 422
    elif request.method == "POST" and location is not None and sku is not None:
        form = AdjustForm(request.POST)
        if not form.is_valid():
            errors += error_list(form)
            status = 422
        else:
            lot_number, expiry = form.lot_and_expiry()
            posted, status = _attempt(
                errors,
                partial(
                    services.adjust,
                    location=location,
                    sku=sku,
                    delta=form.delta(),
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                    lot_number=lot_number,
                    expiry_date=expiry,
                    note=form.cleaned_data["note"],
                    idempotency_key=form.cleaned_data["idempotency_key"],
                ),
            )
            if posted is not None:
                context["operation"] = posted
    if "operation" in context:
        context["moves"] = _moves(context["operation"])
        form, sku = None, None
    if sku is not None and form is None:
        initial = {"lot": scanned.lot_number or ""}
        form = AdjustForm(initial=initial)
    lots = []
    if sku is not None and location is not None:
        lots = list(selectors.site_stock(site=site, actor=request.user, location=location, sku=sku))
    context.update(
        {
            "location": location,
            "location_code": location_code,
            "sku": sku,
            "form": form,
            "lots": [b for b in lots if b.lot_id],
            "untracked_line": next((b for b in lots if not b.lot_id), None),
            "locations": _bins(site, request),
        }
    )
    return render(request, "inventory/adjust.html", context, status=status)


# -- manual issue ----------------------------------------------------------------------
@page_view
def issue(request: HttpRequest) -> HttpResponse:
    ensure_can(request.user, "inventory.issue")
    data = request.POST if request.method == "POST" else request.GET
    sites, site = _sites_and_site(request, data)
    context: dict[str, Any] = {"sites": sites, "site": site, "errors": []}
    if site is None:
        return render(request, "inventory/issue.html", context)
    ensure_can(request.user, "inventory.issue", sites=[site.pk])
    errors: list[str] = context["errors"]
    scanned = _scan(site, data.get("scan", "")) if request.method == "GET" else Scanned()
    errors += scanned.errors
    if scanned.location is not None:
        errors.append(_("Scan a product, not a location."))
    sku = scanned.sku or _chosen_sku(data)
    status, form = 200, None
    if request.method == "POST" and sku is not None:
        form = IssueForm(request.POST)
        if not form.is_valid():
            errors += error_list(form)
            status = 422
        else:
            posted, status = _attempt(
                errors,
                partial(
                    services.issue,
                    site=site,
                    sku=sku,
                    quantity=form.cleaned_data["quantity"],
                    reason=form.cleaned_data["reason"],
                    reference=form.cleaned_data["reference"],
                    actor=request.user,
                    idempotency_key=form.cleaned_data["idempotency_key"],
                ),
            )
            if posted is not None:
                context["operation"] = posted
    if "operation" in context:
        context["moves"] = _moves(context["operation"])
        form, sku = None, None
    if sku is not None and form is None:
        form = IssueForm(initial={"quantity": "1"})
    stock = []
    if sku is not None:
        stock = [
            b
            for b in selectors.site_stock(site=site, actor=request.user, sku=sku)
            if b.location.kind in services.ISSUE_KINDS
        ]
    context.update({"sku": sku, "form": form, "stock": stock})
    return render(request, "inventory/issue.html", context, status=status)


# -- safety stock ----------------------------------------------------------------------
@page_view
def safety_stock(request: HttpRequest) -> HttpResponse:
    ensure_can(request.user, "inventory.safety_stock")
    data = request.POST if request.method == "POST" else request.GET
    sites, site = _sites_and_site(request, data)
    context: dict[str, Any] = {"sites": sites, "site": site, "errors": []}
    if site is None:
        return render(request, "inventory/safety_stock.html", context)
    ensure_can(request.user, "inventory.safety_stock", sites=[site.pk])
    scanned = _scan(site, data.get("scan", "")) if request.method == "GET" else Scanned()
    context["errors"] += scanned.errors
    sku = scanned.sku or _chosen_sku(data)
    next_url = data.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = ""
    status = 200
    form = SafetyStockForm(request.POST) if request.method == "POST" else None
    if form is not None and sku is not None:
        if not form.is_valid():
            context["errors"] += error_list(form)
            status = 422
        else:
            quantity = form.cleaned_data["quantity"]
            try:
                services.set_safety_stock(site=site, sku=sku, quantity=quantity, actor=request.user)
            except PermissionDenied:
                raise
            except DomainError as exc:
                context["errors"].append(_describe(exc))
                status = 422
            else:
                messages.success(request, _safety_message(site, sku, quantity))
                if next_url:
                    return redirect(next_url)
                return redirect(f"{reverse('inventory:safety_stock')}?site={site.code}")
    current = None
    if sku is not None:
        current = (
            SiteSku.objects.filter(site=site, sku=sku)
            .values_list("safety_stock", flat=True)
            .first()
        )
    if sku is not None and (form is None or status == 200):
        value = "" if current is None else _qty_text(current)
        form = SafetyStockForm(initial={"quantity": value})
    context.update({"sku": sku, "form": form, "current": current, "next": next_url})
    return render(request, "inventory/safety_stock.html", context, status=status)


def _safety_message(site: Site, sku: Sku, quantity: int | None) -> str:
    if quantity is None:
        return _("Safety stock of %(sku)s at %(site)s cleared.") % {
            "sku": sku.code,
            "site": site.code,
        }
    return _("Safety stock of %(sku)s at %(site)s set to %(quantity)s %(unit)s.") % {
        "sku": sku.code,
        "site": site.code,
        "quantity": _qty_text(quantity),
        "unit": sku.base_unit,
    }


# -- lots and expiry -------------------------------------------------------------------
@page_view
def lots(request: HttpRequest) -> HttpResponse:
    """Lot rows of a scanned SKU at a site, each with a link to correct its expiry."""
    ensure_can(request.user, "inventory.lots")
    sites, site = _sites_and_site(request, request.GET)
    context: dict[str, Any] = {"sites": sites, "site": site, "errors": []}
    sku = None
    if site is not None:
        scanned = _scan(site, request.GET.get("scan", ""))
        context["errors"] += scanned.errors
        sku = scanned.sku or _chosen_sku(request.GET)
    rows: dict[int, dict[str, Any]] = {}
    if sku is not None and site is not None:
        if not sku.is_lot_tracked:
            context["errors"].append(_("%(sku)s is not lot-tracked.") % {"sku": sku.code})
        for b in selectors.site_stock(site=site, actor=request.user, sku=sku):
            if b.lot_id is None:
                continue
            row = rows.setdefault(b.lot_id, {"lot": b.lot, "on_hand": 0, "locations": []})
            row["on_hand"] += b.on_hand
            row["locations"].append(b.location.code)
    context.update({"sku": sku, "rows": list(rows.values())})
    return render(request, "inventory/lots.html", context)


@page_view
def lot_expiry(request: HttpRequest, lot_id: int) -> HttpResponse:
    ensure_can(request.user, "inventory.lots")
    lot = Lot.objects.select_related("sku").filter(pk=lot_id).first()
    if lot is None:
        raise LotNotFound()
    site_code = request.GET.get("site", "") or request.POST.get("site", "")
    back = f"{reverse('inventory:lots')}?site={site_code}&sku={lot.sku_id}"
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        form = LotExpiryForm(request.POST)
        if form.is_valid():
            before = lot.expiry_date
            try:
                services.correct_lot_expiry(
                    lot=lot, expiry_date=form.cleaned_data["expiry_date"], actor=request.user
                )
            except PermissionDenied:
                raise
            except DomainError as exc:  # pragma: no cover - the service has no other refusal
                errors.append(_describe(exc))
                status = 422
            else:
                messages.success(
                    request,
                    _("Expiry of lot %(lot)s corrected: %(before)s → %(after)s.")
                    % {"lot": lot.number, "before": before or "—", "after": lot.expiry_date},
                )
                return redirect(back)
        else:
            errors += error_list(form)
            status = 422
    else:
        form = LotExpiryForm(initial={"expiry_date": lot.expiry_date})
    context = {"lot": lot, "form": form, "errors": errors, "back": back, "site_code": site_code}
    return render(request, "inventory/lot_expiry.html", context, status=status)
