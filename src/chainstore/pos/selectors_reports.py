"""Reads behind the POS reports: shift (X), till/store day (Z), the store-day screen,
and the lists of shifts, day closes and stock discrepancies.

Every figure is one aggregate query over Sale / SaleLine / Tender / PointsEntry rows
(grouped in the database), so a report costs a handful of statements however many
lines the day holds. Money in fen, quantities in thousandths, as stored.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, F, Q, QuerySet, Sum, When
from django.db.models.functions import Coalesce, ExtractHour
from django.utils.translation import gettext as _

from chainstore.core.errors import NotFound
from chainstore.core.permissions import ensure_can, has_perm, scope_site_ids
from chainstore.pos.models import (
    DayClose,
    DiscrepancyStatus,
    PointsEntry,
    PointsKind,
    Sale,
    SaleKind,
    SaleLine,
    Shift,
    StockDiscrepancy,
    Tender,
    TenderKind,
    Till,
)
from chainstore.sites.models import Site

SALE = Q(kind=SaleKind.SALE)
RETURN = Q(kind=SaleKind.RETURN)
BEST_SELLERS = 10


def _rows(queryset: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in queryset]


def _sum(expression: Any, condition: Q | None = None) -> Coalesce:
    return Coalesce(Sum(expression, filter=condition), 0)


# -- totals shared by X, Z and the store day --------------------------------------------
@dataclass(frozen=True)
class TenderTotal:
    kind: str
    count: int  # tenders on sales
    sales_fen: int  # received on sales
    refunds_fen: int  # paid back on returns

    @property
    def net_fen(self) -> int:
        return self.sales_fen - self.refunds_fen


@dataclass(frozen=True)
class SalesTotals:
    sales_count: int = 0
    gross_fen: int = 0  # subtotal of the sales (before promotions)
    discount_fen: int = 0
    net_fen: int = 0  # what the shoppers paid
    tax_fen: int = 0
    returns_count: int = 0
    refunds_fen: int = 0
    refund_tax_fen: int = 0
    recovered_fen: int = 0  # discount clawed back by returns
    cash_received_fen: int = 0  # cash handed over on sales
    change_fen: int = 0
    cash_refunds_fen: int = 0
    tenders: tuple[TenderTotal, ...] = ()

    @property
    def average_basket_fen(self) -> int:
        return (self.net_fen + self.sales_count // 2) // self.sales_count if self.sales_count else 0

    @property
    def net_after_refunds_fen(self) -> int:
        return self.net_fen - self.refunds_fen

    @property
    def cash_net_fen(self) -> int:
        """Cash the drawer gained: received - change - refunds."""
        return self.cash_received_fen - self.change_fen - self.cash_refunds_fen

    def as_json(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "tenders"}
        data["tenders"] = [t.__dict__ for t in self.tenders]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SalesTotals:
        plain = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        plain["tenders"] = tuple(TenderTotal(**t) for t in data.get("tenders", []))
        return cls(**plain)


def sales_totals(sales: QuerySet[Sale]) -> SalesTotals:
    """Sales and returns of a set of receipts, with tenders by kind (two queries)."""
    # Aliases must not shadow the summed columns' names.
    agg = sales.aggregate(
        n_sales=Count("id", filter=SALE),
        s_gross=_sum("subtotal_fen", SALE),
        s_discount=_sum("discount_fen", SALE),
        s_net=_sum("total_fen", SALE),
        s_tax=_sum("tax_fen", SALE),
        n_returns=Count("id", filter=RETURN),
        r_total=_sum("total_fen", RETURN),
        r_tax=_sum("tax_fen", RETURN),
        r_recovered=_sum("recovered_fen", RETURN),
    )
    rows = (
        Tender.objects.filter(sale__in=sales.values("id"))
        .values("kind")
        .annotate(
            count=Count("id", filter=Q(sale__kind=SaleKind.SALE)),
            sales_fen=_sum("amount_fen", Q(sale__kind=SaleKind.SALE)),
            refunds_fen=_sum("amount_fen", Q(sale__kind=SaleKind.RETURN)),
            # Cash handed over: `tendered` when the till recorded it, else the amount.
            handed_fen=_sum(
                Case(
                    When(tendered_fen__gt=0, then=F("tendered_fen")),
                    default=F("amount_fen"),
                ),
                Q(sale__kind=SaleKind.SALE),
            ),
            change_sum=_sum("change_fen", Q(sale__kind=SaleKind.SALE)),
        )
        .order_by("kind")
    )
    tenders: list[TenderTotal] = []
    cash = {"cash_received_fen": 0, "change_fen": 0, "cash_refunds_fen": 0}
    for row in rows:
        tenders.append(TenderTotal(row["kind"], row["count"], row["sales_fen"], row["refunds_fen"]))
        if row["kind"] == TenderKind.CASH:
            cash = {
                "cash_received_fen": row["handed_fen"],
                "change_fen": row["change_sum"],
                "cash_refunds_fen": row["refunds_fen"],
            }
    return SalesTotals(
        sales_count=agg["n_sales"],
        gross_fen=agg["s_gross"],
        discount_fen=agg["s_discount"],
        net_fen=agg["s_net"],
        tax_fen=agg["s_tax"],
        returns_count=agg["n_returns"],
        refunds_fen=agg["r_total"],
        refund_tax_fen=agg["r_tax"],
        recovered_fen=agg["r_recovered"],
        **cash,
        tenders=tuple(tenders),
    )


# -- scope helpers ---------------------------------------------------------------------
def _scoped(qs: QuerySet[Any], actor: Any, field_name: str = "site_id") -> QuerySet[Any]:
    allowed = scope_site_ids(actor)
    return qs if allowed is None else qs.filter(**{f"{field_name}__in": allowed})


# -- shifts ----------------------------------------------------------------------------
def shift_sales(shift: Shift) -> QuerySet[Sale]:
    return Sale.objects.filter(shift=shift)


def _own_unless_reporter(qs: QuerySet[Shift], actor: Any) -> QuerySet[Shift]:
    """A cashier (no pos.report) sees only their own shifts' figures."""
    return qs if has_perm(actor, "pos.report") else qs.filter(cashier_id=getattr(actor, "pk", None))


