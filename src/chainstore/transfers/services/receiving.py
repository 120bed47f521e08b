"""Receiving a transfer at the destination (by scan) and resolving its discrepancies.

Every unit that left the source is accounted for, per line:
    shipped == received + damaged + resolved + in transit
`received`/`damaged` count units posted TRANSIT -> destination (sellable receiving location
or a given bin / the DAMAGED location); `resolved` counts short units taken out of transit
by a resolution (carrier claim or loss write-off: TRANSIT -> inventory loss; return to
source: TRANSIT -> the source's receiving location). Units beyond what is in transit are
OVER: an inventory gain (ADJUSTMENT -> destination), kept apart from the line's counters.

What is in transit per lot is read from the ledger (moves of this transfer's number into and
out of TRANSIT), so lots stay exact through partial receipts and resolutions.

Landed cost per base unit (micro-yuan) = the line's source cost + its allocated freight and
handling spread over the units shipped: allocated_cost_fen * 10_000 (micro-yuan per fen)
* 1000 (milli per unit) / shipped, rounded half up; received units enter the destination's
moving average at that cost, so the freight lands in the store's cost of goods.

A receipt is `final` by default: whatever of a line is then still unaccounted for becomes a
SHORT discrepancy (its units stay in transit until resolved, so the ageing report shows
them). Goods that turn up later are received against the open SHORT, which shrinks.
Status: RECEIVED when every unit is received or under an open discrepancy; CLOSED when
nothing is in transit and no discrepancy is open.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from chainstore.core import audit
from chainstore.core.errors import IdempotencyKeyReused, InvalidState, NotFound, ValidationFailed
from chainstore.core.idempotency import fingerprint, run_idempotent
from chainstore.core.permissions import ensure_can, scope_site_ids
from chainstore.core.quantities import milli_to_qty
from chainstore.inventory.models import Lot, OperationKind, StockMove, StockOperation
from chainstore.inventory.posting import Posting
from chainstore.inventory.services import ISSUE_KINDS
from chainstore.sites.models import Location, LocationKind, Site
from chainstore.sites.services import virtual_location
from chainstore.transfers.models import (
    Discrepancy,
    DiscrepancyKind,
    Resolution,
    Transfer,
    TransferLine,
    TransferLot,
    TransferStatus,
)
from chainstore.transfers.services.events import add_event
from chainstore.transfers.services.execution import lock_transfer

_RECEIVABLE = (TransferStatus.IN_TRANSIT, TransferStatus.RECEIVED)
_ALLOWED = {
    DiscrepancyKind.SHORT: {
        Resolution.CARRIER_CLAIM,
        Resolution.WRITE_OFF,
        Resolution.RETURN_TO_SOURCE,
    },
    DiscrepancyKind.OVER: {Resolution.ACCEPT, Resolution.RETURN_TO_SOURCE},
    DiscrepancyKind.DAMAGED: {Resolution.CARRIER_CLAIM, Resolution.WRITE_OFF},
}
_RECEIVE_INTO = (LocationKind.RECEIVING, *ISSUE_KINDS)


def allowed_resolutions(kind: str) -> list[str]:
    """The resolutions that apply to a discrepancy kind, in the Resolution order."""
    return [r for r in Resolution.values if r in _ALLOWED[DiscrepancyKind(kind)]]


@dataclass(frozen=True)
class ReceiveLine:
    line: TransferLine
    received: int
    damaged: int = 0
    lot: Lot | None = None

    @property
    def lot_id(self) -> int | None:
        return self.lot.pk if self.lot is not None else None


@dataclass
class ReceiptResult:
    transfer: Transfer
    operation: StockOperation
    discrepancies: list[Discrepancy] = field(default_factory=list)
    replayed: bool = False


def landed_unit_cost(line: TransferLine) -> int:
    """Source cost + allocated freight/handling per base unit, micro-yuan (see module)."""
    if line.shipped <= 0:
        return line.unit_cost_micros
    extra = (line.allocated_cost_fen * 10_000_000 * 2 + line.shipped) // (2 * line.shipped)
    return line.unit_cost_micros + extra


# -- receive ----------------------------------------------------------------------------------
def receive(
    *,
    transfer: Transfer,
    actor: Any,
    lines: list[ReceiveLine],
    idempotency_key: str,
    location: Location | None = None,
    final: bool = True,
) -> ReceiptResult:
    """Post what arrived: received units TRANSIT -> receiving location (or `location`),
    damaged ones TRANSIT -> the DAMAGED location, extra units as OVER (inventory gain);
    record SHORT (when `final`), OVER and DAMAGED discrepancies. A replayed key returns
    the first receipt and posts nothing."""
    if not isinstance(idempotency_key, str) or not 0 < len(idempotency_key) <= 100:
        raise ValidationFailed(
            _("Send an Idempotency-Key of 1-100 characters."), code="idempotency_key_required"
        )
    ensure_can(actor, "transfers.receive", sites=[transfer.destination_id])
    for rl in lines:
        if rl.line.transfer_id != transfer.pk:
            raise ValidationFailed(_("The line belongs to another transfer."), code="wrong_line")
        if not isinstance(rl.received, int) or not isinstance(rl.damaged, int):
            raise ValidationFailed(_("Quantities are whole milli."), code="invalid_quantity")
        if rl.received < 0 or rl.damaged < 0:
            raise ValidationFailed(_("Quantities cannot be negative."), code="invalid_quantity")
    if not final and not any(rl.received or rl.damaged for rl in lines):
        raise ValidationFailed(_("Nothing to receive."), code="nothing_to_receive")
    request_hash = fingerprint(
        {
            "op": "transfer_receive",
            "transfer": transfer.pk,
            "lines": [(rl.line.pk, rl.received, rl.damaged, rl.lot_id) for rl in _sorted(lines)],
            "location": location.pk if location else None,
            "final": final,
        }
    )

    def find(key: str) -> StockOperation | None:
        op = StockOperation.objects.filter(idempotency_key=key).first()
        if op is not None and op.reference != transfer.number:
            raise IdempotencyKeyReused(idempotency_key=key)
        return op

    opened: list[Discrepancy] = []

    def create() -> StockOperation:
        return _post_receipt(
            transfer, actor, lines, idempotency_key, request_hash, location, final, opened
        )

    op = run_idempotent(key=idempotency_key, request_hash=request_hash, find=find, create=create)
    replayed = bool(getattr(op, "replayed", False))
    transfer.refresh_from_db()
    if replayed:  # the first receipt's discrepancies are among the transfer's
        opened = list(Discrepancy.objects.filter(line__transfer=transfer))
    return ReceiptResult(transfer, op, opened, replayed)


def _sorted(lines: list[ReceiveLine]) -> list[ReceiveLine]:
    return sorted(lines, key=lambda rl: (rl.line.pk, rl.lot_id or 0, rl.received, rl.damaged))


def _post_receipt(
    transfer: Transfer,
    actor: Any,
    lines: list[ReceiveLine],
    key: str,
    request_hash: str,
    location: Location | None,
    final: bool,
    opened: list[Discrepancy],
) -> StockOperation:
    transfer = lock_transfer(transfer)
    if transfer.status not in _RECEIVABLE:
        raise InvalidState(
            _("Only a transfer in transit can be received."),
            code="transfer_not_in_transit",
            status=transfer.status,
        )
    destination = transfer.destination
    into = _receiving_place(destination, location)
    damaged_place = _damaged_location(destination)
    op = StockOperation.objects.create(
        kind=OperationKind.RECEIPT,
        site=destination,
        reference=transfer.number,
        partner=transfer.source.code,
        note="transfer_receipt",
        actor=actor if getattr(actor, "pk", None) else None,
        idempotency_key=key,
        request_hash=request_hash,
    )
    posting = Posting(op)
    all_lines = {ln.pk: ln for ln in transfer.lines.select_related("sku").order_by("id")}
    posting.lock((destination.pk, ln.sku_id) for ln in all_lines.values())
    transit = virtual_location(LocationKind.TRANSIT)
    gain = virtual_location(LocationKind.ADJUSTMENT)
    by_lot = {sku_id: _transit_by_lot(transfer, sku_id) for sku_id in _sku_ids(all_lines)}
    for rl in _sorted(lines):
        line = all_lines[rl.line.pk]
        if not (rl.received or rl.damaged):
            continue
        cost = landed_unit_cost(line)
        lots = _take_lots(line, by_lot[line.sku_id], rl.lot, rl.received + rl.damaged)
        from_transit = sum(q for _lot, q in lots)
        damaged_left = rl.damaged
        for lot, q in lots:
            to_damaged = min(damaged_left, q)
            damaged_left -= to_damaged
            for place, part in ((damaged_place, to_damaged), (into, q - to_damaged)):
                if part:
                    _post(posting, line, lot, part, transit, place, "transfer_receipt", cost)
            _count_lot(line, lot, q - to_damaged, to_damaged)
        damaged_from_transit = rl.damaged - damaged_left
        line.received += from_transit - damaged_from_transit
        line.damaged += damaged_from_transit
        over = rl.received + rl.damaged - from_transit
        if over:
            over_lot = rl.lot or _last_lot(line)
            over_damaged = damaged_left
            for place, part in ((damaged_place, over_damaged), (into, over - over_damaged)):
                if part:
                    _post(posting, line, over_lot, part, gain, place, "transfer_over", cost)
            opened.append(_discrepancy(line, DiscrepancyKind.OVER, over, actor))
        if rl.damaged:
            opened.append(_discrepancy(line, DiscrepancyKind.DAMAGED, rl.damaged, actor))
        _absorb_shorts(line, transfer, actor)
    TransferLine.objects.bulk_update(list(all_lines.values()), ["received", "damaged"])
    if final:
        for line in all_lines.values():
            missing = line.in_transit - _open_short(line)
            if missing > 0:
                opened.append(_discrepancy(line, DiscrepancyKind.SHORT, missing, actor))
    posting.finish()
    add_event(
        transfer,
        "received",
        actor=actor,
        key=key,
        final=final,
        lines=[
            {
                "sku": all_lines[rl.line.pk].sku.code,
                "received": str(milli_to_qty(rl.received)),
                "damaged": str(milli_to_qty(rl.damaged)),
                "lot": rl.lot.number if rl.lot else None,
            }
            for rl in _sorted(lines)
        ],
    )
    for d in opened:
        add_event(
            transfer,
            "discrepancy",
            actor=actor,
            discrepancy=d.pk,
            kind_of=d.kind,
            sku=d.line.sku.code,
            quantity=str(milli_to_qty(d.quantity)),
        )
    audit.record(
        actor=actor,
        action="transfer.receive",
        obj=transfer,
        from_state=transfer.status,
        to_state="received",
        site_id=destination.pk,
        data={"operation": op.pk, "discrepancies": len(opened)},
    )
    settle(transfer, actor)
    return op


def _sku_ids(lines: dict[int, TransferLine]) -> list[int]:
    return sorted({ln.sku_id for ln in lines.values()})


def _receiving_place(site: Site, location: Location | None) -> Location:
    if location is None:
        if site.receiving_location is None:
            raise InvalidState(_("The site has no receiving location."), code="no_receiving")
        return site.receiving_location
    if location.site_id != site.pk or location.is_virtual or location.kind not in _RECEIVE_INTO:
        raise ValidationFailed(
            _("Receive into a receiving, storage or selling location of the destination."),
            code="invalid_location",
            location=location.code,
        )
    return location


def _damaged_location(site: Site) -> Location:
    place = Location.objects.filter(site=site, kind=LocationKind.DAMAGED, is_active=True).first()
    if place is None:
        raise InvalidState(
            _("The destination has no damaged-goods location."), code="no_damaged_location"
        )
    return place


def _transit_by_lot(transfer: Transfer, sku_id: int) -> dict[int | None, int]:
    """Units of this transfer's SKU in TRANSIT per lot, from the ledger."""
    transit = virtual_location(LocationKind.TRANSIT)
    moves = StockMove.objects.filter(operation__reference=transfer.number, sku_id=sku_id)
    out: dict[int | None, int] = defaultdict(int)
    for lot_id, q in (
        moves.filter(to_location=transit).values_list("lot_id").annotate(q=Sum("quantity"))
    ):
        out[lot_id] += q
    for lot_id, q in (
        moves.filter(from_location=transit).values_list("lot_id").annotate(q=Sum("quantity"))
    ):
        out[lot_id] -= q
    return out


