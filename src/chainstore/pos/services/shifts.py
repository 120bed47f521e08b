"""Shifts and cash: open a shift at a till, close it with the cash counted, X report (a
snapshot of one shift) and Z report / day close (frozen totals of a till or the whole
store for one business date, numbered per store).

Cash expected in the drawer = opening float + cash received - change given - cash
refunds, all from the shift's receipts (Tender rows). Variance = counted - expected.

Permissions: pos.shift to open, close and read one's own shift; closing or reading
another cashier's shift needs a manager's pos.day_close (close) or pos.report (read);
pos.day_close for the Z report. All at the shift's store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chainstore.core import audit
from chainstore.core.errors import Conflict, InvalidState, PermissionDenied, ValidationFailed
from chainstore.core.permissions import ensure_can, has_perm
from chainstore.inventory.services import site_today
from chainstore.pos.errors import TillNotInStore
from chainstore.pos.models import DayClose, Shift, ShiftStatus, StoreSettings, Till
from chainstore.pos.selectors_reports import (
    RETURN,
    SALE,
    SalesTotals,
    day_sales,
    sales_totals,
    shift_sales,
)
from chainstore.sites.models import Site, SiteKind

__all__ = [
    "CashCount",
    "DayAlreadyClosed",
    "ShiftReport",
    "ZReport",
    "close_day",
    "close_shift",
    "open_shift",
    "x_report",
    "z_report",
]


class ShiftAlreadyOpen(Conflict):
    code = "shift_already_open"
    default_message = gettext_lazy("A till already has an open shift.")


class ShiftsStillOpen(Conflict):
    code = "shifts_still_open"
    default_message = gettext_lazy("Shifts of this day are still open.")


class DayAlreadyClosed(Conflict):
    code = "day_closed"
    default_message = gettext_lazy("This business day is closed (Z report) at this till.")


def check_store_till(store: Site, till: Till | None) -> None:
    """The site is a store and the till (if any) is one of its active tills."""
    if store.kind != SiteKind.STORE:
        raise ValidationFailed(_("This site is not a store."), code="not_a_store", site=store.code)
    if till is not None and (till.site_id != store.pk or not till.is_active):
        raise TillNotInStore(till=till.code, store=store.code)


# -- open / close ----------------------------------------------------------------------
def open_shift(*, store: Site, till: Till, opening_float_fen: int, actor: Any) -> Shift:
    """Open the actor's shift at a till of the store (one open shift per till)."""
    ensure_can(actor, "pos.shift", sites=[store.pk])
    check_store_till(store, till)
    if not isinstance(opening_float_fen, int) or opening_float_fen < 0:
        raise ValidationFailed(
            _("The opening float cannot be negative."), code="invalid_amount", field="opening_float"
        )
    try:
        with transaction.atomic():
            # The till's row serialises this with day closes (see _create_close): a shift
            # opened on a day whose Z is taken would hold sales no Z report counts.
            _lock_tills(Till.objects.filter(pk=till.pk))
            business_date = site_today(store)
            closed = DayClose.objects.filter(site=store, business_date=business_date).filter(
                Q(till__isnull=True) | Q(till=till)
            )
            if closed.exists():
                raise DayAlreadyClosed(
                    _("The business day %(date)s is closed at this till (Z report).")
                    % {"date": business_date},
                    till=till.code,
                    date=str(business_date),
                )
            shift = Shift.objects.create(
                site=store,
                till=till,
                cashier=actor,
                business_date=business_date,
                opening_float_fen=opening_float_fen,
            )
            audit.record(
                actor=actor,
                action="pos.shift.open",
                obj=shift,
                to_state=ShiftStatus.OPEN,
                site_id=store.pk,
                data={"till": till.code, "opening_float_fen": opening_float_fen},
            )
    except IntegrityError:
        current = Shift.objects.filter(till=till, status=ShiftStatus.OPEN).first()
        raise ShiftAlreadyOpen(
            _("Till %(till)s already has an open shift.") % {"till": till.code},
            till=till.code,
            shift=current.pk if current else None,
            cashier=current.cashier.get_username() if current else None,
        ) from None
    return shift


def _lock_tills(tills: QuerySet[Till]) -> None:
    """FOR NO KEY UPDATE on till rows (in id order): sales and returns, which only refer
    to the till, are not held up."""
    no_key = connection.features.has_select_for_no_key_update
    list(tills.select_for_update(no_key=no_key).order_by("pk").values_list("pk", flat=True))


def _may_handle(actor: Any, shift: Shift, other_permission: str) -> None:
    """pos.shift at the store; someone else's shift also needs `other_permission`."""
    ensure_can(actor, "pos.shift", sites=[shift.site_id])
    if shift.cashier_id != getattr(actor, "pk", None) and not has_perm(actor, other_permission):
        raise PermissionDenied(
            _("This is another cashier's shift."),
            code="not_your_shift",
            shift=shift.pk,
            permission=other_permission,
        )


