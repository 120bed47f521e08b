"""Checkout API (/api/v1/pos/...): quote, sales, offline batches, members, gift cards and
suspended baskets. This is what the chainstore till and third-party POS software and
terminals (Sunmi, Newland, ...) integrate with.

Conventions: `Authorization: Bearer <token>`; money as decimal strings in yuan ("12.50"),
quantities as decimal strings in the SKU's base unit ("1", weighed goods in kg "0.456");
errors are `{code, message, details}` with 4xx. `POST /sales` needs an `Idempotency-Key`
header: the first post answers 201, a replay of the same key and body answers 200 with
`replayed: true` and changes nothing, the same key with another body is 409
`idempotency_key_reused`.
"""

# No `from __future__ import annotations` here: ninja must see the real parameter types.
import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Header, Router, Status
from ninja.pagination import paginate

from chainstore.core.errors import DomainError, ValidationFailed
from chainstore.core.pagination import LimitOffsetPagination
from chainstore.core.quantities import money_to_fen
from chainstore.pos import selectors
from chainstore.pos.errors import MemberNotFound
from chainstore.pos.models import Member, MemberTier, Sale, SaleKind, Till
from chainstore.pos.schemas import (
    BatchIn,
    BatchOut,
    GiftCardOut,
    LineIn,
    MemberIn,
    MemberOut,
    PointsEntryOut,
    QuoteIn,
    QuoteOut,
    SaleIn,
    SaleOut,
    SaleSummaryOut,
    SuspendedOut,
    SuspendIn,
    TenderIn,
    member_out,
    quote_out,
    sale_out,
)
from chainstore.pos.services import batch as batch_service
from chainstore.pos.services import members as member_service
from chainstore.pos.services import suspend as suspend_service
from chainstore.pos.services.pricing import LineInput, quote_basket
from chainstore.pos.services.sales import create_sale
from chainstore.pos.services.shifts import check_store_till
from chainstore.pos.services.tenders import TenderInput
from chainstore.sites.models import Site
from chainstore.sites.selectors import get_site

router = Router()

KEY = Header(
    None,
    alias="Idempotency-Key",
    description="Client key, unique per sale (e.g. a UUID); a replay returns the first result",
)


# -- parsing helpers -------------------------------------------------------------------
def _require_key(key: str | None) -> str:
    if not key:
        raise ValidationFailed(
            _("Send an Idempotency-Key header with every sale."), code="idempotency_key_required"
        )
    return key


def _lines(lines: list[LineIn]) -> list[LineInput]:
    return [
        LineInput(
            sku_code=ln.sku if not ln.scan else None,
            scan=ln.scan,
            quantity=ln.quantity,
            lot=ln.lot,
            unit_price_fen=money_to_fen(ln.unit_price) if ln.unit_price is not None else None,
            discount_fen=money_to_fen(ln.discount) if ln.discount is not None else 0,
        )
        for ln in lines
    ]


def _tenders(tenders: list[TenderIn]) -> list[TenderInput]:
    return [
        TenderInput(
            kind=t.kind,
            amount_fen=money_to_fen(t.amount),
            tendered_fen=money_to_fen(t.tendered) if t.tendered is not None else None,
            reference=t.reference,
            points=t.points,
            card=t.card or "",
        )
        for t in tenders
    ]


def _member(q: str | None) -> Member | None:
    if not q:
        return None
    member = member_service.find_member(q)
    if member is None:
        raise MemberNotFound(member=q)
    return member


def _till(store: Site, code: str | None) -> Till | None:
    if not code:
        return None
    till = selectors.get_till(store=store, code=code)
    check_store_till(store, till)
    return till


def _detail(sale: Sale) -> SaleOut:
    replayed = getattr(sale, "replayed", False)
    fresh = selectors.sale_detail_queryset().get(pk=sale.pk)
    fresh.replayed = replayed  # type: ignore[attr-defined]
    return sale_out(fresh)


# -- quote and sale --------------------------------------------------------------------
@router.post("/quote", response=QuoteOut)
def quote(request: HttpRequest, payload: QuoteIn) -> Any:
    """Price a basket without side effects: store prices, the best legal promotions (each
    explained), gifts as zero-priced lines, tax and the points a member would earn.

    Request:
    ```json
    {"store": "S001", "member": "13800138000",
     "lines": [{"scan": "6901234567892", "quantity": "2"},
               {"sku": "SKU00042"},
               {"scan": "2000123004563"}]}
    ```
    Response (abridged):
    ```json
    {"lines": [{"line_no": 1, "sku": "SKU00041", "name": "蒙牛纯牛奶 250ml", "unit": "pcs",
                "quantity": "2.000", "lot": null, "unit_price": "60.00", "gross": "120.00",
                "discounts": [{"promotion": "MJ-ALL", "name": "满100减20", "amount": "18.46"}],
                "net": "101.54", "tax": "11.68", "is_gift": false, "points": 101}, ...],
     "promotions": [{"code": "MJ-ALL", "name": "满100减20", "kind": "threshold",
                     "amount": "20.00", "gift_value": "0.00",
                     "explanation": "满100减20: spend ¥130.00 ≥ ¥100.00, save ¥20.00"}],
     "subtotal": "130.00", "discount": "20.00", "total": "110.00", "tax": "12.65",
     "gift_value": "0.00", "points_to_earn": 110,
     "member": {"id": 7, "card_number": "880000000017", "tier": "gold", ...},
     "optimal": true, "solve_ms": 3.2}
    ```
    """
    store = get_site(code=payload.store, actor=request.user)
    _till(store, payload.till)
    result = quote_basket(
        store=store,
        lines=_lines(payload.lines),
        actor=request.user,
        member=_member(payload.member),
    )
    return quote_out(result)


