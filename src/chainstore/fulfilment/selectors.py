"""Reads of online orders: the order list, an order's detail and its timeline, the
sourcing settings.

Orders are chain-level. HQ, admins, auditors and integrators (every-site roles) see every
order; a site-scoped user (warehouse or store staff) sees the orders that have a shipment
at one of their sites. Everything needs `orders.view`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chainstore.core.errors import NotFound, PermissionDenied
from chainstore.core.permissions import ensure_can, scope_site_ids
from chainstore.fulfilment.models import (
    CustomerOrder,
    EventKind,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Parcel,
    SalesChannel,
    ShipFromSite,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
    SourcingDecision,
    SourcingPolicy,
)
from chainstore.fulfilment.services.trace import describe_outbound_event
from chainstore.integrations.spreadsheet import write_csv
from chainstore.sites.models import Site


# -- the list ----------------------------------------------------------------------------
@dataclass(frozen=True)
class OrderFilter:
    status: str = ""
    channel: str = ""  # channel code
    site: str = ""  # site code: orders with a shipment there
    search: str = ""  # order number, channel order id, phone or receiver name
    date_from: dt.date | None = None  # placed on or after (the chain's timezone)
    date_to: dt.date | None = None  # placed on or before


def _scoped(actor: Any) -> QuerySet[CustomerOrder]:
    ensure_can(actor, "orders.view")
    qs = CustomerOrder.objects.all()
    allowed = scope_site_ids(actor)
    if allowed is not None:
        qs = qs.filter(pk__in=Shipment.objects.filter(site_id__in=allowed).values("order_id"))
    return qs


def _filtered(actor: Any, f: OrderFilter, *, with_status: bool = True) -> QuerySet[CustomerOrder]:
    qs = _scoped(actor)
    if with_status and f.status:
        qs = qs.filter(status=f.status)
    if f.channel:
        qs = qs.filter(channel__code=f.channel)
    if f.site:
        qs = qs.filter(pk__in=Shipment.objects.filter(site__code=f.site).values("order_id"))
    text = f.search.strip()
    if text:
        qs = qs.filter(
            Q(number__icontains=text)
            | Q(channel_order_id__icontains=text)
            | Q(phone__contains=text)
            | Q(customer_name__icontains=text)
        )
    # The first and the last day of the calendar bound nothing (and their day starts do
    # not convert to UTC).
    if f.date_from and f.date_from > dt.date.min:
        qs = qs.filter(placed_at__gte=_day_start(f.date_from))
    if f.date_to and f.date_to < dt.date.max:
        qs = qs.filter(placed_at__lt=_day_start(f.date_to + dt.timedelta(days=1)))
    return qs


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def list_orders(*, actor: Any, filters: OrderFilter | None = None) -> QuerySet[CustomerOrder]:
    """Orders newest first with their channel, line count and shipment sites."""
    return (
        _filtered(actor, filters or OrderFilter())
        .select_related("channel")
        .annotate(line_count=Count("lines", distinct=True))
        .prefetch_related(
            Prefetch(
                "shipments",
                queryset=Shipment.objects.select_related("site").order_by("id"),
            )
        )
        .order_by("-id")
    )


def count_orders_by_status(*, actor: Any, filters: OrderFilter | None = None) -> dict[str, int]:
    """How many orders of each status match the filters (the status filter aside)."""
    rows = (
        _filtered(actor, filters or OrderFilter(), with_status=False)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    found = dict(rows)
    return {status: found.get(status, 0) for status in OrderStatus.values}


# -- one order ---------------------------------------------------------------------------
def ensure_order_access(actor: Any, permission: str, order: CustomerOrder) -> None:
    """Orders are chain-level: HQ, admins and integrators act on any; a site-scoped user
    only on orders whose every live shipment is at their sites (and at least one is)."""
    sites = {s.site_id for s in order.shipments.all() if s.status != ShipmentStatus.CANCELLED}
    ensure_can(actor, permission, sites=sorted(sites))
    scope = scope_site_ids(actor)
    if scope is not None and not sites & scope:
        raise PermissionDenied(
            _("This order has no shipment at your sites."), code="site_out_of_scope"
        )


def get_order(*, number: str, actor: Any) -> CustomerOrder:
    """The order by number, if the actor may see it (404 otherwise, 403 when out of scope)."""
    ensure_can(actor, "orders.view")
    order = CustomerOrder.objects.select_related("channel").filter(number=number).first()
    if order is None:
        raise NotFound(_("No order has this number."), code="order_not_found", order=number)
    allowed = scope_site_ids(actor)
    if allowed is not None and not order.shipments.filter(site_id__in=allowed).exists():
        raise PermissionDenied(
            _("This order has no shipment at your sites."), code="site_out_of_scope"
        )
    return order


def get_channel_order(*, channel: str, channel_order_id: str, actor: Any) -> CustomerOrder:
    """The order a channel knows by its own id (webhooks), within the actor's scope."""
    found = (
        CustomerOrder.objects.filter(channel__code=channel, channel_order_id=channel_order_id)
        .values_list("number", flat=True)
        .first()
    )
    if found is None:
        raise NotFound(
            _("No order has this channel order id."),
            code="order_not_found",
            channel=channel,
            channel_order_id=channel_order_id,
        )
    return get_order(number=found, actor=actor)