def list_shifts(*, actor: Any, store: Site | None = None, status: str = "") -> QuerySet[Shift]:
    """Shifts in the actor's scope, newest first (a cashier: their own)."""
    if store is not None:
        if has_perm(actor, "pos.report"):
            ensure_can(actor, "pos.report", sites=[store.pk])
        else:
            ensure_can(actor, "pos.shift", sites=[store.pk])
    elif not has_perm(actor, "pos.shift"):
        ensure_can(actor, "pos.report")
    qs = _scoped(Shift.objects.all(), actor).select_related("site", "till", "cashier")
    qs = _own_unless_reporter(qs, actor)
    if store is not None:
        qs = qs.filter(site=store)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-opened_at", "-id")


def get_shift(*, shift_id: int, actor: Any) -> Shift:
    qs = _own_unless_reporter(_scoped(Shift.objects.all(), actor), actor)
    shift = qs.select_related("site", "till", "cashier").filter(pk=shift_id).first()
    if shift is None:
        raise NotFound(_("Shift not found."), code="shift_not_found", shift=shift_id)
    return shift


def find_open_shift(*, till: Till) -> Shift | None:
    return (
        Shift.objects.filter(till=till, status="open")
        .select_related("site", "till", "cashier")
        .first()
    )


# -- day closes ------------------------------------------------------------------------
def list_day_closes(*, actor: Any, store: Site) -> QuerySet[DayClose]:
    ensure_can(actor, "pos.report", sites=[store.pk])
    return (
        DayClose.objects.filter(site=store)
        .select_related("site", "till", "closed_by")
        .order_by("-number")
    )


def day_sales(store: Site, business_date: dt.date, till: Till | None = None) -> QuerySet[Sale]:
    qs = Sale.objects.filter(site=store, business_date=business_date)
    return qs.filter(till=till) if till is not None else qs


def day_lines(store: Site, business_date: dt.date) -> QuerySet[SaleLine]:
    return SaleLine.objects.filter(sale__site=store, sale__business_date=business_date)


