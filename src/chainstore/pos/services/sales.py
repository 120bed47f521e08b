"""Checkout: `create_sale` prices the basket, posts the stock, takes the tenders and
earns points — one transaction, idempotent on the till's key.

Stock: one StockOperation (kind issue, reference = receipt number, note "sale") with a move
per lot taken from the store's selling floor and storage bins to the customer, FEFO (then
FIFO), never from an expired lot; a scanned lot is taken from that lot. Gift lines consume
stock like any line. When the ledger says the store is short, the store's policy decides:
allow (default) drives the store's selling-location balance negative for the shortfall,
marks the sale `went_short` and opens a StockDiscrepancy per short SKU (a recount is due);
block refuses the sale (409 insufficient_stock) and nothing changes.

Receipt numbers: ``<store>-<till>-<YYYYMMDD>-<seq>`` (returns ``…-R<seq>``), the
sequence counting that till's receipts of that business date, from 0001. Allocation is
race-free: the number is unique in the database and a losing insert retries with the
next number inside a savepoint.

A live sale needs an open shift at the till (attached, and its business date used); an
offline / batch sale attaches the till's open shift if there is one, else its business
date is the local date it was sold.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chainstore.catalog.models import Sku
from chainstore.core import audit
from chainstore.core.errors import ValidationFailed
from chainstore.core.idempotency import fingerprint, run_idempotent
from chainstore.core.permissions import ensure_can
from chainstore.core.quantities import fen_to_money
from chainstore.inventory.errors import ExpiredLot
from chainstore.inventory.models import Lot, OperationKind, StockOperation
from chainstore.inventory.posting import Posting, Taken
from chainstore.inventory.services import ISSUE_KINDS, site_today
from chainstore.pos.errors import NoOpenShift, PriceChanged
from chainstore.pos.models import (
    LineDiscount,
    Member,
    PricedBy,
    Sale,
    SaleKind,
    SaleLine,
    Shift,
    ShiftStatus,
    ShortSalePolicy,
    StockDiscrepancy,
    StoreSettings,
    TenderKind,
    Till,
)
from chainstore.pos.services.members import earn_points
from chainstore.pos.services.pricing import (
    BasketQuote,
    LineInput,
    QuoteLine,
    check_member,
    client_priced,
    price_lines,
    resolve_lines,
)
from chainstore.pos.services.shifts import check_store_till
from chainstore.pos.services.tenders import (
    PlannedTender,
    TenderContext,
    TenderInput,
    plan_tenders,
    tender_method,
)
from chainstore.sites.models import Location, Site
from chainstore.sites.services import virtual_location

__all__ = [
    "LineInput",
    "TenderInput",
    "create_sale",
    "insert_sale",
    "store_settings",
]

CLOCK_SKEW = dt.timedelta(minutes=5)
MIN_SOLD_YEAR = 2000  # older sold_at values are typos (and overflow date arithmetic)
SALE_REASON = "sale"


def create_sale(
    *,
    store: Site,
    till: Till,
    lines: Sequence[LineInput],
    tenders: Sequence[TenderInput],
    actor: Any,
    idempotency_key: str,
    member: Member | None = None,
    expected_total_fen: int | None = None,
    sold_at: dt.datetime | None = None,
    offline: bool = False,
    priced_by: str = PricedBy.SERVER,
) -> Sale:
    """Ring up and pay a sale (pos.sell at the store). A replay of the key returns the
    first sale (`replayed=True`) and changes nothing; the key with another body is 409."""
    ensure_can(actor, "pos.sell", sites=[store.pk])
    check_store_till(store, till)
    if priced_by not in PricedBy.values:
        raise ValidationFailed(_("priced_by is server or client."), code="invalid_priced_by")
    if not idempotency_key:
        raise ValidationFailed(
            _("Send an Idempotency-Key with every sale."), code="idempotency_key_required"
        )
    _check_sold_at(sold_at)
    request_hash = fingerprint(
        {
            "store": store.pk,
            "till": till.pk,
            "member": member.pk if member else None,
            "lines": [_line_key(ln) for ln in lines],
            "tenders": [_tender_key(t) for t in tenders],
            "expected": expected_total_fen,
            "sold_at": sold_at.isoformat() if sold_at else None,
            "offline": offline,
            "priced_by": priced_by,
        }
    )

    def create() -> Sale:
        return _ring_up(
            store=store,
            till=till,
            lines=lines,
            tenders=tenders,
            actor=actor,
            member=member,
            key=idempotency_key,
            request_hash=request_hash,
            expected_total_fen=expected_total_fen,
            sold_at=sold_at,
            offline=offline,
            priced_by=priced_by,
        )

    return run_idempotent(
        key=idempotency_key, request_hash=request_hash, find=_find_sale, create=create
    )


def _ring_up(
    *,
    store: Site,
    till: Till,
    lines: Sequence[LineInput],
    tenders: Sequence[TenderInput],
    actor: Any,
    member: Member | None,
    key: str,
    request_hash: str,
    expected_total_fen: int | None,
    sold_at: dt.datetime | None,
    offline: bool,
    priced_by: str,
) -> Sale:
    check_member(member)  # here, not before the replay: a replay answers the first sale
    shift = _shift(till, offline=offline)
    at = sold_at or timezone.now()
    # Prices and promotions of the moment of sale: an offline sale's own time; a live sale
    # is priced now whatever sold_at says, so a back-dated request cannot revive a price
    # or promotion that has ended.
    priced_at = at if offline else timezone.now()
    basket = resolve_lines(lines)
    if priced_by == PricedBy.CLIENT:
        quote = client_priced(store=store, lines=basket, member=member, at=priced_at)
    else:
        quote = price_lines(store=store, lines=basket, member=member, at=priced_at)
    if expected_total_fen is not None and expected_total_fen != quote.total_fen:
        raise PriceChanged(
            expected=str(fen_to_money(expected_total_fen)), total=str(fen_to_money(quote.total_fen))
        )
    settings = store_settings(store)
    planned = plan_tenders(tenders, total_fen=quote.total_fen, settings=settings)
    sale = insert_sale(
        Sale(
            kind=SaleKind.SALE,
            site=store,
            till=till,
            shift=shift,
            cashier=actor if getattr(actor, "pk", None) else None,
            member=member,
            business_date=_business_date(store, shift, at, offline=offline),
            sold_at=at,
            subtotal_fen=quote.subtotal_fen,
            discount_fen=quote.discount_fen,
            total_fen=quote.total_fen,
            tax_fen=quote.tax_fen,
            points_earned=quote.points_to_earn if member else 0,
            points_redeemed=sum(p.points for p in planned),
            priced_by=priced_by,
            offline=offline,
            promotions=[p.as_dict() for p in quote.promotions],
            idempotency_key=key,
            request_hash=request_hash,
        )
    )
    op, lots, short = _post_stock(sale, quote, settings, actor)
    _write_lines(sale, quote, lots)
    _charge(sale, planned, settings, member, actor)
    if member is not None and sale.points_earned > 0:
        earn_points(member=member, points=sale.points_earned, sale=sale, actor=actor)
    sale.operation = op
    sale.went_short = bool(short)
    Sale.objects.filter(pk=sale.pk).update(operation=op, went_short=sale.went_short)
    if short:
        StockDiscrepancy.objects.bulk_create(
            StockDiscrepancy(site=store, sku_id=sku_id, sale=sale, short_quantity=q)
            for sku_id, q in sorted(short.items())
        )
    audit.record(
        actor=actor,
        action="pos.sale",
        obj=sale,
        to_state="paid",
        site_id=store.pk,
        data={
            "number": sale.number,
            "total_fen": sale.total_fen,
            "operation": op.pk,
            "offline": offline,
            "priced_by": priced_by,
            "short": {str(k): v for k, v in sorted(short.items())},
        },
    )
    return sale


# -- pieces ----------------------------------------------------------------------------
def store_settings(store: Site) -> StoreSettings:
    """The store's POS settings (the defaults, unsaved, when none were stored)."""
    return StoreSettings.objects.filter(site=store).first() or StoreSettings(site=store)