def _lot_order(lot_ids: list[int | None]) -> list[int | None]:
    lots = {lot.pk: lot for lot in Lot.objects.filter(pk__in=[i for i in lot_ids if i])}

    def key(lot_id: int | None) -> tuple[dt.date, int]:
        lot = lots.get(lot_id) if lot_id else None
        return (lot.expiry_date if lot and lot.expiry_date else dt.date.max, lot_id or 0)

    return sorted(lot_ids, key=key)


def _take_lots(
    line: TransferLine, pool: dict[int | None, int], lot: Lot | None, quantity: int
) -> list[tuple[Lot | None, int]]:
    """Take up to `quantity` of what is in transit (capped by the line's in transit), the
    scanned lot only or first expiry first; updates `pool`. A lot this line never shipped
    is refused."""
    cap = min(quantity, line.in_transit)
    if lot is not None:
        shipped_lots = set(TransferLot.objects.filter(line=line).values_list("lot_id", flat=True))
        if lot.pk not in shipped_lots:
            raise ValidationFailed(
                _("Lot %(lot)s was not shipped on this transfer.") % {"lot": lot.number},
                code="lot_not_shipped",
                lot=lot.number,
            )
        candidates: list[int | None] = [lot.pk]
    else:
        candidates = _lot_order([k for k, v in pool.items() if v > 0])
    objects = {lt.pk: lt for lt in Lot.objects.filter(pk__in=[c for c in candidates if c])}
    out: list[tuple[Lot | None, int]] = []
    for lot_id in candidates:
        q = min(cap, pool.get(lot_id, 0))
        if q <= 0:
            continue
        out.append((objects.get(lot_id) if lot_id else None, q))
        pool[lot_id] -= q
        cap -= q
    return out