def close_shift(*, shift: Shift, counted_cash_fen: int | None, actor: Any, note: str = "") -> Shift:
    """Close an open shift: freeze the cash expected and record the cash counted.

    `counted_cash_fen=None` closes without a count (variance unknown)."""
    _may_handle(actor, shift, "pos.day_close")
    if counted_cash_fen is not None and (
        not isinstance(counted_cash_fen, int) or counted_cash_fen < 0
    ):
        raise ValidationFailed(
            _("Counted cash cannot be negative."), code="invalid_amount", field="counted_cash"
        )
    with transaction.atomic():
        locked = Shift.objects.select_for_update().get(pk=shift.pk)
        if locked.status != ShiftStatus.OPEN:
            raise InvalidState(
                _("This shift is already closed."), code="shift_closed", shift=locked.pk
            )
        totals = sales_totals(shift_sales(locked))
        locked.status = ShiftStatus.CLOSED
        locked.closed_at = timezone.now()
        locked.expected_cash_fen = locked.opening_float_fen + totals.cash_net_fen
        locked.counted_cash_fen = counted_cash_fen
        locked.note = note[:200]
        locked.save(
            update_fields=["status", "closed_at", "expected_cash_fen", "counted_cash_fen", "note"]
        )
        audit.record(
            actor=actor,
            action="pos.shift.close",
            obj=locked,
            from_state=ShiftStatus.OPEN,
            to_state=ShiftStatus.CLOSED,
            site_id=locked.site_id,
            data={
                "expected_cash_fen": locked.expected_cash_fen,
                "counted_cash_fen": counted_cash_fen,
                "variance_fen": _variance(locked),
            },
        )
    return locked


def _variance(shift: Shift) -> int | None:
    if shift.counted_cash_fen is None or shift.expected_cash_fen is None:
        return None
    return shift.counted_cash_fen - shift.expected_cash_fen


# -- X report --------------------------------------------------------------------------
@dataclass(frozen=True)
class CashCount:
    opening_float_fen: int
    cash_received_fen: int
    change_fen: int
    cash_refunds_fen: int
    expected_fen: int
    counted_fen: int | None
    variance_fen: int | None


@dataclass(frozen=True)
class ShiftReport:
    shift: Shift
    totals: SalesTotals
    cash: CashCount
    generated_at: dt.datetime


def _cash(shift: Shift, totals: SalesTotals) -> CashCount:
    expected = shift.opening_float_fen + totals.cash_net_fen
    if shift.status == ShiftStatus.CLOSED and shift.expected_cash_fen is not None:
        expected = shift.expected_cash_fen
    counted = shift.counted_cash_fen
    return CashCount(
        opening_float_fen=shift.opening_float_fen,
        cash_received_fen=totals.cash_received_fen,
        change_fen=totals.change_fen,
        cash_refunds_fen=totals.cash_refunds_fen,
        expected_fen=expected,
        counted_fen=counted,
        variance_fen=None if counted is None else counted - expected,
    )


def x_report(*, shift: Shift, actor: Any) -> ShiftReport:
    """X report: the running (or final) totals of one shift; changes nothing."""
    _may_handle_read(actor, shift)
    totals = sales_totals(shift_sales(shift))
    return ShiftReport(
        shift=shift, totals=totals, cash=_cash(shift, totals), generated_at=timezone.now()
    )


def _may_handle_read(actor: Any, shift: Shift) -> None:
    if has_perm(actor, "pos.report"):
        ensure_can(actor, "pos.report", sites=[shift.site_id])
        return
    _may_handle(actor, shift, "pos.report")


# -- Z report / day close --------------------------------------------------------------
@dataclass(frozen=True)
class ZReport:
    day_close: DayClose
    totals: SalesTotals
    cash: CashCount
    tills: list[dict[str, Any]]
    shifts: list[int]


def z_report(day_close: DayClose) -> ZReport:
    """The frozen figures of a day close, as stored."""
    data = day_close.totals
    return ZReport(
        day_close=day_close,
        totals=SalesTotals.from_json(data.get("sales", {})),
        cash=CashCount(**data.get("cash", {})) if data.get("cash") else _no_cash(),
        tills=list(data.get("tills", [])),
        shifts=list(data.get("shifts", [])),
    )


def _no_cash() -> CashCount:
    return CashCount(0, 0, 0, 0, 0, None, None)


