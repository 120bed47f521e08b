"""Hub, 上架 put-away and bin-to-bin move screens."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from chainstore.catalog.selectors import get_sku
from chainstore.core.permissions import ensure_can, has_perm
from chainstore.inventory import selectors, services
from chainstore.inventory.forms import (
    MoveForm,
    error_list,
)
from chainstore.inventory.models import Balance, StockOperation
from chainstore.inventory.views._common import (
    MOVE,
    OPERATION_PERMISSIONS,
    PUTAWAY,
    Refusal,
    Scanned,
    _attempt,
    _bins,
    _chosen_sku,
    _location,
    _lot,
    _moves,
    _open_screen,
    _qty_text,
    _scan,
    _sites_and_site,
)
from chainstore.sites.models import Location, LocationKind, Site
from chainstore.web.http import page_view, paginate


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
    data, site, context = _open_screen(request, "inventory.move", mode=mode)
    if site is None:
        return render(request, "inventory/transfer.html", context)
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