def _last_lot(line: TransferLine) -> Lot | None:
    last = TransferLot.objects.filter(line=line).select_related("lot").order_by("-id").first()
    return last.lot if last else None


def _post(
    posting: Posting,
    line: TransferLine,
    lot: Lot | None,
    quantity: int,
    source: Location,
    place: Location,
    reason: str,
    cost: int,
) -> None:
    posting.put(place, line.sku, lot, quantity)
    posting.record(
        sku=line.sku,
        lot=lot,
        quantity=quantity,
        from_location=source,
        to_location=place,
        reason=reason,
        unit_cost_micros=cost,
    )


def _count_lot(line: TransferLine, lot: Lot | None, received: int, damaged: int) -> None:
    """Keep the per-lot counters of the pick list in step (for the screens)."""
    for part in TransferLot.objects.filter(line=line, lot=lot).order_by("id"):
        room = part.shipped - part.received - part.damaged
        r, d = min(received, room), 0
        d = min(damaged, room - r)
        if r or d:
            TransferLot.objects.filter(pk=part.pk).update(
                received=part.received + r, damaged=part.damaged + d
            )
        received -= r
        damaged -= d


def _discrepancy(line: TransferLine, kind: str, quantity: int, actor: Any) -> Discrepancy:
    return Discrepancy.objects.create(line=line, kind=kind, quantity=quantity, reported_by=actor)


