"""Executing an approved transfer at the source: reserve at approval, pick by scan into the
source's OUTBOUND staging, ship into the chain's TRANSIT location with a carrier label.

Stock postings run as the system actor (`SYSTEM`): the person's right is checked here as a
transfers permission at the right site (the source ships), and the timeline names the
person. An approver at the destination may reserve stock at a source outside their scope,
because the approval is the decision and the reservation only its consequence.

Locks: every write locks the Transfer row first, then the stock rows (inside the inventory
primitives), so two writers of one transfer queue instead of deadlocking.

Shipping is "ship what you have": whatever of a line was reserved but not picked is released
when the transfer ships, and the line keeps `quantity > shipped` (shipped short at source).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chainstore.catalog.services import resolve_scan
from chainstore.core import audit
from chainstore.core.errors import (
    DomainError,
    IdempotencyKeyReused,
    InsufficientStock,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from chainstore.core.permissions import ensure_can, scope_site_ids
from chainstore.core.quantities import milli_to_qty
from chainstore.fulfilment.services.layouts import plan_route
from chainstore.fulfilment.services.sourcing import SYSTEM
from chainstore.integrations.carriers import Address, CarrierError, Label, ParcelRequest
from chainstore.integrations.carriers.registry import get_carrier
from chainstore.inventory.models import Reservation
from chainstore.inventory.services import (
    ReserveLine,
    StagedLine,
    available_to_promise,
    move_stock,
    pick_reserved,
    release_reservations,
    reserve_lines,
    ship_staged,
    site_today,
)
from chainstore.sites.models import LocationKind, Site
from chainstore.sites.services import outbound_location
from chainstore.transfers.models import (
    CostBasis,
    Transfer,
    TransferEvent,
    TransferLine,
    TransferLot,
    TransferStatus,
)
from chainstore.transfers.services.events import add_event

RESERVE_ATTEMPTS = 5
_PICKABLE = (TransferStatus.APPROVED, TransferStatus.PICKING)


class CarrierFailed(DomainError):
    """The carrier refused or could not be reached; nothing was shipped."""

    code = "carrier_failed"
    status = 502
    default_message = gettext_lazy("The carrier could not create a label.")


def lock_transfer(transfer: Transfer | int) -> Transfer:
    """The transfer row, locked until commit, as it is now."""
    pk = transfer if isinstance(transfer, int) else transfer.pk
    return Transfer.objects.select_for_update().select_related("source", "destination").get(pk=pk)


# -- approval: reserve -------------------------------------------------------------------------
def on_approved(transfer: Transfer, actor: Any) -> list[TransferLot]:
    """Reserve at the source what it can give, line by line (FEFO, never an expired lot): a
    line the source cannot cover is reserved partly, a line with nothing available stays
    unreserved (it ships short). Called by the approval service in its transaction when the
    transfer becomes APPROVED; a second call reserves nothing more."""
    with transaction.atomic():
        transfer = lock_transfer(transfer)
        if transfer.status != TransferStatus.APPROVED:
            raise InvalidState(
                _("Only an approved transfer is reserved."),
                code="transfer_not_approved",
                status=transfer.status,
            )
        lines = list(transfer.lines.select_related("sku").order_by("id"))
        if TransferLot.objects.filter(line__in=lines).exists():
            return list(TransferLot.objects.filter(line__in=lines))
        created = _reserve(transfer, lines)
        add_event(
            transfer,
            "reserved",
            actor=actor,
            lines=[
                {
                    "sku": ln.sku.code,
                    "requested": str(milli_to_qty(ln.quantity)),
                    "reserved": str(
                        milli_to_qty(sum(t.quantity for t in created if t.line_id == ln.pk))
                    ),
                }
                for ln in lines
            ],
        )
        return created


def _reserve(transfer: Transfer, lines: list[TransferLine]) -> list[TransferLot]:
    """reserve_lines is all-or-nothing: reserve what ATP says is there; if a concurrent
    reservation took it meanwhile the posting refuses and we read ATP again."""
    source = transfer.source
    for _attempt in range(RESERVE_ATTEMPTS):
        atp = available_to_promise(
            site_ids=[source.pk],
            sku_ids=sorted({ln.sku_id for ln in lines}),
            today=site_today(source),
        )
        wanted: dict[int, int] = {}  # line id -> reservable
        for ln in lines:
            left = atp.get((source.pk, ln.sku_id), 0)
            take = min(ln.quantity, max(left, 0))
            if take > 0:
                wanted[ln.pk] = take
                atp[(source.pk, ln.sku_id)] = left - take
        if not wanted:
            return []
        try:
            reservations = reserve_lines(
                lines=[
                    ReserveLine(site=source, sku=ln.sku, quantity=wanted[ln.pk])
                    for ln in lines
                    if ln.pk in wanted
                ],
                actor=SYSTEM,
                reference=transfer.number,
            )
        except InsufficientStock:
            continue
        return _lots_for(lines, wanted, reservations)
    return []


def _lots_for(
    lines: list[TransferLine], wanted: dict[int, int], reservations: list[Reservation]
) -> list[TransferLot]:
    """Split the reservation parts (merged per SKU by reserve_lines) over the lines of each
    SKU, in line order: one TransferLot per (line, reservation part)."""
    parts: dict[int, list[list[Any]]] = defaultdict(list)  # sku -> [[reservation, left]]
    for res in reservations:
        parts[res.sku_id].append([res, res.quantity])
    out: list[TransferLot] = []
    for ln in lines:
        need = wanted.get(ln.pk, 0)
        for part in parts[ln.sku_id]:
            if need == 0:
                break
            chunk = min(need, part[1])
            if chunk <= 0:
                continue
            res = part[0]
            out.append(
                TransferLot(
                    line=ln,
                    reservation=res,
                    location_id=res.location_id,
                    lot=res.lot,
                    quantity=chunk,
                )
            )
            part[1] -= chunk
            need -= chunk
    return TransferLot.objects.bulk_create(out)


# -- cancel: give everything back -------------------------------------------------------------
@transaction.atomic
def release_transfer(transfer: Transfer, actor: Any) -> int:
    """Undo execution before shipping (the transfer is being cancelled): release the open
    reservations and put picked stock back from OUTBOUND to the bin it came from. Returns
    the units given back (released + put back). Refused once anything has shipped."""
    transfer = lock_transfer(transfer)
    lots = list(
        TransferLot.objects.filter(line__transfer=transfer).select_related(
            "reservation", "location", "lot", "line__sku"
        )
    )
    if any(t.shipped for t in lots):
        raise InvalidState(
            _("This transfer has shipped; resolve it at the destination instead."),
            code="transfer_shipped",
        )
    reservations = [t.reservation for t in lots if t.reservation is not None]
    released = release_reservations(
        reservations=list({r.pk: r for r in reservations}.values()),
        actor=SYSTEM,
        reason="transfer_cancelled",
    )
    staging = outbound_location(transfer.source)
    put_back = 0
    for lot in lots:
        if lot.picked:
            move_stock(
                sku=lot.line.sku,
                quantity=lot.picked,
                from_location=staging,
                to_location=lot.location,
                lot=lot.lot,
                actor=SYSTEM,
            )
            put_back += lot.picked
            TransferLot.objects.filter(pk=lot.pk).update(picked=0)
    if released or put_back:
        add_event(
            transfer,
            "released",
            actor=actor,
            released=str(milli_to_qty(released)),
            put_back=str(milli_to_qty(put_back)),
        )
    return released + put_back


# -- picking ----------------------------------------------------------------------------------
def pick_list(transfer: Transfer) -> list[TransferLot]:
    """The transfer's reserved parts in walking order at the source (fulfilment's router over
    the site layout; bins without coordinates last, by code)."""
    lots = list(
        TransferLot.objects.filter(line__transfer=transfer).select_related(
            "location", "lot", "line__sku", "reservation"
        )
    )
    if not lots:
        return []
    route = plan_route(transfer.source, [t.location for t in lots])
    return [lots[i] for i in route.order]


def get_transfer_lot(*, lot_id: int, actor: Any) -> TransferLot:
    """A reserved part of a transfer the actor may see (from or to one of their sites)."""
    ensure_can(actor, "transfers.view")
    part = (
        TransferLot.objects.select_related("line__transfer", "line__sku", "location", "lot")
        .filter(pk=lot_id)
        .first()
    )
    allowed = scope_site_ids(actor)
    if part is not None and allowed is not None:
        t = part.line.transfer
        if not {t.source_id, t.destination_id} & allowed:
            part = None
    if part is None:
        raise NotFound(_("Pick task not found."), code="transfer_lot_not_found")
    return part


@dataclass(frozen=True)
class PickResult:
    transfer_lot: TransferLot
    quantity: int
    replayed: bool


def pick(
    *,
    transfer_lot: TransferLot,
    actor: Any,
    bin_scan: str,
    item_scan: str,
    quantity: int,
    idempotency_key: str,
    lot_scan: str | None = None,
) -> PickResult:
    """Pick `quantity` of a reserved part after checking the scans: the bin, the SKU (any of
    its barcodes, GS1 with a lot too) and, for lot-tracked SKUs, the reserved lot. The
    transfer picks exactly what was reserved (no substitutes: a missing lot ships short).
    Refusals change nothing: wrong_bin, wrong_item, lot_required, wrong_lot, over_quantity,
    transfer_not_pickable. A replayed key returns the first result and moves nothing."""
    _key_ok(idempotency_key)
    transfer = transfer_lot.line.transfer
    ensure_can(actor, "transfers.ship", sites=[transfer.source_id])
    with transaction.atomic():
        transfer = lock_transfer(transfer)
        prior = _picked_with(transfer, idempotency_key)
        if prior is not None:
            if prior.data.get("transfer_lot") != transfer_lot.pk:
                raise IdempotencyKeyReused(idempotency_key=idempotency_key)
            part = TransferLot.objects.get(pk=transfer_lot.pk)
            return PickResult(part, int(prior.data["milli"]), True)
        part = TransferLot.objects.select_related(
            "location", "lot", "line__sku", "reservation"
        ).get(pk=transfer_lot.pk)
        _check_pick(transfer, part, bin_scan, item_scan, lot_scan, quantity)
        assert part.reservation is not None
        pick_reserved(
            reservation=part.reservation,
            quantity=quantity,
            to_location=outbound_location(transfer.source),
            actor=SYSTEM,
            reference=transfer.number,
        )
        TransferLot.objects.filter(pk=part.pk).update(picked=F("picked") + quantity)
        part.picked += quantity
        if transfer.status == TransferStatus.APPROVED:
            Transfer.objects.filter(pk=transfer.pk).update(status=TransferStatus.PICKING)
        add_event(
            transfer,
            "picked",
            actor=actor,
            key=idempotency_key,
            transfer_lot=part.pk,
            milli=quantity,
            bin=part.location.code,
            sku=part.line.sku.code,
            lot=part.lot.number if part.lot else None,
            quantity=str(milli_to_qty(quantity)),
        )
        return PickResult(part, quantity, False)


def _key_ok(key: str) -> None:
    if not isinstance(key, str) or not 0 < len(key) <= 100:
        raise ValidationFailed(
            _("Send an Idempotency-Key of 1-100 characters."), code="idempotency_key_required"
        )


def _picked_with(transfer: Transfer, key: str) -> TransferEvent | None:
    """A pick's key lives on its timeline event; looked up under the transfer's lock, so a
    resend waiting for the first request finds it."""
    return TransferEvent.objects.filter(transfer=transfer, kind="picked", data__key=key).first()


def _check_pick(
    transfer: Transfer,
    part: TransferLot,
    bin_scan: str,
    item_scan: str,
    lot_scan: str | None,
    quantity: int,
) -> None:
    if transfer.status not in _PICKABLE:
        raise InvalidState(
            _("This transfer is not being picked."),
            code="transfer_not_pickable",
            status=transfer.status,
        )
    if not isinstance(quantity, int) or quantity <= 0:
        raise ValidationFailed(_("Quantity must be greater than zero."), code="invalid_quantity")
    left = part.quantity - part.picked
    if quantity > left:
        raise ValidationFailed(
            _("Only %(n)s left to pick here.") % {"n": milli_to_qty(left)},
            code="over_quantity",
            remaining=str(milli_to_qty(left)),
        )
    if (bin_scan or "").strip().upper() != part.location.code.upper():
        raise ValidationFailed(
            _("Wrong bin; go to bin %(bin)s.") % {"bin": part.location.code},
            code="wrong_bin",
            bin=bin_scan,
            expected=part.location.code,
        )
    scan = resolve_scan(item_scan)
    sku = part.line.sku
    if scan.sku.pk != sku.pk:
        raise ValidationFailed(
            _("Wrong item: this line is %(sku)s.") % {"sku": sku.name},
            code="wrong_item",
            sku=scan.sku.code,
            expected=sku.code,
        )
    if part.lot is None:
        return
    number = scan.lot or (lot_scan or "").strip()
    if not number:
        raise ValidationFailed(
            _("Scan or type the lot number."), code="lot_required", expected=part.lot.number
        )
    if number != part.lot.number:
        raise ValidationFailed(
            _("Wrong lot: pick lot %(lot)s.") % {"lot": part.lot.number},
            code="wrong_lot",
            lot=number,
            expected=part.lot.number,
        )


# -- shipping ---------------------------------------------------------------------------------
def ship(
    *,
    transfer: Transfer,
    actor: Any,
    carrier: str = "sim",
    freight_fen: int,
    handling_fen: int,
    cost_basis: str,
    weight_g: int | None = None,
    idempotency_key: str,
) -> Transfer:
    """Hand what was picked to the carrier: book a label (outside the transaction; voided if
    posting fails or a concurrent request with the same key won), post OUTBOUND -> TRANSIT,
    record each line's shipped quantity and source cost, allocate freight + handling to the
    lines, release what was reserved but not picked. `.replayed` on a replay."""
    _key_ok(idempotency_key)
    prior = _shipped_with(idempotency_key, transfer, actor)
    if prior is not None:
        return prior
    ensure_can(actor, "transfers.ship", sites=[transfer.source_id])
    if cost_basis not in CostBasis.values:
        raise ValidationFailed(_("Unknown cost basis."), code="invalid_cost_basis")
    if not isinstance(freight_fen, int) or not isinstance(handling_fen, int):
        raise ValidationFailed(_("Costs are whole fen."), code="invalid_amount")
    if freight_fen < 0 or handling_fen < 0:
        raise ValidationFailed(_("Costs cannot be negative."), code="negative_amount")
    transfer = Transfer.objects.select_related("source", "destination").get(pk=transfer.pk)
    _refuse_unshippable(transfer)
    lots = _picked_lots(transfer)
    weight = weight_g or _weight_of(lots)
    adapter = get_carrier(carrier)
    label = _book_label(adapter, transfer, weight, sum(t.picked - t.shipped for t in lots))
    try:
        with transaction.atomic():
            done = _post_shipment(
                transfer,
                actor,
                label,
                carrier,
                freight_fen,
                handling_fen,
                cost_basis,
                weight,
                idempotency_key,
            )
    except BaseException:
        _cancel_label(adapter, label)
        raise
    if done.tracking_number != label.tracking_number:
        _cancel_label(adapter, label)
    return done


def _shipped_with(key: str, transfer: Transfer, actor: Any) -> Transfer | None:
    prior = Transfer.objects.filter(ship_key=key).first()
    if prior is None:
        return None
    if prior.pk != transfer.pk:
        raise IdempotencyKeyReused(idempotency_key=key)
    ensure_can(actor, "transfers.ship", sites=[prior.source_id])
    prior.replayed = True  # type: ignore[attr-defined]
    return prior


def _refuse_unshippable(transfer: Transfer) -> None:
    if transfer.status not in _PICKABLE:
        raise InvalidState(
            _("Only an approved transfer being picked can ship."),
            code="transfer_not_shippable",
            status=transfer.status,
        )


def _picked_lots(transfer: Transfer) -> list[TransferLot]:
    lots = [
        t
        for t in TransferLot.objects.filter(line__transfer=transfer).select_related(
            "line__sku", "lot", "reservation"
        )
        if t.picked > t.shipped
    ]
    if not lots:
        raise InvalidState(_("Nothing has been picked yet."), code="nothing_to_ship")
    return lots


def _weight_of(lots: list[TransferLot]) -> int:
    grams = sum((t.line.sku.weight_g or 0) * (t.picked - t.shipped) // 1000 for t in lots)
    return max(grams, 1)


def _address(site: Site) -> Address:
    return Address(
        name=site.name,
        phone="",
        address=site.address or site.name,
        city=site.city,
        province=site.region,
        latitude=site.latitude,
        longitude=site.longitude,
    )


def _book_label(adapter: Any, transfer: Transfer, weight_g: int, units_milli: int) -> Label:
    request = ParcelRequest(
        reference=transfer.number,
        weight_g=weight_g,
        sender=_address(transfer.source),
        receiver=_address(transfer.destination),
        items=max(1, units_milli // 1000),
        note=_("Transfer %(number)s") % {"number": transfer.number},
    )
    try:
        for _attempt in range(3):
            label: Label = adapter.create_label(request)
            if not Transfer.objects.filter(tracking_number=label.tracking_number).exists():
                return label
            adapter.cancel_label(label.tracking_number)
        raise CarrierError("the carrier keeps returning tracking numbers already in use")
    except (CarrierError, OSError) as exc:
        raise CarrierFailed(
            _("The carrier %(carrier)s could not create a label: %(reason)s")
            % {"carrier": adapter.name, "reason": exc},
            carrier=adapter.code,
            carrier_code=getattr(exc, "code", type(exc).__name__),
        ) from exc


def _cancel_label(adapter: Any, label: Label) -> None:
    """Best effort: a label that cannot be voided is only a wasted number."""
    try:
        adapter.cancel_label(label.tracking_number)
    except (CarrierError, OSError):
        return


def _post_shipment(
    transfer: Transfer,
    actor: Any,
    label: Label,
    carrier: str,
    freight_fen: int,
    handling_fen: int,
    basis: str,
    weight_g: int,
    key: str,
) -> Transfer:
    transfer = lock_transfer(transfer)
    winner = _shipped_with(key, transfer, actor)
    if winner is not None:
        return winner
    _refuse_unshippable(transfer)
    lots = _picked_lots(transfer)
    staging = outbound_location(transfer.source)
    merged: dict[tuple[int, int | None], StagedLine] = {}
    for t in lots:
        k = (t.line.sku_id, t.lot_id)
        q = t.picked - t.shipped + (merged[k].quantity if k in merged else 0)
        merged[k] = StagedLine(location=staging, sku=t.line.sku, lot=t.lot, quantity=q)
    op = ship_staged(
        site=transfer.source,
        lines=list(merged.values()),
        actor=SYSTEM,
        reference=transfer.number,
        to_kind=LocationKind.TRANSIT,
    )
    cost_of = {m.sku_id: m.unit_cost_micros for m in op.moves.all()}
    shipped: dict[int, int] = defaultdict(int)
    for t in lots:
        TransferLot.objects.filter(pk=t.pk).update(shipped=F("picked"))
        shipped[t.line_id] += t.picked - t.shipped
    release_reservations(
        reservations=_reserved(transfer),
        actor=SYSTEM,
        reason="transfer_shipped",
    )
    lines = list(transfer.lines.select_related("sku").order_by("id"))
    for ln in lines:
        ln.shipped += shipped.get(ln.pk, 0)
        ln.unit_cost_micros = cost_of.get(ln.sku_id, ln.unit_cost_micros)
    used, shares = allocate_costs(lines, freight_fen + handling_fen, basis)
    for ln, share in zip(lines, shares, strict=True):
        ln.allocated_cost_fen = share
    TransferLine.objects.bulk_update(lines, ["shipped", "unit_cost_micros", "allocated_cost_fen"])
    now = timezone.now()
    Transfer.objects.filter(pk=transfer.pk).update(
        status=TransferStatus.IN_TRANSIT,
        shipped_at=now,
        carrier=carrier,
        tracking_number=label.tracking_number,
        label=label.content,
        weight_g=weight_g,
        freight_fen=freight_fen,
        handling_fen=handling_fen,
        cost_basis=used,
        ship_key=key,
    )
    add_event(
        transfer,
        "shipped",
        actor=actor,
        at=now,
        carrier=carrier,
        tracking_number=label.tracking_number,
        freight_fen=freight_fen,
        handling_fen=handling_fen,
        cost_basis=used,
        requested_basis=basis,
        short_at_source=[
            {"sku": ln.sku.code, "short": str(milli_to_qty(ln.quantity - ln.shipped))}
            for ln in lines
            if ln.quantity > ln.shipped
        ],
    )
    audit.record(
        actor=actor,
        action="transfer.ship",
        obj=transfer,
        from_state=transfer.status,
        to_state=TransferStatus.IN_TRANSIT,
        site_id=transfer.source_id,
        data={"carrier": carrier, "tracking_number": label.tracking_number},
    )
    transfer.refresh_from_db()
    transfer.replayed = False  # type: ignore[attr-defined]
    return transfer


def _reserved(transfer: Transfer) -> list[Reservation]:
    """The transfer's reservations still holding stock (reserved, not picked)."""
    ids = TransferLot.objects.filter(line__transfer=transfer).values("reservation_id")
    return list(Reservation.objects.filter(pk__in=ids, open_quantity__gt=0))


