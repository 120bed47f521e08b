"""Returns and refunds, the store-day report and stock discrepancies (short sales)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Header, Router, Status

from chainstore.core.errors import ValidationFailed
from chainstore.core.quantities import money_to_fen
from chainstore.inventory.services import site_today
from chainstore.pos import selectors_reports as selectors
from chainstore.pos.schemas_returns import (
    DiscrepancyOut,
    DiscrepancyPageOut,
    RecountIn,
    RecountOut,
    ReturnIn,
    ReturnOut,
    ReturnPreviewOut,
    StoreDayOut,
    return_out,
)
from chainstore.pos.selectors import get_till, sale_detail_queryset
from chainstore.pos.services import discrepancies as discrepancy_services
from chainstore.pos.services import reports as report_services
from chainstore.pos.services import returns as return_services
from chainstore.sites.selectors import get_site

router = Router()

KEY = Header(
    None,
    alias="Idempotency-Key",
    description="Client key, unique per return (e.g. a UUID); a replay returns the first result",
)


# -- returns ---------------------------------------------------------------------------
def _return_args(request: HttpRequest, payload: ReturnIn) -> dict[str, Any]:
    store = get_site(code=payload.store, actor=request.user)
    return {
        "store": store,
        "till": get_till(store=store, code=payload.till),
        "original": payload.original or None,
        "lines": [
            return_services.ReturnLineInput(
                line_no=ln.line_no,
                quantity=ln.quantity,
                condition=ln.condition,
                sku_code=ln.sku if not ln.scan else None,
                scan=ln.scan,
                lot=ln.lot,
            )
            for ln in payload.lines
        ],
        "refund": [
            return_services.TenderInput(
                kind=r.kind,
                amount_fen=money_to_fen(r.amount),
                reference=r.reference,
                points=r.points,
                card=r.card or "",
            )
            for r in payload.refund
        ]
        if payload.refund is not None
        else None,
        "actor": request.user,
    }


@router.post("/returns/preview", response=ReturnPreviewOut)
def preview_return(request: HttpRequest, payload: ReturnIn) -> Any:
    """What a return would refund (per line and in all), which promotion discounts it
    recovers, the points it reverses and how the refund would be paid. Changes nothing."""
    return ReturnPreviewOut.of(return_services.preview_return(**_return_args(request, payload)))


@router.post("/returns", response={200: ReturnOut, 201: ReturnOut})
def create_return(request: HttpRequest, payload: ReturnIn, idempotency_key: str = KEY) -> Any:
    """Take goods back and refund them. With `original` (the receipt number): lines by
    `line_no`, partial quantities; the refund is what was paid for them, less any promotion
    discount the return breaks (`recovered`, per promotion); points earned on them are
    reversed. Without a receipt (store managers): SKUs or scans at today's store price, in
    cash. Stock goes back to the selling location (`sellable`) or the damaged-goods
    location (`damaged`). Needs an open shift at the till and an `Idempotency-Key`: a replay
    answers 200 with `replayed: true`. More than is left to return is 409 `over_return`.

    Request:
    ```json
    {"store": "S001", "till": "T01", "original": "S001-T01-20250101-0042",
     "lines": [{"line_no": 2, "quantity": "1", "condition": "sellable"}],
     "reason": "顾客不想要了"}
    ```
    """
    if not idempotency_key:
        raise ValidationFailed(
            _("Send an Idempotency-Key header with every return."),
            code="idempotency_key_required",
        )
    ret = return_services.create_return(
        **_return_args(request, payload), reason=payload.reason, idempotency_key=idempotency_key
    )
    replayed = getattr(ret, "replayed", False)
    fresh = sale_detail_queryset().get(pk=ret.pk)
    fresh.replayed = replayed  # type: ignore[attr-defined]
    return Status(200 if replayed else 201, return_out(fresh))


# -- store day -------------------------------------------------------------------------
@router.get("/store-day", response=StoreDayOut)
def store_day(request: HttpRequest, store: str, date: dt.date | None = None) -> Any:
    """The store day (business date in the store's timezone; default today): totals, by
    hour, by cashier, by category, best sellers, refunds, points and tenders."""
    site = get_site(code=store, actor=request.user)
    day = report_services.store_day(
        store=site, business_date=date or site_today(site), actor=request.user
    )
    return StoreDayOut.of(day)


# -- discrepancies ---------------------------------------------------------------------
@router.get("/discrepancies", response=DiscrepancyPageOut)
def list_discrepancies(
    request: HttpRequest,
    store: str | None = None,
    status: str = "",
    limit: int = 100,
    offset: int = 0,
) -> Any:
    """Short-sale discrepancies (open | counting | resolved), newest first. Discrepancies
    whose recount was approved are resolved first."""
    site = get_site(code=store, actor=request.user) if store else None
    discrepancy_services.resolve_counted_discrepancies(actor=request.user, store=site)
    qs = selectors.list_discrepancies(actor=request.user, store=site, status=status)
    limit, offset = max(1, min(limit, 500)), max(0, offset)
    return DiscrepancyPageOut(
        count=qs.count(), items=[DiscrepancyOut.of(d) for d in qs[offset : offset + limit]]
    )


def _recount(request: HttpRequest, ids: list[int]) -> RecountOut:
    rows = [selectors.get_discrepancy(discrepancy_id=i, actor=request.user) for i in ids]
    count = discrepancy_services.start_recount(discrepancies=rows, actor=request.user)
    joined = selectors.list_discrepancies(actor=request.user).filter(count_id=count.pk)
    return RecountOut(
        count_id=count.pk,
        count_status=count.status,
        discrepancies=[DiscrepancyOut.of(d) for d in joined],
    )


@router.post("/discrepancies/recount", response=RecountOut)
def recount_many(request: HttpRequest, payload: RecountIn) -> Any:
    """Start one SKU-set count (frozen, status counting) for several open discrepancies of
    one store; other open discrepancies of the same SKUs there join it."""
    return _recount(request, payload.discrepancies)


@router.post("/discrepancies/{discrepancy_id}/recount", response=RecountOut)
def recount(request: HttpRequest, discrepancy_id: int) -> Any:
    """Start a SKU-set count (via the counts services) for one discrepancy's SKU."""
    return _recount(request, [discrepancy_id])


@router.post("/discrepancies/{discrepancy_id}/resolve", response=DiscrepancyOut)
def resolve(request: HttpRequest, discrepancy_id: int) -> Any:
    """Resolve a discrepancy now that its recount was approved (409 before)."""
    row = selectors.get_discrepancy(discrepancy_id=discrepancy_id, actor=request.user)
    discrepancy_services.resolve_discrepancy(discrepancy=row, actor=request.user)
    return DiscrepancyOut.of(
        selectors.get_discrepancy(discrepancy_id=discrepancy_id, actor=request.user)
    )