def _open_short(line: TransferLine) -> int:
    return (
        Discrepancy.objects.filter(line=line, kind=DiscrepancyKind.SHORT, resolution="").aggregate(
            q=Sum("quantity")
        )["q"]
        or 0
    )


def _absorb_shorts(line: TransferLine, transfer: Transfer, actor: Any) -> None:
    """Goods that arrive after a SHORT was recorded reduce it (newest first)."""
    excess = _open_short(line) - line.in_transit
    for d in Discrepancy.objects.filter(
        line=line, kind=DiscrepancyKind.SHORT, resolution=""
    ).order_by("-id"):
        if excess <= 0:
            return
        cut = min(excess, d.quantity)
        if cut == d.quantity:
            d.delete()
        else:
            Discrepancy.objects.filter(pk=d.pk).update(quantity=d.quantity - cut)
        add_event(
            transfer,
            "discrepancy",
            actor=actor,
            discrepancy=d.pk,
            kind_of=DiscrepancyKind.SHORT,
            arrived=str(milli_to_qty(cut)),
        )
        excess -= cut


def settle(transfer: Transfer, actor: Any) -> str:
    """RECEIVED when every unit is received or under an open discrepancy, CLOSED when
    nothing is in transit and nothing is open; otherwise unchanged."""
    lines = list(TransferLine.objects.filter(transfer=transfer))
    open_ = Discrepancy.objects.filter(line__transfer=transfer, resolution="")
    short = dict(
        open_.filter(kind=DiscrepancyKind.SHORT).values_list("line_id").annotate(q=Sum("quantity"))
    )
    now = timezone.now()
    status = transfer.status
    if all(ln.in_transit == 0 for ln in lines) and not open_.exists():
        status = TransferStatus.CLOSED
    elif all(ln.in_transit == short.get(ln.pk, 0) for ln in lines):
        status = TransferStatus.RECEIVED
    if status == transfer.status:
        return status
    Transfer.objects.filter(pk=transfer.pk).update(
        status=status,
        received_at=transfer.received_at or now,
        closed_at=now if status == TransferStatus.CLOSED else None,
    )
    add_event(transfer, str(status), actor=actor, at=now, from_status=transfer.status)
    audit.record(
        actor=actor,
        action=f"transfer.{status}",
        obj=transfer,
        from_state=transfer.status,
        to_state=status,
        site_id=transfer.destination_id,
    )
    transfer.status = status
    return status


