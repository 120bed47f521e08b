"""Online orders API (/api/v1/fulfilment/...): order intake from e-commerce channels, a
webhook per channel, order reads and timeline export, order care, sourcing settings.

Conventions: `Authorization: Bearer <token>` (a channel's integration uses an API token of
a user with the `integrator` role; the browser uses its session with CSRF). Quantities are
decimal strings in the SKU's base unit, money decimal strings in yuan; errors are
`{code, message, details}`.

Idempotency: an order is identified by (channel, channel_order_id). The first
`POST /orders` answers 201; a replay with the same body answers 200 with `replayed: true`
and changes nothing; the same channel order id with a different body is 409
`order_conflict`. An `Idempotency-Key` header is optional; when sent it is bound to that
order, and reusing it for another order is 409 `idempotency_key_reused`.
"""

# No `from __future__ import annotations` here: ninja must see the real parameter types.
import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Header, Router, Status
from ninja.pagination import paginate
from pydantic import ValidationError

from chainstore.core.errors import ValidationFailed
from chainstore.core.pagination import LimitOffsetPagination
from chainstore.core.quantities import money_to_fen
from chainstore.fulfilment import selectors
from chainstore.fulfilment.models import CustomerOrder, OrderStatus
from chainstore.fulfilment.schemas_orders import (
    AddressChangeIn,
    CancelIn,
    ChannelIn,
    ChannelOut,
    OrderDataIn,
    OrderIn,
    OrderOut,
    OrderSummaryOut,
    PayIn,
    PolicyIn,
    PolicyOut,
    ReceiverIn,
    ShipFromIn,
    ShipFromOut,
    TimelineOut,
    WebhookIn,
    WebhookOut,
    channel_out,
    order_out,
    policy_out,
    ship_from_out,
    summary_out,
    timeline_out,
)
from chainstore.fulfilment.services import care, intake, sourcing
from chainstore.sites.selectors import get_site

router = Router()

KEY = Header(
    None,
    alias="Idempotency-Key",
    description="Optional client key bound to this order; the channel order id is the real key",
)


def _detail(order: CustomerOrder, *, replayed: bool = False) -> dict[str, Any]:
    return order_out(selectors.order_detail(order), replayed=replayed)


def _order(request: HttpRequest, number: str) -> CustomerOrder:
    return selectors.get_order(number=number, actor=request.user)


# -- intake ----------------------------------------------------------------------------
@router.post("/orders", response={200: OrderOut, 201: OrderOut})
def create(request: HttpRequest, payload: OrderIn, idempotency_key: str | None = KEY) -> Any:
    """Take an order from a channel: it is validated, stored, sourced to the best site(s)
    and its stock reserved, in one transaction (201). Unpaid orders (`paid: false`) hold
    their stock until `pay_by` and are cancelled after it (see `/orders/{number}/pay`).
    Lines give `sku` (code) or `barcode`; what cannot be reserved anywhere is backordered.

    Request:
    ```json
    {"channel": "TM01", "channel_order_id": "TB2026112500001",
     "placed_at": "2026-11-25T10:02:11+08:00", "paid": true,
     "customer": {"name": "张三", "phone": "13800138000"},
     "address": {"province": "上海", "city": "上海市", "district": "浦东新区",
                 "address": "世纪大道100号", "postcode": "200120",
                 "latitude": "31.230400", "longitude": "121.473700"},
     "lines": [{"sku": "SKU00042", "quantity": "2", "unit_price": "9.90",
                "channel_line_id": "1"},
               {"barcode": "6901234567892", "quantity": "1", "unit_price": "25.00"}],
     "shipping_fee": "6.00", "carrier": "sim", "note": "请尽快发货"}
    ```
    Response 201 (abridged):
    ```json
    {"number": "SO20261125000042", "status": "allocated", "sites": ["W01"],
     "order_lines": [{"line_no": 1, "sku": "SKU00042", "quantity": "2.000",
                      "allocated": "2.000", "shipped": "0.000", "backordered": "0.000", ...}],
     "shipments": [{"number": "SH20261125000051", "site": "W01", "status": "allocated", ...}],
     "decisions": [{"trigger": "intake", "method": "exact", "optimal": true,
                    "summary": "1 shipment(s) from W01 (3.2 km); 3 candidate site(s); ...",
                    "candidates": [{"site": "W01", "distance_km": 3.2, "covers": 2,
                                    "covers_all": true, "alone_score": 10013.2,
                                    "chosen": true, ...}], ...}],
     "replayed": false}
    ```
    Errors: 422 `unknown_sku` / `unknown_barcode` / `invalid_quantity` / `address_required`
    / `empty_order` (with `details.line`), 404 `channel_not_found`, 409 `channel_inactive`,
    409 `order_conflict`, 409 `idempotency_key_reused`.
    """
    order = intake.create_order(
        channel_code=payload.channel,
        payload=payload.to_input(),
        actor=request.user,
        idempotency_key=idempotency_key,
    )
    replayed = getattr(order, "replayed", False)
    return Status(200 if replayed else 201, _detail(order, replayed=replayed))