def allocate_costs(lines: list[TransferLine], total_fen: int, basis: str) -> tuple[str, list[int]]:
    """Split `total_fen` over the shipped lines in proportion to weight, volume or value,
    by largest remainder so the parts add up to the total exactly (ties: earlier line).
    Weight or volume falls back to value when any shipped line's SKU lacks it; value falls
    back to quantity when every value is zero. Returns (the basis used, the parts)."""
    weights = _basis_weights(lines, basis)
    used = basis
    if weights is None:
        used = CostBasis.VALUE
        weights = _basis_weights(lines, CostBasis.VALUE)
    assert weights is not None
    if sum(weights) == 0:
        weights = [ln.shipped for ln in lines]
    total_weight = sum(weights)
    if total_weight == 0 or total_fen == 0:
        return used, [0] * len(lines)
    parts = [total_fen * w // total_weight for w in weights]
    order = sorted(range(len(lines)), key=lambda i: (-(total_fen * weights[i] % total_weight), i))
    for i in order[: total_fen - sum(parts)]:
        parts[i] += 1
    return used, parts


def _basis_weights(lines: list[TransferLine], basis: str) -> list[int] | None:
    if basis == CostBasis.VALUE:
        return [ln.shipped * ln.unit_cost_micros for ln in lines]
    field = "weight_g" if basis == CostBasis.WEIGHT else "volume_cm3"
    out: list[int] = []
    for ln in lines:
        per_unit = getattr(ln.sku, field)
        if ln.shipped and not per_unit:
            return None
        out.append((per_unit or 0) * ln.shipped)
    return out