def _find_sale(key: str) -> Sale | None:
    return Sale.objects.filter(idempotency_key=key).first()


def _shift(till: Till, *, offline: bool) -> Shift | None:
    # FOR NO KEY UPDATE on the shift row: closing the shift (which locks it FOR UPDATE and
    # totals its sales) waits for this sale, and this sale waits for a close in progress.
    no_key = connection.features.has_select_for_no_key_update
    shift = (
        Shift.objects.select_for_update(no_key=no_key)
        .filter(till=till, status=ShiftStatus.OPEN)
        .first()
    )
    if shift is None and not offline:
        raise NoOpenShift(till=till.code)
    return shift


def _business_date(store: Site, shift: Shift | None, at: dt.datetime, *, offline: bool) -> dt.date:
    if shift is not None and not offline:
        return shift.business_date
    return at.astimezone(zoneinfo.ZoneInfo(store.timezone)).date()


def _check_sold_at(sold_at: dt.datetime | None) -> None:
    if sold_at is None:
        return
    if timezone.is_naive(sold_at):
        raise ValidationFailed(_("sold_at needs a timezone."), code="naive_datetime")
    if sold_at.year < MIN_SOLD_YEAR:
        raise ValidationFailed(_("sold_at is too far in the past."), code="sold_at_out_of_range")
    if sold_at > timezone.now() + CLOCK_SKEW:
        raise ValidationFailed(_("sold_at is in the future."), code="sold_in_future")