@router.post("/channels/{code}/webhook", response={200: WebhookOut, 201: WebhookOut})
def webhook(request: HttpRequest, code: str, payload: WebhookIn) -> Any:
    """One endpoint per channel for its order events, authenticated like every endpoint
    (`Authorization: Bearer <token>` of an integrator user). `data` by event:

    - `order.created`: the order as for `POST /orders` without `channel` (201 new, 200
      replay);
    - `order.paid`: `{"channel_order_id": "...", "paid_at": "..."}` (stock stops expiring;
      409 `order_cancelled` when the payment window had already closed);
    - `order.cancelled`: `{"channel_order_id": "...", "reason": "buyer cancelled"}`
      (409 `order_shipped` once anything shipped);
    - `order.address_changed`: `{"channel_order_id": "...", "customer": {"name": ..,
      "phone": ..}, "address": {...}, "resource": false}`.

    Every event is safe to deliver twice: a repeat answers 200 with `replayed: true`.
    ```json
    {"event": "order.paid", "data": {"channel_order_id": "TB2026112500001"}}
    ```
    """
    data = payload.data
    if payload.event == "order.created":
        body = _parse(OrderDataIn, data)
        order = intake.create_order(channel_code=code, payload=body.to_input(), actor=request.user)
        replayed = getattr(order, "replayed", False)
        out = {"event": payload.event, "order": _detail(order), "replayed": replayed}
        return Status(200 if replayed else 201, out)
    order = selectors.get_channel_order(
        channel=code, channel_order_id=str(data.get("channel_order_id", "")), actor=request.user
    )
    if payload.event == "order.paid":
        pay = _parse(PayIn, data)
        order = intake.confirm_payment(order, actor=request.user, paid_at=pay.paid_at)
    elif payload.event == "order.cancelled":
        reason = str(data.get("reason") or "cancelled by the channel")[:200]
        order = care.cancel_order(order, actor=request.user, reason=reason)
    else:
        change = _parse(AddressChangeIn, data)
        order = _change_address(request, order, change)
    replayed = getattr(order, "replayed", False)
    return {"event": payload.event, "order": _detail(order), "replayed": replayed}