# -- resolve ----------------------------------------------------------------------------------
def resolve(
    *,
    discrepancy: Discrepancy,
    actor: Any,
    resolution: str,
    claim_fen: int = 0,
    note: str = "",
) -> Discrepancy:
    """Settle one open discrepancy (see the module docstring for the postings). A claim
    records `claim_fen` against the carrier; stock-wise it is a loss like a write-off."""
    transfer = discrepancy.line.transfer
    ensure_can(actor, "transfers.resolve", sites=[transfer.destination_id])
    if not isinstance(claim_fen, int) or claim_fen < 0:
        raise ValidationFailed(_("The claim cannot be negative."), code="negative_amount")
    if claim_fen and resolution != Resolution.CARRIER_CLAIM:
        raise ValidationFailed(_("Only a carrier claim has an amount."), code="claim_not_allowed")
    with transaction.atomic():
        transfer = lock_transfer(transfer)
        d = Discrepancy.objects.select_related("line__sku").filter(pk=discrepancy.pk).first()
        if d is None or d.resolution:
            raise InvalidState(_("This discrepancy is already settled."), code="already_resolved")
        if resolution not in _ALLOWED[DiscrepancyKind(d.kind)]:
            raise ValidationFailed(
                _("This resolution does not apply to this discrepancy."),
                code="invalid_resolution",
                kind=d.kind,
                resolution=resolution,
            )
        _post_resolution(transfer, d, resolution, actor)
        Discrepancy.objects.filter(pk=d.pk).update(
            resolution=resolution,
            claim_fen=claim_fen,
            note=(note or d.note)[:300],
            resolved_by=actor,
            resolved_at=timezone.now(),
        )
        add_event(
            transfer,
            "resolved",
            actor=actor,
            discrepancy=d.pk,
            kind_of=d.kind,
            resolution=resolution,
            quantity=str(milli_to_qty(d.quantity)),
            claim_fen=claim_fen,
        )
        audit.record(
            actor=actor,
            action="transfer.resolve",
            obj=d,
            from_state="open",
            to_state=resolution,
            site_id=transfer.destination_id,
            data={"kind": d.kind, "quantity": d.quantity, "claim_fen": claim_fen},
        )
        settle(transfer, actor)
        d.refresh_from_db()
        return d