def insert_sale(sale: Sale) -> Sale:
    """Give a new receipt (sale or return) its number and insert it, race-free: a number
    taken by a concurrent receipt makes the insert fail in a savepoint and we take the next.
    An IntegrityError on the idempotency key is re-raised (the caller replays)."""
    kind_prefix = "R" if sale.kind == SaleKind.RETURN else ""
    till_code = sale.till.code if sale.till is not None else "00"
    prefix = f"{sale.site.code[:12]}-{till_code[:8]}-{sale.business_date:%Y%m%d}-{kind_prefix}"
    taken = Sale.objects.filter(
        till=sale.till, business_date=sale.business_date, kind=sale.kind
    ).count()
    seq = taken + 1
    for _attempt in range(50):
        sale.number = f"{prefix}{seq:04d}"
        try:
            with transaction.atomic():
                sale.save(force_insert=True)
            return sale
        except IntegrityError:
            sale.pk = None
            if sale.idempotency_key and _find_sale(sale.idempotency_key) is not None:
                raise
            if not Sale.objects.filter(number=sale.number).exists():
                raise
            seq += 1
    raise IntegrityError("could not allocate a receipt number")


def _post_stock(
    sale: Sale, quote: BasketQuote, settings: StoreSettings, actor: Any
) -> tuple[StockOperation, dict[int, Lot | None], dict[int, int]]:
    """Take every line (gift lines too) from the store to the customer in one posting."""
    store = sale.site
    op = StockOperation.objects.create(
        kind=OperationKind.ISSUE,
        site=store,
        reference=sale.number,
        note=SALE_REASON,
        actor=actor if getattr(actor, "pk", None) else None,
    )
    posting = Posting(op)
    posting.lock({(store.pk, ln.sku.pk) for ln in quote.lines})
    sources = list(Location.objects.filter(site=store, kind__in=ISSUE_KINDS, is_active=True))
    allow = settings.short_sale_policy == ShortSalePolicy.ALLOW
    short_location = _short_location(store, sources) if allow else None
    customer = virtual_location("customer")
    today = site_today(store)
    lots: dict[int, Lot | None] = {}
    short: dict[int, int] = defaultdict(int)
    # Lines naming a lot first: FEFO for a lot-less line of the same SKU must not take the
    # very units a scanned line holds (and leave that line short).
    for line in sorted(quote.lines, key=_take_order):
        lot = _scanned_lot(line, today)
        parts, missing = posting.take_for_sale(
            sources, line.sku, line.quantity, today=today, lot=lot, short_location=short_location
        )
        for part in parts:
            posting.record(
                sku=line.sku,
                lot=part.lot,
                quantity=part.quantity,
                from_location=part.location,
                to_location=customer,
                reason=SALE_REASON,
            )
        lots[line.line_no] = _single_lot(parts)
        if missing:
            short[line.sku.pk] += missing
    posting.finish()
    return op, lots, dict(short)


def _take_order(line: QuoteLine) -> tuple[int, bool, str, int]:
    lot = line.lot_number if line.sku.is_lot_tracked else None
    return (line.sku.pk, lot is None, lot or "", line.line_no)


