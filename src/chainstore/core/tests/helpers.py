"""Shared test helpers: a snapshot of everything a refused request must leave untouched."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chainstore.core.models import AuditEvent
from chainstore.inventory.models import (
    Balance,
    Lot,
    Reservation,
    SiteSku,
    StockMove,
    StockOperation,
)


@dataclass(frozen=True)
class Snapshot:
    balances: tuple[tuple[Any, ...], ...]
    site_skus: tuple[tuple[Any, ...], ...]
    reservations: tuple[tuple[Any, ...], ...]
    lots: tuple[tuple[Any, ...], ...]
    moves: int
    operations: int
    audit_events: int


def snapshot() -> Snapshot:
    return Snapshot(
        balances=tuple(
            Balance.objects.order_by("pk").values_list(
                "pk", "location_id", "sku_id", "lot_id", "on_hand", "reserved"
            )
        ),
        site_skus=tuple(
            SiteSku.objects.order_by("pk").values_list(
                "pk", "on_hand", "avg_cost_micros", "safety_stock"
            )
        ),
        reservations=tuple(
            Reservation.objects.order_by("pk").values_list("pk", "open_quantity", "status")
        ),
        lots=tuple(Lot.objects.order_by("pk").values_list("pk", "number", "expiry_date")),
        moves=StockMove.objects.count(),
        operations=StockOperation.objects.count(),
        audit_events=AuditEvent.objects.count(),
    )


def on_hand(location: Any, sku: Any, lot: Any = None) -> int:
    row = Balance.objects.filter(location=location, sku=sku, lot=lot).first()
    return row.on_hand if row else 0


def reserved(location: Any, sku: Any, lot: Any = None) -> int:
    row = Balance.objects.filter(location=location, sku=sku, lot=lot).first()
    return row.reserved if row else 0


def site_on_hand(site: Any, sku: Any) -> int:
    return sum(Balance.objects.filter(site=site, sku=sku).values_list("on_hand", flat=True))


API = "/api/v1"


def post(client: Any, path: str, body: dict[str, Any], *, key: str | None = None, **extra: Any):
    if key is not None:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(API + path, body, content_type="application/json", **extra)


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
