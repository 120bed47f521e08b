"""Order intake: an e-commerce channel's order becomes a CustomerOrder, sourced and reserved
in the same transaction, so an order that was accepted holds its stock.

Idempotent by (channel, channel order id): the first post creates the order; a replay with
the same body returns it (`replayed=True`) and changes nothing; the same id with another
body is 409 `order_conflict`. Payment state is not part of the body's fingerprint: a
channel re-sending its snapshot after payment is a replay (payment arrives as `order.paid`,
see `confirm_payment`). An optional client `Idempotency-Key` is stored on the order behind
a unique constraint, so two orders can never share one: reusing it for another order is
409 `idempotency_key_reused` (even when both posts race), and a replay of the order it
belongs to is a replay.

Unpaid orders hold their stock until `pay_by` (the channel's, or placed_at + the channel's
payment timeout); `care.expire_unpaid` cancels them after that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from chainstore.catalog.models import Sku
from chainstore.catalog.services import resolve_scan
from chainstore.core import audit
from chainstore.core.errors import (
    Conflict,
    DomainError,
    IdempotencyKeyReused,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from chainstore.core.idempotency import fingerprint
from chainstore.core.numbers import assign, provisional
from chainstore.core.permissions import ensure_can
from chainstore.fulfilment.models import (
    CustomerOrder,
    EventKind,
    OrderLine,
    OrderStatus,
    PickTask,
    PickTaskStatus,
    Platform,
    SalesChannel,
)
from chainstore.fulfilment.selectors import ensure_order_access
from chainstore.fulfilment.services.events import add_event
from chainstore.fulfilment.services.sourcing import source_remainder
from chainstore.fulfilment.services.status import refresh_order_status
from chainstore.inventory.models import Reservation

MAX_LINES = 200
FUTURE_SKEW = dt.timedelta(minutes=10)
# Quantities and amounts are stored as 64-bit integers.
MAX_STORED = 2**63 - 1


@dataclass(frozen=True)
class AddressInput:
    address: str
    province: str = ""
    city: str = ""
    district: str = ""
    postcode: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None


@dataclass(frozen=True)
class OrderLineInput:
    """One line: `sku` (code) or `barcode` (EAN/GS1), quantity in thousandths of the base
    unit, unit price in fen."""

    quantity: int
    sku: str | None = None
    barcode: str | None = None
    unit_price_fen: int = 0
    channel_line_id: str = ""


@dataclass(frozen=True)
class OrderInput:
    channel_order_id: str
    customer_name: str
    phone: str
    address: AddressInput
    lines: Sequence[OrderLineInput] = field(default_factory=tuple)
    placed_at: dt.datetime | None = None
    paid: bool = False
    paid_at: dt.datetime | None = None
    pay_by: dt.datetime | None = None
    shipping_fee_fen: int = 0
    carrier: str = ""
    note: str = ""


def order_fingerprint(payload: OrderInput) -> str:
    """What makes two posts of one channel order "the same order" (payment state aside)."""
    a = payload.address
    return fingerprint(
        {
            "id": payload.channel_order_id,
            "placed_at": payload.placed_at.isoformat() if payload.placed_at else None,
            "customer": [payload.customer_name, payload.phone],
            "address": [a.province, a.city, a.district, a.address, a.postcode],
            "coords": [str(a.latitude), str(a.longitude)],
            "lines": [
                [ln.sku, ln.barcode, ln.quantity, ln.unit_price_fen, ln.channel_line_id]
                for ln in payload.lines
            ],
            "fee": payload.shipping_fee_fen,
            "carrier": payload.carrier,
            "note": payload.note,
        }
    )


def create_order(
    *,
    channel_code: str,
    payload: OrderInput,
    actor: Any,
    idempotency_key: str | None = None,
) -> CustomerOrder:
    """Take an order from a channel (orders.intake): validate, store, source and reserve in
    one transaction. A replay returns the first order with `replayed=True`."""
    ensure_can(actor, "orders.intake")
    channel = get_channel(channel_code)
    order_id = (payload.channel_order_id or "").strip()
    if not order_id or len(order_id) > 64:
        raise ValidationFailed(
            _("channel_order_id is required (at most 64 characters)."),
            code="channel_order_id_required",
        )
    request_hash = order_fingerprint(payload)
    existing = _find(channel, order_id)
    if existing is not None:
        return _replay(existing, request_hash, idempotency_key)
    if not channel.is_active:
        raise InvalidState(_("This sales channel is not active."), code="channel_inactive")
    _check_key(idempotency_key)
    skus = _validate(payload)
    try:
        with transaction.atomic():
            order = _insert(channel, order_id, payload, skus, request_hash, idempotency_key)
            add_event(
                order,
                EventKind.RECEIVED,
                actor=actor,
                channel=channel.code,
                channel_order_id=order_id,
                paid=order.paid_at is not None,
                pay_by=order.pay_by.isoformat() if order.pay_by else None,
            )
            source_remainder(order, actor=actor, trigger="intake")
    except IntegrityError:
        # A concurrent post won: of this channel order (a replay or a conflict), or of
        # another order carrying the same key.
        existing = _find(channel, order_id)
        if existing is not None:
            return _replay(existing, request_hash, idempotency_key)
        if idempotency_key and _key_order(idempotency_key) is not None:
            raise IdempotencyKeyReused(idempotency_key=idempotency_key) from None
        raise
    order.refresh_from_db()
    order.replayed = False  # type: ignore[attr-defined]
    return order


def get_channel(code: str) -> SalesChannel:
    channel = SalesChannel.objects.filter(code=code).first()
    if channel is None:
        raise NotFound(_("No sales channel has this code."), code="channel_not_found", channel=code)
    return channel


def _find(channel: SalesChannel, order_id: str) -> CustomerOrder | None:
    return CustomerOrder.objects.filter(channel=channel, channel_order_id=order_id).first()


def _replay(order: CustomerOrder, request_hash: str, key: str | None) -> CustomerOrder:
    if order.request_hash and order.request_hash != request_hash:
        raise Conflict(
            _("This channel order was already received with different content."),
            code="order_conflict",
            order=order.number,
            channel_order_id=order.channel_order_id,
        )
    if key and _key_order(key) not in (None, order.pk):
        raise IdempotencyKeyReused(idempotency_key=key)
    order.replayed = True  # type: ignore[attr-defined]
    return order


def _key_order(key: str) -> int | None:
    """The order this client key is bound to, if any."""
    return CustomerOrder.objects.filter(idempotency_key=key).values_list("pk", flat=True).first()


def _check_key(key: str | None) -> None:
    if key is None:
        return
    if not key or len(key) > 100:
        raise ValidationFailed(
            _("Idempotency key must be 1-100 characters."), code="invalid_idempotency_key"
        )
    if _key_order(key) is not None:
        raise IdempotencyKeyReused(idempotency_key=key)


# -- validation --------------------------------------------------------------------------
def _validate(payload: OrderInput) -> list[Sku]:
    """Refuse a malformed order before anything is written; returns each line's SKU."""
    if not payload.customer_name.strip():
        raise ValidationFailed(_("The receiver's name is required."), code="customer_required")
    if not payload.phone.strip():
        raise ValidationFailed(_("The receiver's phone is required."), code="phone_required")
    check_address(payload.address)
    if not payload.lines:
        raise ValidationFailed(_("An order needs at least one line."), code="empty_order")
    if len(payload.lines) > MAX_LINES:
        raise ValidationFailed(
            _("An order has at most %(n)d lines.") % {"n": MAX_LINES}, code="too_many_lines"
        )
    if payload.shipping_fee_fen < 0 or any(ln.unit_price_fen < 0 for ln in payload.lines):
        raise ValidationFailed(_("Amounts cannot be negative."), code="negative_amount")
    if payload.shipping_fee_fen > MAX_STORED or _goods_fen(payload) > MAX_STORED:
        raise ValidationFailed(_("The order's amount is too large."), code="amount_too_large")
    for name in ("placed_at", "paid_at", "pay_by"):
        _check_aware(name, getattr(payload, name))
    now = timezone.now()
    if payload.placed_at is not None and payload.placed_at > now + FUTURE_SKEW:
        raise ValidationFailed(_("placed_at is in the future."), code="placed_at_in_future")
    if payload.pay_by is not None and payload.placed_at and payload.pay_by < payload.placed_at:
        raise ValidationFailed(_("pay_by is before placed_at."), code="invalid_pay_by")
    return [_line_sku(index, ln) for index, ln in enumerate(payload.lines, start=1)]