def _short_location(store: Site, sources: list[Location]) -> Location:
    """Where a short sale drives stock negative: the store's selling floor."""
    by_id = {loc.pk: loc for loc in sources}
    if store.stock_location_id in by_id:
        return by_id[store.stock_location_id]
    selling = [loc for loc in sources if loc.kind == "selling"] or sources
    if not selling:
        raise ValidationFailed(
            _("The store has no selling location."), code="no_selling_location", site=store.code
        )
    return selling[0]


def _scanned_lot(line: QuoteLine, today: dt.date) -> Lot | None:
    """The lot a scan named (created if the ledger has never seen it: the shopper holds
    it); an expired lot is refused."""
    if not line.lot_number or not line.sku.is_lot_tracked:
        return None
    lot = Lot.objects.filter(sku=line.sku, number=line.lot_number).first()
    if lot is None:
        try:
            with transaction.atomic():
                lot = Lot.objects.create(
                    sku=line.sku, number=line.lot_number, expiry_date=line.expiry
                )
        except IntegrityError:
            lot = Lot.objects.get(sku=line.sku, number=line.lot_number)
    if lot.expiry_date is not None and lot.expiry_date < today:
        raise ExpiredLot(
            _("Lot %(lot)s of %(sku)s has expired and cannot be sold.")
            % {"lot": lot.number, "sku": line.sku.code},
            sku=line.sku.code,
            lot=lot.number,
            expiry=str(lot.expiry_date),
        )
    return lot


def _single_lot(parts: list[Taken]) -> Lot | None:
    lots = {part.lot.pk if part.lot else None: part.lot for part in parts}
    return next(iter(lots.values())) if len(lots) == 1 else None


def _write_lines(sale: Sale, quote: BasketQuote, lots: dict[int, Lot | None]) -> None:
    rows = SaleLine.objects.bulk_create(
        SaleLine(
            sale=sale,
            line_no=ln.line_no,
            sku=ln.sku,
            lot=lots.get(ln.line_no),
            quantity=ln.quantity,
            unit_price_fen=ln.unit_price_fen,
            gross_fen=ln.gross_fen,
            discount_fen=ln.discount_fen,
            net_fen=ln.net_fen,
            tax_rate_bp=ln.tax_rate_bp,
            tax_fen=ln.tax_fen,
            is_gift=ln.is_gift,
            gift_promotion=ln.gift_promotion,
            points_earned=ln.points if sale.member_id else 0,
        )
        for ln in quote.lines
    )
    by_no = {row.line_no: row for row in rows}
    LineDiscount.objects.bulk_create(
        LineDiscount(
            line=by_no[ln.line_no],
            promotion=d.promotion,
            label=d.label[:100],
            amount_fen=d.amount_fen,
        )
        for ln in quote.lines
        for d in ln.discounts
    )


def _charge(
    sale: Sale,
    planned: list[PlannedTender],
    settings: StoreSettings,
    member: Member | None,
    actor: Any,
) -> None:
    ctx = TenderContext(sale=sale, settings=settings, member=member, actor=actor)
    # Lock order: the member's row (points) before gift cards, cards by number, so two
    # sales sharing a member and cards never wait on each other in a cycle.
    order: dict[str, int] = {TenderKind.POINTS: 0, TenderKind.GIFT_CARD: 1}
    for tender in sorted(planned, key=lambda t: (order.get(t.kind, 2), t.card)):
        tender_method(tender.kind).charge(ctx, tender)


# -- request fingerprint ---------------------------------------------------------------
def _line_key(line: LineInput) -> list[Any]:
    sku: Sku | None = line.sku
    return [
        sku.pk if sku is not None else line.sku_code,
        line.scan,
        _number(line.quantity),
        line.lot,
        line.unit_price_fen,
        line.discount_fen,
    ]


def _tender_key(tender: TenderInput) -> list[Any]:
    return [
        tender.kind,
        tender.amount_fen,
        tender.tendered_fen,
        tender.reference,
        tender.points,
        tender.card,
    ]


def _number(value: Decimal | int | str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(Decimal(str(value)).normalize())
    except InvalidOperation:
        return str(value)