def close_day(
    *, store: Site, business_date: dt.date, actor: Any, till: Till | None = None
) -> DayClose:
    """Z report: freeze one till's (or, without a till, the whole store's) totals for a
    business date. Refused while a shift of that till (store) and day is still open; a
    second close of the same till/day returns the first (`replayed`)."""
    ensure_can(actor, "pos.day_close", sites=[store.pk])
    check_store_till(store, till)
    if business_date > site_today(store):
        raise ValidationFailed(
            _("That business day has not begun yet."), code="future_date", date=str(business_date)
        )
    existing = _find_close(store, till, business_date)
    if existing is not None:
        existing.replayed = True  # type: ignore[attr-defined]
        return existing
    try:
        with transaction.atomic():
            close = _create_close(store, till, business_date, actor)
    except IntegrityError:
        # A concurrent close of the same till/day won the unique constraint.
        existing = _find_close(store, till, business_date)
        if existing is None:
            raise
        existing.replayed = True  # type: ignore[attr-defined]
        return existing
    close.replayed = False  # type: ignore[attr-defined]
    return close


def _find_close(store: Site, till: Till | None, business_date: dt.date) -> DayClose | None:
    qs = DayClose.objects.filter(site=store, business_date=business_date)
    qs = qs.filter(till=till) if till is not None else qs.filter(till__isnull=True)
    return qs.select_related("site", "till", "closed_by").first()


def _create_close(store: Site, till: Till | None, business_date: dt.date, actor: Any) -> DayClose:
    # The store's settings row serialises day closes of the store (numbering).
    StoreSettings.objects.get_or_create(site=store)
    StoreSettings.objects.select_for_update().get(site=store)
    # The tills closed: no shift opens at them meanwhile (open_shift locks its till).
    _lock_tills(
        Till.objects.filter(site=store) if till is None else Till.objects.filter(pk=till.pk)
    )
    shifts = Shift.objects.filter(site=store, business_date__lte=business_date)
    if till is not None:
        shifts = shifts.filter(till=till)
    still_open = list(
        shifts.filter(status=ShiftStatus.OPEN).values_list("pk", "till__code").order_by("pk")
    )
    if still_open:
        raise ShiftsStillOpen(
            _("Close the open shifts first."),
            shifts=[pk for pk, _code in still_open],
            tills=sorted({code for _pk, code in still_open}),
        )
    last = DayClose.objects.filter(site=store).order_by("-number").values_list("number", flat=True)
    close = DayClose.objects.create(
        site=store,
        till=till,
        business_date=business_date,
        number=(last.first() or 0) + 1,
        totals=_day_totals(store, till, business_date),
        closed_by=actor,
    )
    audit.record(
        actor=actor,
        action="pos.day_close",
        obj=close,
        to_state="closed",
        site_id=store.pk,
        data={
            "till": till.code if till else None,
            "business_date": str(business_date),
            "number": close.number,
        },
    )
    return close


def _day_totals(store: Site, till: Till | None, business_date: dt.date) -> dict[str, Any]:
    totals = sales_totals(day_sales(store, business_date, till))
    shifts = Shift.objects.filter(site=store, business_date=business_date)
    if till is not None:
        shifts = shifts.filter(till=till)
    rows = list(shifts.order_by("pk"))
    counted = [s for s in rows if s.counted_cash_fen is not None]
    expected = sum(s.expected_cash_fen or 0 for s in rows)
    cash = CashCount(
        opening_float_fen=sum(s.opening_float_fen for s in rows),
        cash_received_fen=totals.cash_received_fen,
        change_fen=totals.change_fen,
        cash_refunds_fen=totals.cash_refunds_fen,
        expected_fen=expected,
        counted_fen=sum(s.counted_cash_fen or 0 for s in counted) if counted else None,
        variance_fen=(
            sum((s.counted_cash_fen or 0) - (s.expected_cash_fen or 0) for s in counted)
            if counted
            else None
        ),
    )
    tills = till_breakdown(store, business_date) if till is None else []
    return {
        "sales": totals.as_json(),
        "cash": cash.__dict__,
        "tills": tills,
        "shifts": [s.pk for s in rows],
    }


def till_breakdown(store: Site, business_date: dt.date) -> list[dict[str, Any]]:
    """Per-till sales and refunds of a store day (one grouped query)."""
    return [
        {
            "till": row["till__code"],
            "sales_count": row["sales_count"],
            "net_fen": row["net_fen"],
            "returns_count": row["returns_count"],
            "refunds_fen": row["refunds_fen"],
        }
        for row in day_sales(store, business_date)
        .values("till__code")
        .annotate(
            sales_count=Count("id", filter=SALE),
            net_fen=Coalesce(Sum("total_fen", filter=SALE), 0),
            returns_count=Count("id", filter=RETURN),
            refunds_fen=Coalesce(Sum("total_fen", filter=RETURN), 0),
        )
        .order_by("till__code")
    ]