@router.post("/sales", response={200: SaleOut, 201: SaleOut})
def create(request: HttpRequest, payload: SaleIn, idempotency_key: str | None = KEY) -> Any:
    """Ring up and pay a sale: stock leaves the store in the same transaction (FEFO; a
    scanned lot is honoured; expired lots are never sold). Needs an open shift at the till
    unless `offline` is true. 201 on the first post; 200 with `replayed: true` on a replay.

    Tenders must add up to the total; only cash may exceed it (the excess is change).
    `expected_total` (the total the cashier showed) guards against prices changing between
    quote and payment (409 `price_changed`). `priced_by: "client"` records the till's own
    prices: each line then carries `unit_price` (and `discount`), checked for consistency.

    When the ledger says the store is short: store policy `allow` (default) still sells,
    drives on hand negative at this store, sets `went_short` and lists `discrepancies`
    (a recount is due); policy `block` answers 409 `insufficient_stock` and changes nothing.

    Request (header `Idempotency-Key: 7f1c2a9e-…`):
    ```json
    {"store": "S001", "till": "T01", "member": "880000000017",
     "lines": [{"scan": "(01)06901234567892(10)L2311(17)261231", "quantity": "2"},
               {"sku": "SKU00042", "quantity": "1"}],
     "tenders": [{"kind": "points", "amount": "5.00", "points": 500},
                 {"kind": "cash", "amount": "100.00", "tendered": "100.00"}],
     "expected_total": "86.50"}
    ```
    Response 201 (abridged):
    ```json
    {"id": 1201, "number": "S001-T01-20261125-0042", "kind": "sale", "store": "S001",
     "till": "T01", "cashier": "cashier1", "sold_at": "2026-11-25T10:31:07+08:00",
     "business_date": "2026-11-25", "lines": [...],
     "tenders": [{"kind": "points", "amount": "5.00", "tendered": "0.00", "change": "0.00",
                  "reference": "", "points": 500},
                 {"kind": "cash", "amount": "81.50", "tendered": "100.00",
                  "change": "18.50", "reference": "", "points": 0}],
     "change": "18.50", "subtotal": "96.50", "discount": "10.00", "total": "86.50",
     "tax": "9.95", "promotions": [...], "points_earned": 81, "points_redeemed": 500,
     "member_points_balance": 1781, "went_short": false, "discrepancies": [],
     "replayed": false}
    ```
    """
    key = _require_key(idempotency_key)
    store = get_site(code=payload.store, actor=request.user)
    till = selectors.get_till(store=store, code=payload.till)
    sale = create_sale(
        store=store,
        till=till,
        lines=_lines(payload.lines),
        tenders=_tenders(payload.tenders),
        actor=request.user,
        member=_member(payload.member),
        idempotency_key=key,
        expected_total_fen=(
            money_to_fen(payload.expected_total) if payload.expected_total is not None else None
        ),
        sold_at=payload.sold_at,
        offline=payload.offline,
        priced_by=payload.priced_by,
    )
    return Status(200 if getattr(sale, "replayed", False) else 201, _detail(sale))


@router.get("/sales", response=list[SaleSummaryOut])
@paginate(LimitOffsetPagination)
def list_sales(
    request: HttpRequest,
    store: str | None = None,
    date: dt.date | None = None,
    till: str | None = None,
    kind: str = "",
) -> Any:
    """Receipts newest first: `store` (code), `date` (business date), `till`, `kind`
    (sale | return)."""
    if kind and kind not in SaleKind.values:
        raise ValidationFailed(_("kind is sale or return."), code="invalid_kind")
    site = get_site(code=store, actor=request.user) if store else None
    till_obj = selectors.get_till(store=site, code=till) if site and till else None
    return selectors.list_sales(actor=request.user, store=site, date=date, till=till_obj, kind=kind)


@router.get("/sales/by-number/{number}", response=SaleOut)
def sale_by_number(request: HttpRequest, number: str) -> Any:
    """A receipt by its number, e.g. `S001-T01-20261125-0042`."""
    return sale_out(selectors.get_sale_by_number(number=number, actor=request.user))


@router.get("/sales/{sale_id}", response=SaleOut)
def sale_detail(request: HttpRequest, sale_id: int) -> Any:
    return sale_out(selectors.get_sale(sale_id=sale_id, actor=request.user))