@dataclass(frozen=True)
class OrderDetail:
    order: CustomerOrder
    lines: list[OrderLine]
    shipments: list[Shipment]
    decisions: list[SourcingDecision]
    timeline: list[TimelineRow]
    can_cancel: bool
    can_change_address: bool
    can_resource: bool
    can_pay: bool


def order_detail(order: CustomerOrder) -> OrderDetail:
    """Everything the order page and GET /orders/{number} show, in a fixed number of
    queries: lines, shipments (lines, parcels), decisions, the timeline, allowed actions."""
    lines = list(order.lines.select_related("sku").order_by("line_no"))
    shipments = list(
        order.shipments.select_related("site", "wave")
        .prefetch_related(
            Prefetch("lines", queryset=ShipmentLine.objects.select_related("sku").order_by("id")),
            Prefetch("parcels", queryset=Parcel.objects.order_by("seq")),
        )
        .order_by("id")
    )
    live = [s for s in shipments if s.status != ShipmentStatus.CANCELLED]
    gone = any(s.status in (ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED) for s in live)
    open_ = order.status != OrderStatus.CANCELLED and not gone
    unpicked = any(
        s.status in (ShipmentStatus.ALLOCATED, ShipmentStatus.WAVED, ShipmentStatus.PICKING)
        and not any(sl.picked for sl in s.lines.all())
        for s in live
    )
    return OrderDetail(
        order=order,
        lines=lines,
        shipments=shipments,
        decisions=list(order.sourcing_decisions.order_by("-id")),
        timeline=timeline_rows(order),
        can_cancel=open_,
        can_change_address=open_,
        can_resource=open_ and (unpicked or any(ln.backordered > 0 for ln in lines)),
        can_pay=order.status == OrderStatus.PENDING_PAYMENT,
    )


# -- the timeline ------------------------------------------------------------------------
@dataclass(frozen=True)
class TimelineRow:
    at: dt.datetime
    kind: str
    label: str
    actor: str
    site: str
    shipment: str
    details: str
    data: dict[str, Any]


def timeline_rows(order: CustomerOrder) -> list[TimelineRow]:
    """Every node of the order's timeline, oldest first, with a one-line description in
    the active language (also the CSV export)."""
    labels = dict(EventKind.choices)
    events = OrderEvent.objects.filter(order=order).select_related("actor", "site", "shipment")
    return [
        TimelineRow(
            at=timezone.localtime(e.at),
            kind=e.kind,
            label=str(labels.get(e.kind, e.kind)),
            actor=e.actor.get_username() if e.actor else _("system"),
            site=e.site.code if e.site else "",
            shipment=e.shipment.number if e.shipment else "",
            details=describe_event(e.kind, e.data),
            data=e.data,
        )
        for e in events.order_by("at", "id")
    ]


