"""A bulk ledger writer for generated history (demo chain, benchmarks).

It appends StockOperation / Lot / StockMove rows in chronological order (explicit, increasing
ids, so ordering by id follows time) with one portable INSERT per table and batch, run by
`cursor.executemany` (column names come from the models; model instances and the ORM's
per-value preparation cost several times more at this volume). It keeps the resulting
balances, site totals and moving-average costs in memory with the same rules as the posting engine
(chainstore.inventory.posting). `finish()` writes Balance and SiteSku rows, so
`verify_ledger()` holds on the result by construction. A move that would take more than a
location holds raises at once: history never goes negative.

Only for loading generated data into a database that nobody else writes to at the time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.management.color import no_style
from django.db import connection
from django.db.models import Max, Model
from django.utils import timezone

from chainstore.core.models import AuditEvent
from chainstore.core.quantities import weighted_average_micros
from chainstore.inventory.models import Balance, Lot, SiteSku, StockMove, StockOperation

BalanceKey = tuple[int, int, int | None]  # location, sku, lot


class NegativeStock(RuntimeError):
    pass


@dataclass
class _SiteSku:
    on_hand: int = 0
    avg_cost_micros: int = 0
    safety_stock: int | None = None


def _next_id(model: type[Model]) -> int:
    return (model._default_manager.aggregate(m=Max("id"))["m"] or 0) + 1


class LedgerWriter:
    def __init__(
        self,
        *,
        location_sites: dict[int, int | None],
        standard_costs: dict[int, int],
        batch_size: int = 5000,
        audit: bool = True,
    ) -> None:
        self.location_sites = location_sites  # location id -> site id (None = virtual)
        self.standard_costs = standard_costs
        self.batch_size = batch_size
        self.audit = audit
        self.balances: dict[BalanceKey, int] = {}
        self.site_skus: dict[tuple[int, int], _SiteSku] = {}
        self._ops: list[tuple[Any, ...]] = []
        self._lots: list[tuple[Any, ...]] = []
        self._moves: list[tuple[Any, ...]] = []
        self._audit: list[tuple[Any, ...]] = []
        self._op_at: dt.datetime | None = None
        self._op_at_db: Any = None
        self._op_actor: int | None = None
        self._empty_json = AuditEvent._meta.get_field("data").get_db_prep_save({}, connection)
        self._next_op = _next_id(StockOperation)
        self._next_lot = _next_id(Lot)
        self._next_move = _next_id(StockMove)
        self.move_count = 0
        self.operation_count = 0
        self.lot_count = 0

    # -- rows ------------------------------------------------------------------------
    def operation(
        self,
        kind: str,
        *,
        site_id: int | None,
        at: dt.datetime,
        actor_id: int | None = None,
        reference: str = "",
        partner: str = "",
        note: str = "",
    ) -> int:
        if self._op_at is not None and at < self._op_at:
            raise ValueError("operations must be written in chronological order")
        op_id = self._next_op
        self._next_op += 1
        self._op_at, self._op_actor = at, actor_id
        self._op_at_db = connection.ops.adapt_datetimefield_value(at)
        self._ops.append(
            (
                op_id,
                kind,
                site_id,
                reference[:100],
                partner[:100],
                note[:500],
                actor_id,
                self._op_at_db,
                None,
                "",
            )
        )
        if self.audit:
            self._audit.append(
                (
                    self._op_at_db,
                    actor_id,
                    f"stock.{kind}",
                    "inventory.stockoperation",
                    str(op_id),
                    "",
                    "posted",
                    site_id,
                    self._empty_json,
                )
            )
        self.operation_count += 1
        return op_id

    def lot(self, *, sku_id: int, number: str, expiry: dt.date | None, at: dt.datetime) -> int:
        lot_id = self._next_lot
        self._next_lot += 1
        at_db = connection.ops.adapt_datetimefield_value(at)
        expiry_db = connection.ops.adapt_datefield_value(expiry)
        self._lots.append((lot_id, sku_id, number, expiry_db, at_db, at_db))
        self.lot_count += 1
        return lot_id

    def move(
        self,
        op_id: int,
        *,
        sku_id: int,
        lot_id: int | None,
        quantity: int,
        from_location: int,
        to_location: int,
        reason: str,
        unit_cost_micros: int | None = None,
    ) -> None:
        """Append one move, applying the engine's balance and moving-average rules."""
        if quantity <= 0 or from_location == to_location:
            raise ValueError("a move needs a positive quantity between two locations")
        from_site = self.location_sites[from_location]
        to_site = self.location_sites[to_location]
        if from_site is not None:
            key = (from_location, sku_id, lot_id)
            left = self.balances.get(key, 0) - quantity
            if left < 0:
                raise NegativeStock(f"{key} would go to {left}")
            self.balances[key] = left
        if to_site is not None:
            key = (to_location, sku_id, lot_id)
            self.balances[key] = self.balances.get(key, 0) + quantity
        if from_site is not None:
            cost = self._site_sku(from_site, sku_id).avg_cost_micros
        elif unit_cost_micros is not None:
            cost = unit_cost_micros
        elif to_site is not None and self._site_sku(to_site, sku_id).avg_cost_micros:
            cost = self._site_sku(to_site, sku_id).avg_cost_micros
        else:
            cost = self.standard_costs[sku_id]
        if from_site != to_site:
            if from_site is not None:
                self._site_sku(from_site, sku_id).on_hand -= quantity
            if to_site is not None:
                dst = self._site_sku(to_site, sku_id)
                dst.avg_cost_micros = weighted_average_micros(
                    dst.on_hand, dst.avg_cost_micros, quantity, cost
                )
                dst.on_hand += quantity
        self._moves.append(
            (
                self._next_move,
                op_id,
                sku_id,
                lot_id,
                quantity,
                from_location,
                to_location,
                cost,
                reason,
                self._op_actor,
                self._op_at_db,
            )
        )
        self._next_move += 1
        self.move_count += 1
        if len(self._moves) >= self.batch_size:
            self.flush()

    def set_safety_stock(self, site_id: int, sku_id: int, quantity: int | None) -> None:
        self._site_sku(site_id, sku_id).safety_stock = quantity

    def site_on_hand(self, site_id: int, sku_id: int) -> int:
        row = self.site_skus.get((site_id, sku_id))
        return row.on_hand if row else 0

    def _site_sku(self, site_id: int, sku_id: int) -> _SiteSku:
        row = self.site_skus.get((site_id, sku_id))
        if row is None:
            row = self.site_skus[(site_id, sku_id)] = _SiteSku()
        return row

    # -- writing ---------------------------------------------------------------------
    def flush(self) -> None:
        """Write buffered rows, parents first (operations, lots, then moves)."""
        _insert(StockOperation, OPERATION_FIELDS, self._ops)
        _insert(Lot, LOT_FIELDS, self._lots)
        _insert(StockMove, MOVE_FIELDS, self._moves)
        _insert(AuditEvent, AUDIT_FIELDS, self._audit)
        for rows in (self._ops, self._lots, self._moves, self._audit):
            rows.clear()

    def finish(self) -> None:
        """Write the remaining rows, then the balances and site totals they add up to."""
        self.flush()
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        site_of = self.location_sites
        balances = [
            (site_of[loc], loc, sku, lot, q, 0, now)
            for (loc, sku, lot), q in self.balances.items()
            if q != 0
        ]
        for chunk in _chunks(balances, self.batch_size):
            _insert(Balance, BALANCE_FIELDS, chunk)
        site_skus = [
            (site, sku, row.on_hand, row.avg_cost_micros, row.safety_stock, now)
            for (site, sku), row in self.site_skus.items()
        ]
        for chunk in _chunks(site_skus, self.batch_size):
            _insert(SiteSku, SITE_SKU_FIELDS, chunk)
        # Explicit ids were used: move PostgreSQL sequences past them (no-op on SQLite).
        sql = connection.ops.sequence_reset_sql(no_style(), [StockOperation, Lot, StockMove])
        if sql:
            with connection.cursor() as cursor:
                for statement in sql:
                    cursor.execute(statement)