def _post_resolution(transfer: Transfer, d: Discrepancy, resolution: str, actor: Any) -> None:
    line = d.line
    if d.kind == DiscrepancyKind.OVER and resolution == Resolution.ACCEPT:
        return
    op = StockOperation.objects.create(
        kind=OperationKind.ADJUSTMENT,
        site=transfer.destination,
        reference=transfer.number,
        note=f"transfer_{d.kind}_{resolution}"[:500],
        actor=actor if getattr(actor, "pk", None) else None,
    )
    posting = Posting(op)
    transit = virtual_location(LocationKind.TRANSIT)
    source, dest = transfer.source, transfer.destination
    if d.kind == DiscrepancyKind.SHORT:
        posting.lock([(source.pk, line.sku_id)])
        if source.receiving_location is None:
            raise InvalidState(_("The source has no receiving location."), code="no_receiving")
        back = resolution == Resolution.RETURN_TO_SOURCE
        target = source.receiving_location if back else virtual_location(LocationKind.ADJUSTMENT)
        for lot, q in _take_lots(line, _transit_by_lot(transfer, line.sku_id), None, d.quantity):
            if back:
                posting.put(target, line.sku, lot, q)
            posting.record(
                sku=line.sku,
                lot=lot,
                quantity=q,
                from_location=transit,
                to_location=target,
                reason=f"transfer_short_{resolution}"[:32],
                unit_cost_micros=line.unit_cost_micros,
            )
        if not TransferLine.objects.filter(
            pk=line.pk, shipped__gte=line.received + line.damaged + line.resolved + d.quantity
        ).update(resolved=line.resolved + d.quantity):
            raise InvalidState(_("The line changed; try again."), code="line_changed")
    elif d.kind == DiscrepancyKind.DAMAGED:
        posting.lock([(dest.pk, line.sku_id)])
        scrap = virtual_location(LocationKind.SCRAP)
        place = _damaged_location(dest)
        for part in posting.take_fefo([place], line.sku, d.quantity, today=dt.date.min):
            posting.record(
                sku=line.sku,
                lot=part.lot,
                quantity=part.quantity,
                from_location=place,
                to_location=scrap,
                reason=f"transfer_damaged_{resolution}"[:32],
            )
    else:  # OVER back to the source: destination -> TRANSIT -> source, one posting
        posting.lock([(dest.pk, line.sku_id), (source.pk, line.sku_id)])
        if source.receiving_location is None:
            raise InvalidState(_("The source has no receiving location."), code="no_receiving")
        places = list(
            Location.objects.filter(
                Q(kind__in=[*_RECEIVE_INTO, LocationKind.DAMAGED]), site=dest, is_active=True
            ).order_by("kind", "code")
        )
        for part in posting.take_fefo(places, line.sku, d.quantity, today=dt.date.min):
            out = posting.record(
                sku=line.sku,
                lot=part.lot,
                quantity=part.quantity,
                from_location=part.location,
                to_location=transit,
                reason="transfer_over_return",
            )
            posting.put(source.receiving_location, line.sku, part.lot, part.quantity)
            posting.record(
                sku=line.sku,
                lot=part.lot,
                quantity=part.quantity,
                from_location=transit,
                to_location=source.receiving_location,
                reason="transfer_over_return",
                unit_cost_micros=out.unit_cost_micros,
            )
    posting.finish()


# -- reads ------------------------------------------------------------------------------------
def list_discrepancies(
    *, actor: Any, open_only: bool = True, site: Site | None = None
) -> QuerySet[Discrepancy]:
    """Discrepancies of transfers from or to the actor's sites (oldest first)."""
    ensure_can(actor, "transfers.view", sites=[site.pk] if site is not None else [])
    qs = Discrepancy.objects.select_related(
        "line__sku", "line__transfer__source", "line__transfer__destination"
    )
    allowed = scope_site_ids(actor)
    if allowed is not None:
        qs = qs.filter(
            Q(line__transfer__destination_id__in=allowed) | Q(line__transfer__source_id__in=allowed)
        )
    if site is not None:
        qs = qs.filter(Q(line__transfer__destination=site) | Q(line__transfer__source=site))
    if open_only:
        qs = qs.filter(resolution="")
    return qs.order_by("reported_at", "id")


def get_discrepancy(*, discrepancy_id: int, actor: Any) -> Discrepancy:
    found = list_discrepancies(actor=actor, open_only=False).filter(pk=discrepancy_id).first()
    if found is None:
        raise NotFound(_("Discrepancy not found."), code="discrepancy_not_found")
    return found
