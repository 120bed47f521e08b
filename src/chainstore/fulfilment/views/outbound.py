"""Screens: the outbound check on a phone (scan, weigh, pack, ship, print), a shipment's
detail (lots, parcels, tracking timeline and a map of the journey) and the lot trace.

The check screen is an Alpine.js page over the outbound API (session auth with CSRF), so
the phone and an integrator's scanner app share one set of rules. The other two pages are
server-rendered; every view checks the permission and the site scope through the services.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _

from chainstore.core.errors import DomainError
from chainstore.core.permissions import ensure_can, has_perm
from chainstore.fulfilment.models import Shipment, ShipmentStatus
from chainstore.fulfilment.schemas_outbound import shipment_out
from chainstore.fulfilment.services import outbound, trace
from chainstore.sites.models import Site
from chainstore.sites.selectors import can_at_site, list_sites
from chainstore.web.errors import describe
from chainstore.web.http import page_view

MAP_W, MAP_H, MAP_PAD = 640, 360, 36
_CHECKABLE = (ShipmentStatus.PICKED, ShipmentStatus.CHECKED, ShipmentStatus.PACKED)


# -- the check ---------------------------------------------------------------------------
@page_view
def check(request: HttpRequest) -> HttpResponse:
    ensure_can(request.user, "fulfilment.check")
    sites = [
        s
        for s in list_sites(actor=request.user).filter(ship_from__enabled=True)
        if can_at_site(request.user, "fulfilment.check", s)
    ]
    placeholder = "__N__"
    config = {
        "csrf": get_token(request),
        "lookupUrl": reverse("api:outbound_check_lookup"),
        "shipmentUrl": reverse("api:outbound_shipment", kwargs={"number": placeholder}),
        "detailUrl": reverse("fulfilment:shipment_detail", kwargs={"number": placeholder}),
        "placeholder": placeholder,
        "sites": [{"code": s.code, "name": s.name} for s in sites],
        "site": request.GET.get("site") or (sites[0].code if len(sites) == 1 else ""),
        "scan": request.GET.get("scan", "")[:100],
        "canOverride": has_perm(request.user, "fulfilment.plan"),
        "text": _check_texts(),
    }
    return render(request, "fulfilment/check/check.html", {"config": config, "sites": sites})


def _check_texts() -> dict[str, str]:
    return {
        "network": _("The network failed; try again."),
        "failed": _("The request failed"),
        "chooseSite": _("Choose the site first."),
        "counted": _("Checked item"),
        "allChecked": _("Everything is checked: weigh the parcel."),
        "checked": _("Check completed."),
        "packed": _("Packed."),
        "shipped": _("Shipped. Print the labels."),
        "reset": _("The count starts again."),
        "packMismatch": _("The parcels must hold exactly what was checked."),
        "confirmReset": _("Start the count of this shipment again?"),
        "confirmOverride": _("Accept this weight although it is outside the tolerance?"),
        "noLot": _("no lot"),
    }


# -- one shipment ------------------------------------------------------------------------
@page_view
def shipment_detail(request: HttpRequest, number: str) -> HttpResponse:
    shipment = outbound.get_shipment(number=number, actor=request.user)
    data = shipment_out(shipment)
    context = {
        "shipment": shipment,
        "data": data,
        "journey": journey_map(shipment, data["tracking"]),
        "can_check": shipment.status in _CHECKABLE
        and _may(request.user, "fulfilment.check", shipment.site),
        "can_view_order": has_perm(request.user, "orders.view"),
    }
    return render(request, "fulfilment/check/shipment_detail.html", context)


def _may(user: Any, permission: str, site: Site) -> bool:
    return has_perm(user, permission) and can_at_site(user, permission, site)


def journey_map(shipment: Shipment, tracking: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The parcel's journey as points on a small SVG: the shipping site, every tracking
    event with coordinates (in time order) and the customer. An equirectangular
    projection around the points is plenty at city-to-city scale."""
    site, order = shipment.site, shipment.order
    raw: list[tuple[Decimal, Decimal, str, str]] = []
    if site.latitude is not None and site.longitude is not None:
        raw.append((site.latitude, site.longitude, site.name, "origin"))
    for event in tracking:
        if event["latitude"] is not None and event["longitude"] is not None:
            label = f"{event['code_label']} {event['place']}".strip()
            raw.append((event["latitude"], event["longitude"], label, "event"))
    if order.latitude is not None and order.longitude is not None:
        raw.append((order.latitude, order.longitude, order.city or _("Customer"), "destination"))
    if len(raw) < 2:
        return None
    lats = [float(p[0]) for p in raw]
    lons = [float(p[1]) for p in raw]
    squeeze = math.cos(math.radians(sum(lats) / len(lats)))
    xs = [lon * squeeze for lon in lons]
    span = max(max(xs) - min(xs), max(lats) - min(lats), 0.01)
    scale = min((MAP_W - 2 * MAP_PAD) / span, (MAP_H - 2 * MAP_PAD) / span)
    x0 = (MAP_W - (max(xs) - min(xs)) * scale) / 2
    y0 = (MAP_H - (max(lats) - min(lats)) * scale) / 2
    points = [
        {
            "x": round(x0 + (x - min(xs)) * scale, 1),
            "y": round(y0 + (max(lats) - lat) * scale, 1),
            "label": label,
            "kind": kind,
            "n": n,
        }
        for n, (x, lat, (_la, _lo, label, kind)) in enumerate(zip(xs, lats, raw, strict=True), 1)
    ]
    return {
        "width": MAP_W,
        "height": MAP_H,
        "points": points,
        "path": " ".join(f"{p['x']},{p['y']}" for p in points),
    }


# -- lot trace ---------------------------------------------------------------------------
@page_view
def trace_page(request: HttpRequest) -> HttpResponse:
    ensure_can(request.user, "fulfilment.trace")
    sku_text = request.GET.get("sku", "").strip()[:64]
    lot_text = request.GET.get("lot", "").strip()[:64]
    order_text = request.GET.get("order", "").strip()[:30]
    context: dict[str, Any] = {"sku": sku_text, "lot": lot_text, "order": order_text}
    errors: list[str] = []
    if sku_text and lot_text:
        try:
            sku = trace.find_sku(sku_text)
            context["lot_rows"] = trace.orders_for_lot(
                sku=sku, lot_number=lot_text, actor=request.user
            )
            context["lot_sku"] = sku
            context["csv_url"] = (
                reverse("api:outbound_trace_lot_csv") + "?" + request.GET.urlencode()
            )
        except DomainError as exc:
            errors.append(describe(exc))
    if order_text:
        try:
            order = trace.get_order(number=order_text, actor=request.user)
            context["order_rows"] = trace.lots_for_order(order=order, actor=request.user)
            context["order_obj"] = order
        except DomainError as exc:
            errors.append(describe(exc))
    context["errors"] = errors
    context["can_view_order"] = has_perm(request.user, "orders.view")
    return render(request, "fulfilment/trace/trace.html", context)


urlpatterns: list[URLPattern] = [
    path("check/", check, name="check"),
    path("shipments/<str:number>/", shipment_detail, name="shipment_detail"),
    path("trace/", trace_page, name="trace"),
]