def timeline_csv(order: CustomerOrder) -> bytes:
    """The timeline as CSV (UTF-8 with BOM for Excel; formula-looking text escaped)."""
    headers = [_("Time"), _("Event"), _("By"), _("Site"), _("Shipment"), _("Details")]
    rows = [
        [f"{r.at:%Y-%m-%d %H:%M:%S}", r.label, r.actor, r.site, r.shipment, r.details]
        for r in timeline_rows(order)
    ]
    return write_csv(headers, rows)


# Why a shipment, a reservation or an order was handed back or cancelled, by reason code
# (a cancel reason typed by a person is shown as typed).
_REASONS = {
    "payment_timeout": gettext_lazy("payment not received in time"),
    "short_pick": gettext_lazy("nothing left to pick after a short pick"),
    "resource": gettext_lazy("handed back to be sourced again"),
    "wave_cancelled": gettext_lazy("the wave was cancelled"),
    "wave_closed": gettext_lazy("the wave was closed unfinished"),
    "cancelled": gettext_lazy("no reason given"),
}
_TRIGGERS = {
    "intake": gettext_lazy("at intake"),
    "payment": gettext_lazy("after payment"),
    "resource": gettext_lazy("sourced again by hand"),
    "short_pick": gettext_lazy("after a short pick"),
    "backorder_retry": gettext_lazy("backorder retry"),
}
_ADDRESS_LABELS = {
    "customer_name": gettext_lazy("receiver"),
    "phone": gettext_lazy("phone"),
    "province": gettext_lazy("province"),
    "city": gettext_lazy("city"),
    "district": gettext_lazy("district"),
    "address": gettext_lazy("address"),
    "postcode": gettext_lazy("postcode"),
    "latitude": gettext_lazy("latitude"),
    "longitude": gettext_lazy("longitude"),
}


def _reason(code: Any) -> str:
    return str(_REASONS.get(str(code), code or ""))


def _qty(value: Any) -> str:
    """A stored decimal quantity ("3.000") as a person writes it ("3")."""
    try:
        return f"{Decimal(str(value)).normalize():f}"
    except (InvalidOperation, ValueError):
        return str(value)


def _item(row: Any) -> str:
    """'SKU × qty (lot L, bin B)' for one line dict."""
    if not isinstance(row, dict):
        return ""
    where = [
        f"{name} {row[key]}" for key, name in (("lot", _("lot")), ("bin", _("bin"))) if row.get(key)
    ]
    text = f"{row.get('sku', '')} × {_qty(row.get('quantity', ''))}"
    return f"{text} ({', '.join(where)})" if where else text


def _items(rows: Any) -> str:
    return ", ".join(text for text in map(_item, rows or []) if text)


def _by_shipment(shipments: Any) -> str:
    """'SH1: SKU × 2 (bin B); SH2: ...' for {shipment number: line dicts}."""
    if not isinstance(shipments, dict):
        return ""
    return "; ".join(f"{number}: {_items(rows)}" for number, rows in shipments.items() if rows)


def describe_event(kind: str, data: dict[str, Any]) -> str:
    """A person's reading of a timeline event, in the active language: the facts of its
    data, never its internal keys (the API also returns the raw data)."""
    outbound = describe_outbound_event(kind, data)
    if outbound is not None:
        return outbound
    describe = _DESCRIBERS.get(kind)
    return describe(data) if describe else ""


def _received(data: dict[str, Any]) -> str:
    text = _("from %(channel)s, channel order %(id)s") % {
        "channel": data.get("channel", ""),
        "id": data.get("channel_order_id", ""),
    }
    if not data.get("paid") and data.get("pay_by"):
        text += "; " + _("awaiting payment until %(at)s") % {"at": _when(data["pay_by"])}
    return text