# -- discrepancies ---------------------------------------------------------------------
def list_discrepancies(
    *, actor: Any, store: Site | None = None, status: str = ""
) -> QuerySet[StockDiscrepancy]:
    ensure_can(actor, "pos.discrepancy", sites=[store.pk] if store else [])
    qs = _scoped(StockDiscrepancy.objects.all(), actor).select_related("site", "sku", "sale")
    if store is not None:
        qs = qs.filter(site=store)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


def get_discrepancy(*, discrepancy_id: int, actor: Any) -> StockDiscrepancy:
    row = (
        _scoped(StockDiscrepancy.objects.all(), actor)
        .select_related("site", "sku", "sale")
        .filter(pk=discrepancy_id)
        .first()
    )
    if row is None:
        raise NotFound(
            _("Discrepancy not found."), code="discrepancy_not_found", discrepancy=discrepancy_id
        )
    ensure_can(actor, "pos.discrepancy", sites=[row.site_id])
    return row


def count_open_discrepancies(store: Site) -> int:
    return StockDiscrepancy.objects.filter(site=store, status=DiscrepancyStatus.OPEN).count()


# -- the store day's breakdowns (composed by services/reports.py) -----------------------
def sales_by_hour(sales: QuerySet[Sale], store: Site) -> list[dict[str, Any]]:
    tz = zoneinfo.ZoneInfo(store.timezone)
    return _rows(
        sales.annotate(hour=ExtractHour("sold_at", tzinfo=tz))
        .values("hour")
        .annotate(
            sales_count=Count("id", filter=SALE),
            net_fen=_sum("total_fen", SALE),
            returns_count=Count("id", filter=RETURN),
            refunds_fen=_sum("total_fen", RETURN),
        )
        .order_by("hour")
    )


def sales_by_cashier(sales: QuerySet[Sale]) -> list[dict[str, Any]]:
    return _rows(
        sales.values("cashier_id", "cashier__username", "cashier__first_name")
        .annotate(
            sales_count=Count("id", filter=SALE),
            net_fen=_sum("total_fen", SALE),
            discount_sum=_sum("discount_fen", SALE),
            returns_count=Count("id", filter=RETURN),
            refunds_fen=_sum("total_fen", RETURN),
        )
        .order_by("-net_fen", "cashier__username")
    )


def sales_by_category(lines: QuerySet[SaleLine]) -> list[dict[str, Any]]:
    sold = Q(sale__kind=SaleKind.SALE)
    returned = Q(sale__kind=SaleKind.RETURN)
    return _rows(
        lines.values("sku__category_id", "sku__category__code", "sku__category__name")
        .annotate(
            lines=Count("id", filter=sold),
            gross_sum=_sum("gross_fen", sold),
            discount_sum=_sum("discount_fen", sold),
            net_sum=_sum("net_fen", sold),
            refunds_fen=_sum("net_fen", returned),
        )
        .order_by("-net_sum", "sku__category__code")
    )


def best_sellers(lines: QuerySet[SaleLine], order: str) -> list[dict[str, Any]]:
    """Top SKUs sold (gift lines left out), by quantity or by amount."""
    return _rows(
        lines.filter(sale__kind=SaleKind.SALE, is_gift=False)
        .values("sku_id", "sku__code", "sku__name", "sku__base_unit")
        .annotate(qty_sum=Sum("quantity"), amount_sum=Sum("net_fen"), receipts=Count("sale_id"))
        .order_by(f"-{order}", "sku__code")[:BEST_SELLERS]
    )


def points_moved(store: Site, business_date: dt.date) -> dict[str, int]:
    """Points moved by the day's receipts, from the points ledger itself."""
    rows = dict(
        PointsEntry.objects.filter(sale__site=store, sale__business_date=business_date)
        .values("kind")
        .annotate(total=Sum("delta"))
        .values_list("kind", "total")
    )
    return {
        "issued": rows.get(PointsKind.EARN, 0),
        "redeemed": -rows.get(PointsKind.REDEEM, 0),
        "reversed": -rows.get(PointsKind.REVERSE, 0),
        "refunded": rows.get(PointsKind.REFUND, 0),
    }
