"""Shifts and cash: open / close a shift, X report, Z report (day close)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from chainstore.core.quantities import money_to_fen
from chainstore.pos import selectors_reports as selectors
from chainstore.pos.models import Till
from chainstore.pos.schemas_returns import (
    DayCloseIn,
    ShiftCloseIn,
    ShiftOpenIn,
    ShiftOut,
    ShiftPageOut,
    XReportOut,
    ZReportOut,
)
from chainstore.pos.selectors import get_till
from chainstore.pos.services import shifts as services
from chainstore.sites.models import Site
from chainstore.sites.selectors import get_site

router = Router()


def till_of(store: Site, code: str) -> Till:
    return get_till(store=store, code=code)


@router.post("/shifts", response={201: ShiftOut})
def open_shift(request: HttpRequest, payload: ShiftOpenIn) -> Any:
    """Open your shift at a till with the cash float in the drawer (one open shift per
    till; 409 `shift_already_open`)."""
    store = get_site(code=payload.store, actor=request.user)
    shift = services.open_shift(
        store=store,
        till=till_of(store, payload.till),
        opening_float_fen=money_to_fen(payload.opening_float),
        actor=request.user,
    )
    return Status(201, ShiftOut.of(selectors.get_shift(shift_id=shift.pk, actor=request.user)))


@router.get("/shifts", response=ShiftPageOut)
def list_shifts(
    request: HttpRequest,
    store: str | None = None,
    status: str = "",
    limit: int = 100,
    offset: int = 0,
) -> Any:
    """Shifts in your scope, newest first; filter by store code and status (open|closed)."""
    site = get_site(code=store, actor=request.user) if store else None
    qs = selectors.list_shifts(actor=request.user, store=site, status=status)
    limit, offset = max(1, min(limit, 500)), max(0, offset)
    return ShiftPageOut(
        count=qs.count(), items=[ShiftOut.of(s) for s in qs[offset : offset + limit]]
    )


@router.get("/shifts/current", response=ShiftOut | None)
def current_shift(request: HttpRequest, store: str, till: str) -> Any:
    """The open shift at a till, or null when none is open."""
    site = get_site(code=store, actor=request.user)
    selectors.list_shifts(actor=request.user, store=site)  # permission and scope
    shift = selectors.find_open_shift(till=till_of(site, till))
    return ShiftOut.of(shift) if shift else None


@router.get("/shifts/{shift_id}", response=ShiftOut)
def get_shift(request: HttpRequest, shift_id: int) -> Any:
    return ShiftOut.of(selectors.get_shift(shift_id=shift_id, actor=request.user))


@router.post("/shifts/{shift_id}/close", response=ShiftOut)
def close_shift(request: HttpRequest, shift_id: int, payload: ShiftCloseIn) -> Any:
    """Close the shift with the cash counted: freezes the expected cash (float + cash
    received - change - cash refunds) and shows the variance."""
    shift = selectors.get_shift(shift_id=shift_id, actor=request.user)
    services.close_shift(
        shift=shift,
        counted_cash_fen=money_to_fen(payload.counted_cash),
        note=payload.note,
        actor=request.user,
    )
    return ShiftOut.of(selectors.get_shift(shift_id=shift_id, actor=request.user))


@router.get("/shifts/{shift_id}/x-report", response=XReportOut)
def x_report(request: HttpRequest, shift_id: int) -> Any:
    """X report: the shift's sales, returns, discounts, tenders and cash so far."""
    shift = selectors.get_shift(shift_id=shift_id, actor=request.user)
    return XReportOut.of(services.x_report(shift=shift, actor=request.user))


@router.post("/day-close", response={200: ZReportOut, 201: ZReportOut})
def close_day(request: HttpRequest, payload: DayCloseIn) -> Any:
    """Z report: freeze a till's (or, without `till`, the store's) totals for a business
    date. 409 `shifts_still_open` while a shift of it is open; closing again returns the
    first Z report (200, `replayed: true`)."""
    store = get_site(code=payload.store, actor=request.user)
    till = till_of(store, payload.till) if payload.till else None
    close = services.close_day(
        store=store, business_date=payload.date, till=till, actor=request.user
    )
    out = ZReportOut.of(services.z_report(close))
    return Status(200 if out.replayed else 201, out)


@router.get("/day-close", response=list[ZReportOut])
def list_day_closes(request: HttpRequest, store: str, limit: int = 100) -> Any:
    """The store's Z reports, newest number first."""
    site = get_site(code=store, actor=request.user)
    qs = selectors.list_day_closes(actor=request.user, store=site)[: max(1, min(limit, 500))]
    return [ZReportOut.of(services.z_report(c)) for c in qs]