def _goods_fen(payload: OrderInput) -> int:
    return sum((ln.unit_price_fen * ln.quantity + 500) // 1000 for ln in payload.lines)


def _check_aware(name: str, value: dt.datetime | None) -> None:
    """A time without a timezone is ambiguous (and cannot be compared with ours)."""
    if value is not None and timezone.is_naive(value):
        raise ValidationFailed(
            _("%(field)s needs a timezone.") % {"field": name}, code="naive_datetime", field=name
        )


def check_address(address: AddressInput) -> None:
    if not address.address.strip():
        raise ValidationFailed(_("The delivery address is required."), code="address_required")
    lat, lon = address.latitude, address.longitude
    if (lat is None) != (lon is None):
        raise ValidationFailed(
            _("Give both latitude and longitude, or neither."), code="invalid_coordinates"
        )
    if lat is not None and lon is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationFailed(_("Coordinates out of range."), code="invalid_coordinates")


def _line_sku(index: int, line: OrderLineInput) -> Sku:
    if not isinstance(line.quantity, int) or not 0 < line.quantity <= MAX_STORED:
        raise ValidationFailed(
            _("Line %(line)d: quantity must be greater than zero.") % {"line": index},
            code="invalid_quantity",
            line=index,
        )
    if line.sku:
        sku = Sku.objects.filter(code=line.sku).first()
        if sku is None:
            raise ValidationFailed(
                _("Line %(line)d: no SKU has code %(sku)s.") % {"line": index, "sku": line.sku},
                code="unknown_sku",
                line=index,
                sku=line.sku,
            )
    elif line.barcode:
        try:
            sku = resolve_scan(line.barcode).sku
        except DomainError as exc:
            raise ValidationFailed(
                _("Line %(line)d: %(error)s") % {"line": index, "error": exc.message},
                code=exc.code,
                line=index,
                barcode=line.barcode,
            ) from exc
    else:
        raise ValidationFailed(
            _("Line %(line)d: give a SKU code or a barcode.") % {"line": index},
            code="sku_required",
            line=index,
        )
    if not sku.is_active:
        raise ValidationFailed(
            _("Line %(line)d: SKU %(sku)s is inactive.") % {"line": index, "sku": sku.code},
            code="inactive_sku",
            line=index,
            sku=sku.code,
        )
    return sku


def _insert(
    channel: SalesChannel,
    order_id: str,
    payload: OrderInput,
    skus: list[Sku],
    request_hash: str,
    idempotency_key: str | None,
) -> CustomerOrder:
    placed_at = payload.placed_at or timezone.now()
    paid_at = (payload.paid_at or placed_at) if payload.paid else None
    pay_by = None
    if paid_at is None:
        pay_by = payload.pay_by or placed_at + dt.timedelta(minutes=channel.payment_timeout_minutes)
    a = payload.address
    order = CustomerOrder.objects.create(
        number=provisional(),
        channel=channel,
        channel_order_id=order_id,
        status=OrderStatus.PENDING_PAYMENT if paid_at is None else OrderStatus.BACKORDER,
        request_hash=request_hash,
        idempotency_key=idempotency_key,
        placed_at=placed_at,
        paid_at=paid_at,
        pay_by=pay_by,
        customer_name=payload.customer_name.strip()[:100],
        phone=payload.phone.strip()[:30],
        province=a.province.strip()[:50],
        city=a.city.strip()[:50],
        district=a.district.strip()[:50],
        address=a.address.strip()[:300],
        postcode=a.postcode.strip()[:12],
        latitude=a.latitude,
        longitude=a.longitude,
        carrier=payload.carrier.strip()[:20],
        goods_fen=_goods_fen(payload),
        shipping_fee_fen=payload.shipping_fee_fen,
        note=payload.note[:500],
    )
    assign(order, "SO")
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            line_no=n,
            channel_line_id=ln.channel_line_id[:64],
            sku=sku,
            quantity=ln.quantity,
            unit_price_fen=ln.unit_price_fen,
        )
        for n, (ln, sku) in enumerate(zip(payload.lines, skus, strict=True), start=1)
    )
    return order