def _parse(schema: Any, data: dict[str, Any]) -> Any:
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        errors = [
            {"loc": ["data", *map(str, e["loc"])], "msg": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        raise ValidationFailed(
            _("The input is not valid."), code="validation_error", errors=errors
        ) from exc


def _change_address(
    request: HttpRequest, order: CustomerOrder, change: AddressChangeIn
) -> CustomerOrder:
    receiver = change.customer or ReceiverIn()
    return care.change_address(
        order,
        actor=request.user,
        address=change.address.to_input(),
        customer_name=receiver.name,
        phone=receiver.phone,
        resource=change.resource,
    )


# -- reads -----------------------------------------------------------------------------
@router.get("/orders", response=list[OrderSummaryOut])
@paginate(LimitOffsetPagination)
def list_orders(
    request: HttpRequest,
    status: str = "",
    channel: str = "",
    site: str = "",
    q: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> Any:
    """Orders newest first. Filters: `status`, `channel` (code), `site` (orders with a
    shipment there), `q` (order number, channel order id, phone or receiver name),
    `date_from` / `date_to` (placed, inclusive). Site-scoped users see the orders with a
    shipment at their sites."""
    if status and status not in OrderStatus.values:
        raise ValidationFailed(_("Unknown order status."), code="invalid_status", status=status)
    filters = selectors.OrderFilter(
        status=status, channel=channel, site=site, search=q, date_from=date_from, date_to=date_to
    )
    return _Summaries(selectors.list_orders(actor=request.user, filters=filters))


class _Summaries:
    """The queryset as ninja's paginator sees it (len + slice), each row a summary."""

    def __init__(self, qs: Any) -> None:
        self.qs = qs

    def __len__(self) -> int:
        return int(self.qs.count())

    def __getitem__(self, item: slice) -> list[dict[str, Any]]:
        return [summary_out(o) for o in self.qs[item]]


@router.get("/orders/{number}", response=OrderOut)
def order_detail(request: HttpRequest, number: str) -> Any:
    """An order with its lines (allocated / shipped / backordered), shipments and every
    sourcing decision (candidates with distance, coverage and score; the chosen plan)."""
    return _detail(_order(request, number))


@router.get("/orders/{number}/timeline", response=list[TimelineOut])
def timeline(request: HttpRequest, number: str) -> Any:
    """Every node of the order, oldest first: who, when, where, what (`data` holds the
    structured details: lots, bins, quantities, sourcing reasons, tracking text)."""
    return timeline_out(selectors.timeline_rows(_order(request, number)))


@router.get("/orders/{number}/timeline.csv")
def timeline_csv(request: HttpRequest, number: str) -> HttpResponse:
    """The timeline as CSV (UTF-8 with BOM, opens in Excel/WPS)."""
    order = _order(request, number)
    response = HttpResponse(selectors.timeline_csv(order), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{order.number}-timeline.csv"'
    return response


# -- order care ------------------------------------------------------------------------
@router.post("/orders/{number}/pay", response=OrderOut)
def pay(request: HttpRequest, number: str, payload: PayIn) -> Any:
    """Confirm payment: reservations stop expiring; a backordered remainder is sourced
    again. Repeats answer `replayed: true`; 409 `order_cancelled` after a timeout."""
    order = intake.confirm_payment(
        _order(request, number), actor=request.user, paid_at=payload.paid_at
    )
    return _detail(order, replayed=getattr(order, "replayed", False))


@router.post("/orders/{number}/cancel", response=OrderOut)
def cancel(request: HttpRequest, number: str, payload: CancelIn) -> Any:
    """Cancel before anything ships: reservations are released and picked stock goes back
    to its bins. 409 `order_shipped` once a parcel has left."""
    order = care.cancel_order(_order(request, number), actor=request.user, reason=payload.reason)
    return _detail(order, replayed=getattr(order, "replayed", False))


@router.post("/orders/{number}/address", response=OrderOut)
def change_address(request: HttpRequest, number: str, payload: AddressChangeIn) -> Any:
    """Change the receiver and address until the first parcel ships (409 `order_shipped`);
    `resource: true` sources the order again for the new address while nothing is waved."""
    return _detail(_change_address(request, _order(request, number), payload))


@router.post("/orders/{number}/resource", response=OrderOut)
def resource(request: HttpRequest, number: str) -> Any:
    """Release every shipment nothing has been picked for and source the order again.
    422 `nothing_to_resource` when all of it is being picked or has shipped."""
    order = _order(request, number)
    care.resource_order(order, actor=request.user)
    order.refresh_from_db()  # the service changed the order's status under its own lock
    return _detail(order)


# -- settings --------------------------------------------------------------------------
@router.get("/sourcing-policy", response=PolicyOut)
def get_policy(request: HttpRequest) -> Any:
    """The sourcing strategy and weights (`effective_weights`: what the engine uses)."""
    policy = selectors.get_sourcing_policy(actor=request.user)
    return policy_out(policy, _effective(policy))


@router.put("/sourcing-policy", response=PolicyOut)
def put_policy(request: HttpRequest, payload: PolicyIn) -> Any:
    """Set the strategy (nearest | fewest | cheapest use preset weights; custom uses the
    weights given), the candidate and shipment limits and the solver's time budget."""
    policy = sourcing.update_policy(actor=request.user, **payload.dict())
    return policy_out(policy, _effective(policy))


def _effective(policy: Any) -> dict[str, float]:
    w = sourcing.policy_weights(policy)
    return {"distance": w.distance, "shipments": w.shipments, "cost": w.cost}


@router.get("/ship-from-sites", response=list[ShipFromOut])
def list_ship_from(request: HttpRequest) -> Any:
    """Every site with its ship-from settings (enabled, parcel costs, priority)."""
    return [ship_from_out(r) for r in selectors.list_ship_from_sites(actor=request.user)]


@router.put("/ship-from-sites", response=list[ShipFromOut])
def put_ship_from(request: HttpRequest, payload: list[ShipFromIn]) -> Any:
    """Enable or disable sites for online orders and set their parcel costs (one entry per
    site; sites not listed are unchanged). Answers the full list."""
    for row in payload:
        sourcing.configure_ship_from(
            site=get_site(code=row.site, actor=request.user),
            actor=request.user,
            enabled=row.enabled,
            base_cost_fen=money_to_fen(row.base_cost),
            per_kg_cost_fen=money_to_fen(row.per_kg_cost),
            priority=row.priority,
            cutoff_time=row.cutoff_time,
        )
    return [ship_from_out(r) for r in selectors.list_ship_from_sites(actor=request.user)]


@router.get("/channels", response=list[ChannelOut])
def list_channels(request: HttpRequest) -> Any:
    return [channel_out(c) for c in selectors.list_channels(actor=request.user)]


@router.post("/channels", response={200: ChannelOut, 201: ChannelOut})
def save_channel(request: HttpRequest, payload: ChannelIn) -> Any:
    """Create a sales channel (201) or update the one with this code (200)."""
    channel = intake.save_channel(actor=request.user, **payload.dict())
    return Status(201 if getattr(channel, "created", False) else 200, channel_out(channel))