OPERATION_FIELDS = (
    "id",
    "kind",
    "site",
    "reference",
    "partner",
    "note",
    "actor",
    "created_at",
    "idempotency_key",
    "request_hash",
)
LOT_FIELDS = ("id", "sku", "number", "expiry_date", "first_received_at", "created_at")
MOVE_FIELDS = (
    "id",
    "operation",
    "sku",
    "lot",
    "quantity",
    "from_location",
    "to_location",
    "unit_cost_micros",
    "reason",
    "actor",
    "created_at",
)
AUDIT_FIELDS = (
    "at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "from_state",
    "to_state",
    "site_id",
    "data",
)
BALANCE_FIELDS = ("site", "location", "sku", "lot", "on_hand", "reserved", "updated_at")
SITE_SKU_FIELDS = ("site", "sku", "on_hand", "avg_cost_micros", "safety_stock", "updated_at")


def _insert(model: type[Model], fields: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """INSERT INTO <table> (<columns>) VALUES (...) for every row, in one executemany."""
    if not rows:
        return
    qn = connection.ops.quote_name
    meta = model._meta
    given: list[Any] = [meta.get_field(name) for name in fields]
    # Columns added to the model later get their declared defaults.
    rest: list[Any] = [
        f
        for f in meta.concrete_fields
        if f not in given and not f.primary_key and not getattr(f, "auto_now", False)
    ]
    defaults = tuple(f.get_db_prep_save(f.get_default(), connection) for f in rest)
    columns = ", ".join(qn(f.column) for f in [*given, *rest])
    marks = ", ".join(["%s"] * (len(given) + len(rest)))
    if defaults:
        rows = [row + defaults for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES ({marks})", rows)


def _chunks(rows: list[tuple[Any, ...]], size: int) -> Iterable[list[tuple[Any, ...]]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]