def _paid(data: dict[str, Any]) -> str:
    return _("paid at %(at)s") % {"at": _when(data.get("paid_at", ""))}


def _sourced(data: dict[str, Any]) -> str:
    parts = []
    trigger = data.get("trigger")
    distance = data.get("distance_km") or {}
    sites = [
        _("%(site)s (%(km)s km)") % {"site": site, "km": distance[site]}
        if site in distance
        else str(site)
        for site in data.get("sites") or []
    ]
    if sites:
        parts.append(_("ships from %(sites)s") % {"sites": ", ".join(sites)})
    else:
        parts.append(_("nothing could be reserved"))
    if data.get("candidates") is not None:
        parts.append(_("candidate sites: %(n)s") % {"n": data["candidates"]})
    unfilled = data.get("unfilled") or {}
    if unfilled:
        items = ", ".join(f"{sku} × {_qty(q)}" for sku, q in unfilled.items())
        parts.append(_("backordered: %(items)s") % {"items": items})
    parts.append(_method(data.get("method", ""), bool(data.get("optimal"))))
    if (data.get("attempts") or 1) > 1:
        parts.append(
            _("planned again %(n)s times after concurrent orders took the stock")
            % {"n": data["attempts"] - 1}
        )
    destination = data.get("destination") or {}
    if destination.get("basis") == "city":
        parts.append(_("distances to the centre of %(place)s") % {"place": destination["place"]})
    elif destination.get("basis") == "unknown":
        parts.append(_("the address has no location: distances count as 0"))
    text = "; ".join(parts)
    if trigger in _TRIGGERS:
        text = f"{_TRIGGERS[trigger]}: {text}"
    return text


def _method(method: str, optimal: bool) -> str:
    if method == "no_stock":
        return _("no ship-from site has stock")
    if method == "contention":
        return _("concurrent orders took the stock")
    if optimal:
        return _("best plan (proven)")
    if method == "exact":
        return _("best plan found within the time budget")
    return _("good plan (heuristic)")


def _reserved(data: dict[str, Any]) -> str:
    text = _items(data.get("lines"))
    if data.get("expires_at"):
        text += "; " + _("held until %(at)s") % {"at": _when(data["expires_at"])}
    return text


def _backordered(data: dict[str, Any]) -> str:
    return _("waiting for stock: %(items)s") % {"items": _items(data.get("lines"))}


def _released(data: dict[str, Any]) -> str:
    text = _reason(data.get("reason"))
    released = _by_shipment(data.get("shipments"))
    return f"{text}; {released}" if released else text


def _cancelled(data: dict[str, Any]) -> str:
    parts = [_("reason: %(reason)s") % {"reason": _reason(data.get("reason"))}]
    released = _by_shipment(data.get("released"))
    if released:
        parts.append(_("released: %(items)s") % {"items": released})
    if data.get("put_back"):
        parts.append(_("put back: %(items)s") % {"items": _items(data["put_back"])})
    return "; ".join(parts)


def _address_changed(data: dict[str, Any]) -> str:
    old, new = data.get("old") or {}, data.get("new") or {}
    parts = [
        f"{_ADDRESS_LABELS.get(k, k)}: {old.get(k) or '—'} → {new.get(k) or '—'}"
        for k in new
        if old.get(k) != new.get(k)
    ]
    if data.get("resourced"):
        parts.append(_("sourced again for the new address"))
    if data.get("labels_to_reprint"):
        parts.append(
            _("labels to reprint: %(numbers)s") % {"numbers": ", ".join(data["labels_to_reprint"])}
        )
    return "; ".join(parts)