# -- payment -------------------------------------------------------------------------------
def confirm_payment(
    order: CustomerOrder, *, actor: Any, paid_at: dt.datetime | None = None
) -> CustomerOrder:
    """The channel says the order is paid: its reservations stop expiring, PAID goes on the
    timeline, and anything still backordered is sourced again. Idempotent (a repeat returns
    the order with `replayed=True`); a cancelled order (e.g. payment timed out) is 409
    `order_cancelled`: the channel must refund."""
    _check_aware("paid_at", paid_at)
    with transaction.atomic():
        order = CustomerOrder.objects.select_for_update().get(pk=order.pk)
        ensure_order_access(actor, "orders.manage", order)
        if order.status == OrderStatus.CANCELLED:
            raise InvalidState(
                _("The order was cancelled (%(reason)s); it cannot be paid.")
                % {"reason": order.cancel_reason},
                code="order_cancelled",
            )
        if order.paid_at is not None:
            order.replayed = True  # type: ignore[attr-defined]
            return order
        order.paid_at = paid_at or timezone.now()
        order.save(update_fields=["paid_at", "updated_at"])
        held = PickTask.objects.filter(
            shipment_line__shipment__order=order, status=PickTaskStatus.OPEN
        ).values_list("reservation_id", flat=True)
        Reservation.objects.filter(pk__in=list(held)).update(expires_at=None)
        add_event(order, EventKind.PAID, actor=actor, paid_at=order.paid_at.isoformat())
        refresh_order_status(order)
        if order.lines.filter(allocated__lt=F("quantity") - F("shipped")).exists():
            source_remainder(order, actor=actor, trigger="payment")
        order.refresh_from_db()
    order.replayed = False  # type: ignore[attr-defined]
    return order


