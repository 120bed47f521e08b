"""Stock reads, each scoped by the actor's sites."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    BigIntegerField,
    Case,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from chainstore.catalog.models import Sku
from chainstore.core.permissions import ensure_can, scope_site_ids
from chainstore.core.quantities import value_fen
from chainstore.inventory.models import Balance, Reservation, ReservationStatus, SiteSku, StockMove
from chainstore.sites.models import Location, Site


def _scoped(qs: QuerySet[Any], actor: Any, field: str = "site_id") -> QuerySet[Any]:
    allowed = scope_site_ids(actor)
    return qs if allowed is None else qs.filter(**{f"{field}__in": allowed})


def availability_by_site(*, sku: Sku, actor: Any) -> list[dict[str, Any]]:
    """One row per site holding the SKU: on hand, reserved, available, safety stock, cost."""
    ensure_can(actor, "inventory.view")
    totals = (
        _scoped(Balance.objects.filter(sku=sku), actor)
        .values("site_id")
        .annotate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
    )
    by_site = {row["site_id"]: row for row in totals}
    site_skus = {r.site_id: r for r in SiteSku.objects.filter(sku=sku, site_id__in=by_site)}
    sites = Site.objects.filter(pk__in=by_site).order_by("code")
    out = []
    for site in sites:
        row = by_site[site.pk]
        ss = site_skus.get(site.pk)
        out.append(
            {
                "site": site,
                "on_hand": row["on_hand"] or 0,
                "reserved": row["reserved"] or 0,
                "available": (row["on_hand"] or 0) - (row["reserved"] or 0),
                "safety_stock": ss.safety_stock if ss else None,
                "avg_cost_micros": ss.avg_cost_micros if ss else 0,
            }
        )
    return out


def site_stock(
    *,
    site: Site,
    actor: Any,
    sku: Sku | None = None,
    location: Location | None = None,
    search: str = "",
    include_zero: bool = False,
) -> QuerySet[Balance]:
    """Stock of a site by bin and lot."""
    ensure_can(actor, "inventory.view", sites=[site.pk])
    qs = (
        Balance.objects.filter(site=site)
        .select_related("location", "sku", "lot", "location__zone")
        .with_available()
        .order_by("location__code", "sku__code", "lot__expiry_date", "lot__number")
    )
    if not include_zero:
        qs = qs.nonzero()
    if sku is not None:
        qs = qs.filter(sku=sku)
    if location is not None:
        qs = qs.filter(location=location)
    if search:
        qs = qs.filter(
            Q(sku__code__icontains=search)
            | Q(sku__name__icontains=search)
            | Q(location__code__icontains=search)
            | Q(lot__number__icontains=search)
        )
    return qs


def expiring_lots(*, actor: Any, days: int, site: Site | None = None) -> QuerySet[Balance]:
    """Balances of lots expiring within `days` days (already expired ones included)."""
    ensure_can(actor, "inventory.view", sites=[site.pk] if site else [])
    horizon = timezone.localdate() + dt.timedelta(days=days)
    qs = (
        _scoped(
            Balance.objects.filter(
                on_hand__gt=0, lot__expiry_date__isnull=False, lot__expiry_date__lte=horizon
            ),
            actor,
        )
        .select_related("site", "location", "sku", "lot")
        .order_by("lot__expiry_date", "site__code", "sku__code")
    )
    if site is not None:
        qs = qs.filter(site=site)
    return qs


@dataclass(frozen=True)
class LedgerRow:
    move: StockMove
    delta: int
    balance_after: int


def sku_ledger(
    *, site: Site, sku: Sku, actor: Any, limit: int = 50, offset: int = 0
) -> tuple[list[LedgerRow], int]:
    """Moves of a SKU touching a site, newest first, each with the site's running balance."""
    ensure_can(actor, "inventory.view", sites=[site.pk])
    moves = StockMove.objects.filter(sku=sku).filter(
        Q(from_location__site=site) | Q(to_location__site=site)
    )
    delta = Case(
        When(Q(to_location__site=site) & ~Q(from_location__site=site), then=F("quantity")),
        When(Q(from_location__site=site) & ~Q(to_location__site=site), then=-F("quantity")),
        default=Value(0),
        output_field=BigIntegerField(),
    )
    total = moves.count()
    page = list(
        moves.annotate(delta=delta)
        .select_related("from_location", "to_location", "lot", "actor", "operation")
        .order_by("-id")[offset : offset + limit]
    )
    current = (
        SiteSku.objects.filter(site=site, sku=sku).values_list("on_hand", flat=True).first() or 0
    )
    if page:
        newer = moves.filter(id__gt=page[0].id).aggregate(s=Coalesce(Sum(delta), 0))["s"]
        running = current - newer
    rows = []
    for m in page:
        rows.append(LedgerRow(move=m, delta=m.delta, balance_after=running))
        running -= m.delta
    return rows, total


def below_safety_stock(*, actor: Any, site: Site | None = None) -> QuerySet[SiteSku]:
    """(site, sku) pairs whose available stock is under the safety stock set for them."""
    ensure_can(actor, "inventory.view", sites=[site.pk] if site else [])
    reserved = (
        Balance.objects.filter(site_id=OuterRef("site_id"), sku_id=OuterRef("sku_id"))
        .values("site_id", "sku_id")
        .annotate(r=Sum("reserved"))
        .values("r")
    )
    qs = (
        _scoped(SiteSku.objects.filter(safety_stock__isnull=False), actor)
        .annotate(reserved=Coalesce(Subquery(reserved, output_field=IntegerField()), 0))
        .annotate(
            available=F("on_hand") - F("reserved"),
            shortfall=F("safety_stock") - (F("on_hand") - F("reserved")),
        )
        .filter(shortfall__gt=0)
        .select_related("site", "sku")
        .order_by("-shortfall", "site__code", "sku__code")
    )
    if site is not None:
        qs = qs.filter(site=site)
    return qs


def stock_value_by_site(*, actor: Any) -> list[dict[str, Any]]:
    """Stock value (fen) per site at moving-average cost."""
    ensure_can(actor, "inventory.view")
    rows: dict[int, int] = {}
    qs = _scoped(SiteSku.objects.filter(on_hand__gt=0), actor).values_list(
        "site_id", "on_hand", "avg_cost_micros"
    )
    for site_id, on_hand, cost in qs.iterator(chunk_size=5000):
        rows[site_id] = rows.get(site_id, 0) + value_fen(on_hand, cost)
    sites = Site.objects.filter(pk__in=rows).order_by("code")
    return [{"site": s, "value_fen": rows[s.pk]} for s in sites]


def list_reservations(
    *, actor: Any, site: Site | None = None, active_only: bool = True
) -> QuerySet[Reservation]:
    ensure_can(actor, "inventory.view", sites=[site.pk] if site else [])
    qs = _scoped(Reservation.objects.all(), actor).select_related("sku", "lot", "location", "site")
    if site is not None:
        qs = qs.filter(site=site)
    if active_only:
        qs = qs.filter(status=ReservationStatus.ACTIVE)
    return qs.order_by("-id")


# -- rule checks for other apps' services (no actor: the calling service checked it) ----
def sku_has_moves(*, sku: Sku) -> bool:
    """Whether any stock move of the SKU exists (its tracking can then no longer change)."""
    return StockMove.objects.filter(sku=sku).exists()


def location_holds_stock(*, location: Location) -> bool:
    """Whether the location has stock on hand or reserved (it cannot be deactivated)."""
    return Balance.objects.filter(location=location).nonzero().exists()