def _waved(data: dict[str, Any]) -> str:
    if data.get("action") == "returned":
        text = _("returned from wave %(wave)s") % {"wave": data.get("wave", "")}
        return f"{text} ({_reason(data['reason'])})" if data.get("reason") else text
    text = _("wave %(wave)s") % {"wave": data.get("wave", "")}
    if data.get("pick_list"):
        text += ", " + _("pick list %(list)s") % {"list": data["pick_list"]}
    return text


def _picked(data: dict[str, Any]) -> str:
    text = _item(data)
    if data.get("expiry"):
        text += "; " + _("expires %(date)s") % {"date": data["expiry"]}
    if data.get("substituted_for"):
        text += "; " + _("instead of %(source)s") % {"source": data["substituted_for"]}
    return text


def _short_picked(data: dict[str, Any]) -> str:
    where = _("%(sku)s at bin %(bin)s") % {"sku": data.get("sku", ""), "bin": data.get("bin", "")}
    if data.get("lot"):
        where += f" ({_('lot')} {data['lot']})"
    parts = [
        _("%(where)s: found %(found)s of %(expected)s, %(short)s short")
        % {
            "where": where,
            "found": _qty(data.get("found", 0)),
            "expected": _qty(data.get("expected", 0)),
            "short": _qty(data.get("short", 0)),
        }
    ]
    if _qty(data.get("written_off") or 0) != "0":
        parts.append(_("%(qty)s written off at the bin") % {"qty": _qty(data["written_off"])})
    if data.get("resource_error"):
        parts.append(_("sourcing the rest again was refused: it waits as a backorder"))
    elif data.get("decision"):
        parts.append(_("the rest went back to sourcing"))
    return "; ".join(parts)


_DESCRIBERS: dict[str, Callable[[dict[str, Any]], str]] = {
    EventKind.RECEIVED: _received,
    EventKind.PAID: _paid,
    EventKind.SOURCED: _sourced,
    EventKind.RESERVED: _reserved,
    EventKind.BACKORDERED: _backordered,
    EventKind.RELEASED: _released,
    EventKind.ADDRESS_CHANGED: _address_changed,
    EventKind.CANCELLED: _cancelled,
    EventKind.WAVED: _waved,
    EventKind.PICKED: _picked,
    EventKind.SHORT_PICKED: _short_picked,
}


def _when(text: str) -> str:
    try:
        return f"{timezone.localtime(dt.datetime.fromisoformat(text)):%Y-%m-%d %H:%M}"
    except (TypeError, ValueError):
        return str(text)


# -- settings ----------------------------------------------------------------------------
def get_sourcing_policy(*, actor: Any) -> SourcingPolicy:
    """The chain's sourcing policy (the defaults, unsaved, until someone changes it)."""
    ensure_can(actor, "orders.view")
    return SourcingPolicy.objects.filter(pk=1).first() or SourcingPolicy(pk=1)


def list_channels(*, actor: Any) -> QuerySet[SalesChannel]:
    ensure_can(actor, "orders.view")
    return SalesChannel.objects.annotate(
        open_orders=Count("orders", filter=~Q(orders__status__in=_CLOSED))
    ).order_by("code")


_CLOSED = (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CANCELLED)


@dataclass(frozen=True)
class ShipFromRow:
    site: Site
    config: ShipFromSite | None

    @property
    def enabled(self) -> bool:
        return self.config is not None and self.config.enabled


def list_ship_from_sites(*, actor: Any) -> list[ShipFromRow]:
    """Every active site with its ship-from settings (None: never enabled)."""
    ensure_can(actor, "orders.view")
    configs = {c.site_id: c for c in ShipFromSite.objects.all()}
    return [ShipFromRow(s, configs.get(s.pk)) for s in Site.objects.order_by("kind", "code")]


def open_shipments_by_site() -> dict[int, int]:
    """Live shipments not yet shipped, per site (the settings page shows the load)."""
    rows = Shipment.objects.exclude(
        status__in=(ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED, ShipmentStatus.CANCELLED)
    ).values_list("site_id", flat=True)
    return dict(Counter(rows))