# -- channels ------------------------------------------------------------------------------
def save_channel(
    *,
    code: str,
    actor: Any,
    name: str,
    platform: str,
    payment_timeout_minutes: int = 30,
    default_carrier: str = "sim",
    is_active: bool = True,
) -> SalesChannel:
    """Create or update a sales channel (fulfilment.settings)."""
    ensure_can(actor, "fulfilment.settings")
    code = code.strip()
    if not code or len(code) > 20:
        raise ValidationFailed(_("The channel code is 1-20 characters."), code="invalid_code")
    if platform not in Platform.values:
        raise ValidationFailed(_("Unknown platform."), code="invalid_platform")
    if not name.strip():
        raise ValidationFailed(_("The channel needs a name."), code="name_required")
    if not 1 <= payment_timeout_minutes <= 7 * 24 * 60:
        raise ValidationFailed(
            _("The payment timeout is 1 minute to 7 days."), code="invalid_payment_timeout"
        )
    with transaction.atomic():
        channel, created = SalesChannel.objects.select_for_update().get_or_create(
            code=code,
            defaults={"name": name.strip(), "platform": platform},
        )
        before = {
            "name": channel.name,
            "platform": channel.platform,
            "payment_timeout_minutes": channel.payment_timeout_minutes,
            "default_carrier": channel.default_carrier,
            "is_active": channel.is_active,
        }
        channel.name = name.strip()[:100]
        channel.platform = platform
        channel.payment_timeout_minutes = payment_timeout_minutes
        channel.default_carrier = default_carrier.strip()[:20]
        channel.is_active = is_active
        channel.save()
        audit.record(
            actor=actor,
            action="channel.create" if created else "channel.update",
            obj=channel,
            data={"before": None if created else before, "code": channel.code},
        )
    channel.created = created  # type: ignore[attr-defined]
    return channel
