"""Stock back from the customer: the sold lots at their cost, to the selling or the
damaged-goods location."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from chainstore.core.errors import Conflict, PermissionDenied
from chainstore.inventory.models import Lot, OperationKind, StockMove, StockOperation
from chainstore.inventory.posting import Posting
from chainstore.pos.models import (
    LineCondition,
    Sale,
    SaleKind,
)
from chainstore.pos.services.returns.types import RETURN_REASON, PlannedLine, ReturnPlan
from chainstore.sites.models import Location, LocationKind, Site
from chainstore.sites.services import create_bin, virtual_location


# -- stock back ------------------------------------------------------------------------
def post_stock(
    ret: Sale, plan: ReturnPlan, actor: Any, reason: str
) -> tuple[StockOperation, dict[int, Lot | None]]:
    """One posting: every returned line from the customer to the selling or damaged-goods
    location, in the lots the sale took, at the cost they left with."""
    store = plan.store
    op = StockOperation.objects.create(
        kind=OperationKind.RETURN,
        site=store,
        reference=ret.number,
        partner=plan.original.number if plan.original else "",
        note=f"{RETURN_REASON}: {reason}"[:500],
        actor=actor if getattr(actor, "pk", None) else None,
    )
    posting = Posting(op)
    posting.lock({(store.pk, ln.sku.pk) for ln in plan.lines})
    customer = virtual_location(LocationKind.CUSTOMER)
    places = {c: _destination(store, c, actor) for c in sorted({ln.condition for ln in plan.lines})}
    pools = _sold_lots(plan.original) if plan.original is not None else {}
    lots: dict[int, Lot | None] = {}
    for ln in sorted(plan.lines, key=lambda x: (x.sku.pk, x.line_no)):
        if plan.original is not None:
            parts = _take_from_pool(pools, ln)
        else:
            parts = [_Part(_returned_lot(ln), ln.quantity, None)]
        for part in parts:
            posting.put(places[ln.condition], ln.sku, part.lot, part.quantity)
            posting.record(
                sku=ln.sku,
                lot=part.lot,
                quantity=part.quantity,
                from_location=customer,
                to_location=places[ln.condition],
                reason=RETURN_REASON,
                unit_cost_micros=part.cost,
            )
        distinct = {p.lot.pk if p.lot else None: p.lot for p in parts}
        lots[ln.line_no] = next(iter(distinct.values())) if len(distinct) == 1 else None
    posting.finish()
    return op, lots


@dataclass
class _Part:
    lot: Lot | None
    quantity: int
    cost: int | None  # micro-yuan per base unit; None: the store's average


def _sold_lots(original: Sale) -> dict[int, list[_Part]]:
    """Per SKU, what the sale took to the customer by lot (first taken first) at its cost,
    less what earlier returns of the sale brought back."""
    taken: dict[tuple[int, int | None], list[int]] = {}  # (sku, lot) -> [quantity, value]
    for sku_id, lot_id, quantity, cost in (
        StockMove.objects.filter(
            operation_id=original.operation_id, to_location__kind=LocationKind.CUSTOMER
        )
        .order_by("id")
        .values_list("sku_id", "lot_id", "quantity", "unit_cost_micros")
    ):
        row = taken.setdefault((sku_id, lot_id), [0, 0])
        row[0] += quantity
        row[1] += quantity * cost
    back: dict[tuple[int, int | None], int] = defaultdict(int)
    earlier = Sale.objects.filter(original=original, kind=SaleKind.RETURN).exclude(
        operation__isnull=True
    )
    for sku_id, lot_id, quantity in StockMove.objects.filter(
        operation_id__in=earlier.values("operation_id"), from_location__kind=LocationKind.CUSTOMER
    ).values_list("sku_id", "lot_id", "quantity"):
        back[(sku_id, lot_id)] += quantity
    lot_objects = Lot.objects.in_bulk([lot for _sku, lot in taken if lot is not None])
    pools: dict[int, list[_Part]] = defaultdict(list)
    for key, (sold, value) in taken.items():
        cost = (value + sold // 2) // sold if sold else 0
        left = sold - back[key]
        if left > 0:
            lot = lot_objects.get(key[1]) if key[1] is not None else None
            pools[key[0]].append(_Part(lot, left, cost))
    return pools


def _take_from_pool(pools: dict[int, list[_Part]], line: PlannedLine) -> list[_Part]:
    """The returned units' lots and costs: the sale line's own lot first, then the order
    the sale took them in."""
    pool = pools.get(line.sku.pk, [])
    own = line.original.lot_id if line.original is not None else None
    order = sorted(pool, key=lambda p: 0 if p.lot is not None and p.lot.pk == own else 1)
    remaining, parts = line.quantity, []
    for p in order:
        chunk = min(remaining, p.quantity)
        if chunk <= 0:
            continue
        p.quantity -= chunk
        remaining -= chunk
        parts.append(_Part(p.lot, chunk, p.cost))
        if remaining == 0:
            break
    if remaining:  # the ledger shows less than the line sold (should not happen): book it
        lot = line.original.lot if line.original is not None else None
        parts.append(_Part(lot or (parts[-1].lot if parts else None), remaining, None))
    return parts


def _returned_lot(line: PlannedLine) -> Lot | None:
    """An unreceipted return's lot, as handed back (recorded if the ledger never saw it)."""
    if not line.sku.is_lot_tracked or not line.lot_number:
        return None
    lot = Lot.objects.filter(sku=line.sku, number=line.lot_number).first()
    if lot is not None:
        return lot
    try:
        with transaction.atomic():
            return Lot.objects.create(sku=line.sku, number=line.lot_number, expiry_date=line.expiry)
    except IntegrityError:
        return Lot.objects.get(sku=line.sku, number=line.lot_number)


def _destination(store: Site, condition: str, actor: Any) -> Location:
    if condition == LineCondition.DAMAGED:
        return _damaged_location(store, actor)
    selling = store.stock_location
    if selling is not None and selling.is_active and selling.kind == LocationKind.SELLING:
        return selling
    found = (
        Location.objects.filter(site=store, kind=LocationKind.SELLING, is_active=True)
        .order_by("code")
        .first()
    )
    if found is None:
        raise Conflict(
            _("The store has no selling location."), code="no_selling_location", site=store.code
        )
    return found


def _damaged_location(store: Site, actor: Any) -> Location:
    """The store's damaged-goods location (残损区, kind damaged, created with the site); a
    store without one gets it through the sites service, if the actor may create it."""
    found = (
        Location.objects.filter(site=store, kind=LocationKind.DAMAGED, is_active=True)
        .order_by("code")
        .first()
    )
    if found is not None:
        return found
    code = "DAMAGED"
    taken = set(
        Location.objects.filter(site=store, code__startswith=code).values_list("code", flat=True)
    )
    n = 1
    while code in taken:
        n += 1
        code = f"DAMAGED-{n}"
    try:
        return create_bin(site=store, code=code, kind=LocationKind.DAMAGED, actor=actor)
    except PermissionDenied:
        raise Conflict(
            _("The store has no damaged-goods location; ask for one to be set up."),
            code="no_damaged_location",
            site=store.code,
        ) from None
