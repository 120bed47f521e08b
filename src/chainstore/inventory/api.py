"""Stock API: every write that moves stock requires an Idempotency-Key header."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Header, Router, Status
from ninja.pagination import paginate

from chainstore.catalog.selectors import get_sku
from chainstore.catalog.services import resolve_scan
from chainstore.core.errors import NotFound, ValidationFailed
from chainstore.core.pagination import LimitOffsetPagination
from chainstore.core.quantities import cost_to_micros, micros_to_cost, milli_to_qty, qty_to_milli
from chainstore.inventory import selectors, services
from chainstore.inventory.errors import LotNotFound, ReservationNotFound
from chainstore.inventory.models import Lot, OperationKind, Reservation, StockOperation
from chainstore.inventory.schemas import (
    AdjustIn,
    AlertOut,
    AvailabilityOut,
    BalanceOut,
    IssueIn,
    LedgerOut,
    LotPatch,
    MoveIn,
    OperationOut,
    ReceiptIn,
    ReleaseIn,
    ReservationOut,
    ReserveIn,
    SafetyStockIn,
    WriteOffIn,
)
from chainstore.sites.models import Location, Site
from chainstore.sites.selectors import get_location, get_site

router = Router()

KEY = Header(
    None, alias="Idempotency-Key", description="Client key; replays return the first result"
)


def _require_key(key: str | None) -> str:
    if not key:
        raise ValidationFailed(
            _("Send an Idempotency-Key header with every stock write."),
            code="idempotency_key_required",
        )
    return key


def _lot(sku_code: str, number: str | None) -> Lot | None:
    if not number:
        return None
    lot = Lot.objects.filter(sku__code=sku_code, number=number).first()
    if lot is None:
        raise LotNotFound(sku=sku_code, lot=number)
    return lot


def _location(site: Site, code: str | None) -> Location | None:
    return get_location(site=site, code=code) if code else None


def operation_out(op: StockOperation) -> OperationOut:
    moves = op.moves.select_related("sku", "lot", "from_location__site", "to_location__site")
    reservations = (
        op.reservations.select_related("site", "location", "sku", "lot").order_by("id")
        if op.kind == OperationKind.RESERVE
        else []
    )
    return OperationOut(
        id=op.pk,
        kind=op.kind,
        site=op.site.code if op.site else None,
        reference=op.reference,
        partner=op.partner,
        created_at=op.created_at,
        replayed=getattr(op, "replayed", False),
        # ORM rows, not schema instances: pydantic re-validates nested items through the
        # resolvers, which need the model objects (a MoveOut has no .sku.code).
        moves=list(moves.order_by("id")),  # type: ignore[arg-type]
        reservations=list(reservations),  # type: ignore[arg-type]
    )


def _created(op: StockOperation) -> Status:
    return Status(200 if getattr(op, "replayed", False) else 201, operation_out(op))


@router.post("/receipts", response={200: OperationOut, 201: OperationOut})
def receive(request: HttpRequest, payload: ReceiptIn, idempotency_key: str | None = KEY) -> Any:
    """入库 Receive from a supplier. Lines by SKU code or by raw scan (GS1 fills lot/expiry).
    201 on first post, 200 with `replayed: true` on a replay."""
    site = get_site(code=payload.site, actor=request.user)
    lines = []
    for ln in payload.lines:
        lot, expiry = ln.lot, ln.expiry
        if ln.scan:
            scanned = resolve_scan(ln.scan)
            sku = scanned.sku
            lot = lot or scanned.lot
            expiry = expiry or scanned.expiry
        else:
            sku = get_sku(code=ln.sku)
        lines.append(
            services.ReceiptLine(
                sku=sku,
                quantity=qty_to_milli(ln.quantity),
                unit_cost_micros=cost_to_micros(ln.unit_cost) if ln.unit_cost is not None else None,
                lot_number=lot,
                expiry_date=expiry,
                location=_location(site, ln.location),
            )
        )
    op = services.receive(
        site=site,
        lines=lines,
        actor=request.user,
        supplier=payload.supplier,
        reference=payload.reference,
        idempotency_key=_require_key(idempotency_key),
    )
    return _created(op)


@router.post("/moves", response={200: OperationOut, 201: OperationOut})
def move(request: HttpRequest, payload: MoveIn, idempotency_key: str | None = KEY) -> Any:
    """上架 put-away (`kind: putaway`) or bin-to-bin move within a site."""
    site = get_site(code=payload.site, actor=request.user)
    op = services.move_stock(
        sku=get_sku(code=payload.sku),
        quantity=qty_to_milli(payload.quantity),
        from_location=get_location(site=site, code=payload.from_location),
        to_location=get_location(site=site, code=payload.to_location),
        lot=_lot(payload.sku, payload.lot),
        actor=request.user,
        kind=payload.kind,
        idempotency_key=_require_key(idempotency_key),
    )
    return _created(op)


@router.post("/issues", response={200: OperationOut, 201: OperationOut})
def issue(request: HttpRequest, payload: IssueIn, idempotency_key: str | None = KEY) -> Any:
    """出库 Issue FEFO (then FIFO) to the customer; 409 `insufficient_stock` when short."""
    site = get_site(code=payload.site, actor=request.user)
    op = services.issue(
        site=site,
        sku=get_sku(code=payload.sku),
        quantity=qty_to_milli(payload.quantity),
        location=_location(site, payload.location),
        lot=_lot(payload.sku, payload.lot),
        reason=payload.reason,
        reference=payload.reference,
        actor=request.user,
        idempotency_key=_require_key(idempotency_key),
    )
    return _created(op)


@router.post("/adjustments", response={200: OperationOut, 201: OperationOut})
def adjust(request: HttpRequest, payload: AdjustIn, idempotency_key: str | None = KEY) -> Any:
    site = get_site(code=payload.site, actor=request.user)
    op = services.adjust(
        location=get_location(site=site, code=payload.location),
        sku=get_sku(code=payload.sku),
        delta=qty_to_milli(payload.delta),
        reason=payload.reason,
        lot_number=payload.lot,
        expiry_date=payload.expiry,
        note=payload.note,
        actor=request.user,
        idempotency_key=_require_key(idempotency_key),
    )
    return _created(op)


@router.post("/reservations", response={200: OperationOut, 201: OperationOut})
def reserve(request: HttpRequest, payload: ReserveIn, idempotency_key: str | None = KEY) -> Any:
    site = get_site(code=payload.site, actor=request.user)
    op = services.reserve(
        site=site,
        sku=get_sku(code=payload.sku),
        quantity=qty_to_milli(payload.quantity),
        reference=payload.reference,
        location=_location(site, payload.location),
        actor=request.user,
        idempotency_key=_require_key(idempotency_key),
    )
    return _created(op)


@router.post("/reservations/{reservation_id}/release", response=ReservationOut)
def release(
    request: HttpRequest, reservation_id: int, payload: ReleaseIn, idempotency_key: str | None = KEY
) -> Any:
    """Release all (no quantity) or part of a reservation; a replayed key releases nothing."""
    reservation = Reservation.objects.filter(pk=reservation_id).first()
    if reservation is None:
        raise ReservationNotFound(reservation=reservation_id)
    quantity = qty_to_milli(payload.quantity) if payload.quantity is not None else None
    reservation = services.release(
        reservation=reservation,
        actor=request.user,
        quantity=quantity,
        idempotency_key=_require_key(idempotency_key),
    )
    return Reservation.objects.select_related("site", "location", "sku", "lot").get(
        pk=reservation.pk
    )


@router.get("/reservations", response=list[ReservationOut])
@paginate(LimitOffsetPagination)
def list_reservations(request: HttpRequest, site: str | None = None, active: bool = True) -> Any:
    site_obj = get_site(code=site, actor=request.user) if site else None
    return selectors.list_reservations(actor=request.user, site=site_obj, active_only=active)


@router.post("/write-off-expired", response={200: OperationOut, 201: OperationOut})
def write_off_expired(
    request: HttpRequest, payload: WriteOffIn, idempotency_key: str | None = KEY
) -> Any:
    site = get_site(code=payload.site, actor=request.user)
    op = services.write_off_expired(
        site=site, actor=request.user, idempotency_key=_require_key(idempotency_key)
    )
    if op is None:
        raise NotFound(_("No expired stock at this site."), code="nothing_expired")
    return _created(op)


@router.get("/operations/{operation_id}", response=OperationOut)
def get_operation(request: HttpRequest, operation_id: int) -> Any:
    from chainstore.core.permissions import ensure_can

    op = StockOperation.objects.filter(pk=operation_id).select_related("site").first()
    if op is None:
        raise NotFound(code="operation_not_found")
    ensure_can(request.user, "inventory.view", sites=[op.site_id])
    return operation_out(op)


@router.patch("/lots/{sku}/{number}", response=dict)
def correct_lot(request: HttpRequest, sku: str, number: str, payload: LotPatch) -> Any:
    lot = _lot(sku, number)
    assert lot is not None
    services.correct_lot_expiry(lot=lot, expiry_date=payload.expiry, actor=request.user)
    return {"sku": sku, "lot": number, "expiry": payload.expiry}


@router.put("/safety-stock", response=dict)
def set_safety_stock(request: HttpRequest, payload: SafetyStockIn) -> Any:
    site = get_site(code=payload.site, actor=request.user)
    quantity = qty_to_milli(payload.quantity) if payload.quantity is not None else None
    services.set_safety_stock(
        site=site, sku=get_sku(code=payload.sku), quantity=quantity, actor=request.user
    )
    return {"site": payload.site, "sku": payload.sku, "safety_stock": payload.quantity}


@router.get("/availability/{sku}", response=list[AvailabilityOut])
def availability(request: HttpRequest, sku: str) -> Any:
    """Availability of one SKU across every site in your scope."""
    rows = selectors.availability_by_site(sku=get_sku(code=sku), actor=request.user)
    return [
        AvailabilityOut(
            site=r["site"].code,
            site_name=r["site"].name,
            kind=r["site"].kind,
            on_hand=milli_to_qty(r["on_hand"]),
            reserved=milli_to_qty(r["reserved"]),
            available=milli_to_qty(r["available"]),
            safety_stock=milli_to_qty(r["safety_stock"]) if r["safety_stock"] is not None else None,
            avg_cost=micros_to_cost(r["avg_cost_micros"]),
        )
        for r in rows
    ]


@router.get("/sites/{site}/stock", response=list[BalanceOut])
@paginate(LimitOffsetPagination)
def site_stock(
    request: HttpRequest,
    site: str,
    sku: str | None = None,
    location: str | None = None,
    search: str = "",
) -> Any:
    """Stock of a site by bin and lot."""
    site_obj = get_site(code=site, actor=request.user)
    return selectors.site_stock(
        site=site_obj,
        actor=request.user,
        sku=get_sku(code=sku) if sku else None,
        location=_location(site_obj, location),
        search=search,
    ).select_related("site")


@router.get("/expiring", response=list[BalanceOut])
@paginate(LimitOffsetPagination)
def expiring(request: HttpRequest, days: int = 30, site: str | None = None) -> Any:
    """Lots expiring within `days` days (expired ones first)."""
    if days < 0 or days > 3650:
        raise ValidationFailed(_("days must be between 0 and 3650."), code="invalid_days")
    site_obj = get_site(code=site, actor=request.user) if site else None
    return selectors.expiring_lots(actor=request.user, days=days, site=site_obj)


@router.get("/ledger", response=LedgerOut)
def ledger(request: HttpRequest, site: str, sku: str, limit: int = 50, offset: int = 0) -> Any:
    """The ledger of a SKU at a site, newest first, with the running site balance."""
    limit = max(1, min(limit, 500))
    rows, total = selectors.sku_ledger(
        site=get_site(code=site, actor=request.user),
        sku=get_sku(code=sku),
        actor=request.user,
        limit=limit,
        offset=max(0, offset),
    )
    # Plain dicts holding ORM rows: ninja validates the response through MoveOut's
    # resolvers, which need the StockMove (nested schema instances fail there).
    return {
        "count": total,
        "items": [
            {
                "move": r.move,
                "operation_id": r.move.operation_id,
                "kind": r.move.operation.kind,
                "delta": milli_to_qty(r.delta),
                "balance_after": milli_to_qty(r.balance_after),
                "actor": r.move.actor.get_username() if r.move.actor else None,
            }
            for r in rows
        ],
    }


@router.get("/alerts/below-safety-stock", response=list[AlertOut])
@paginate(LimitOffsetPagination)
def below_safety_stock(request: HttpRequest, site: str | None = None) -> Any:
    """(site, SKU) pairs whose available stock is under their safety stock, worst first."""
    site_obj = get_site(code=site, actor=request.user) if site else None
    return selectors.below_safety_stock(actor=request.user, site=site_obj)