# -- offline batches -------------------------------------------------------------------
@router.post("/batches", response=BatchOut)
def upload_batch(request: HttpRequest, payload: BatchIn) -> Any:
    """Offline / third-party upload: sales made earlier, processed in order, each with its
    own idempotency key in its own transaction. Each result is `created`, `replayed`
    (seen before: nothing changes) or `rejected` with the error; uploading the same batch
    again changes nothing. Short sales follow the store's policy.

    Request:
    ```json
    {"store": "S001", "till": "T03",
     "sales": [{"idempotency_key": "T03-20261125-000187",
                "sold_at": "2026-11-25T09:12:44+08:00", "priced_by": "client",
                "lines": [{"sku": "SKU00042", "quantity": "1", "unit_price": "12.50"}],
                "tenders": [{"kind": "wechat_pay", "amount": "12.50",
                             "reference": "4200001234202611250001"}]}]}
    ```
    Response:
    ```json
    {"results": [{"idempotency_key": "T03-20261125-000187", "status": "created",
                  "sale_id": 1202, "number": "S001-T03-20261125-0001", "error": null}]}
    ```
    """
    store = get_site(code=payload.store, actor=request.user)
    till = selectors.get_till(store=store, code=payload.till)
    items = []
    for body in payload.sales:
        member, error = None, None
        try:
            member = _member(body.member)
        except DomainError as exc:
            error = exc
        items.append(
            batch_service.BatchSale(
                idempotency_key=body.idempotency_key,
                lines=_lines(body.lines),
                tenders=_tenders(body.tenders),
                sold_at=body.sold_at,
                member=member,
                expected_total_fen=(
                    money_to_fen(body.expected_total) if body.expected_total is not None else None
                ),
                priced_by=body.priced_by,
                error=error,
            )
        )
    outcomes = batch_service.upload_batch(store=store, till=till, sales=items, actor=request.user)
    return {
        "results": [
            {
                "idempotency_key": o.idempotency_key,
                "status": o.status,
                "sale_id": o.sale.pk if o.sale else None,
                "number": o.sale.number if o.sale else None,
                "error": o.error,
            }
            for o in outcomes
        ]
    }


# -- members and gift cards ------------------------------------------------------------
@router.get("/members/lookup", response=MemberOut)
def member_lookup(request: HttpRequest, q: str) -> Any:
    """A member by phone or card number (exact); 404 `member_not_found`."""
    return member_service.lookup_member(q=q, actor=request.user)


@router.post("/members", response={201: MemberOut})
def enroll(request: HttpRequest, payload: MemberIn) -> Any:
    """Enrol a member. Without `card_number` one is generated.

    ```json
    {"phone": "13800138000", "name": "王芳", "tier": "silver", "home_store": "S001"}
    ```
    """
    tier = None
    if payload.tier:
        tier = MemberTier.objects.filter(code=payload.tier).first()
        if tier is None:
            raise ValidationFailed(
                _("Unknown member tier."), code="unknown_tier", tier=payload.tier
            )
    home = get_site(code=payload.home_store, actor=request.user) if payload.home_store else None
    member = member_service.enroll_member(
        phone=payload.phone,
        name=payload.name,
        card_number=payload.card_number,
        tier=tier,
        home_store=home,
        actor=request.user,
    )
    return Status(201, member_out(member))


@router.get("/members/{member_id}", response=MemberOut)
def member_detail(request: HttpRequest, member_id: int) -> Any:
    return member_service.get_member(member_id=member_id, actor=request.user)


@router.get("/members/{member_id}/points", response=list[PointsEntryOut])
@paginate(LimitOffsetPagination)
def member_points(request: HttpRequest, member_id: int) -> Any:
    """The member's points ledger, newest first; each entry has the balance after it."""
    member = member_service.get_member(member_id=member_id, actor=request.user)
    return member_service.list_points(member=member, actor=request.user)


@router.get("/gift-cards/{number}", response=GiftCardOut)
def gift_card(request: HttpRequest, number: str) -> Any:
    return selectors.get_gift_card(number=number, actor=request.user)


# -- suspended baskets -----------------------------------------------------------------
@router.post("/suspended", response={201: SuspendedOut})
def suspend(request: HttpRequest, payload: SuspendIn) -> Any:
    """Park a basket (挂单); any till of the store can resume it."""
    store = get_site(code=payload.store, actor=request.user)
    basket = suspend_service.suspend_basket(
        store=store,
        till=_till(store, payload.till),
        label=payload.label,
        payload=payload.payload,
        actor=request.user,
    )
    return Status(201, basket)


@router.get("/suspended", response=list[SuspendedOut])
def suspended(request: HttpRequest, store: str) -> Any:
    site = get_site(code=store, actor=request.user)
    return list(suspend_service.list_suspended(store=site, actor=request.user)[:200])


@router.post("/suspended/{basket_id}/resume", response=SuspendedOut)
def resume(request: HttpRequest, basket_id: int) -> Any:
    """Resume a parked basket: answers its payload; a second resume is 409
    `basket_already_resumed`."""
    basket = suspend_service.get_suspended(basket_id=basket_id, actor=request.user)
    return suspend_service.resume_basket(basket=basket, actor=request.user)
