from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise
from typing import Any

from django.db.models import Count, Q, QuerySet

from chainstore.core.errors import PermissionDenied
from chainstore.core.permissions import ensure_can, scope_site_ids
from chainstore.sites.errors import LocationNotFound, SiteNotFound
from chainstore.sites.models import Location, LocationKind, Site, Zone


def list_sites(*, actor: Any, kind: str = "") -> QuerySet[Site]:
    ensure_can(actor, "sites.view")
    qs = Site.objects.order_by("code")
    allowed = scope_site_ids(actor)
    if allowed is not None:
        qs = qs.filter(pk__in=allowed)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def get_site(*, code: str, actor: Any) -> Site:
    site = Site.objects.filter(code=code).first()
    if site is None:
        raise SiteNotFound(site=code)
    ensure_can(actor, "sites.view", sites=[site.pk])
    return site


def get_location(*, site: Site, code: str) -> Location:
    location = Location.objects.filter(site=site, code=code).first()
    if location is None:
        raise LocationNotFound(site=site.code, location=code)
    return location


def list_locations(*, site: Site, actor: Any, kind: str = "") -> QuerySet[Location]:
    ensure_can(actor, "sites.view", sites=[site.pk])
    qs = Location.objects.filter(site=site).select_related("zone").order_by("code")
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def can_at_site(actor: Any, permission: str, site: Site) -> bool:
    """Whether the actor holds `permission` at the site (for showing buttons)."""
    try:
        ensure_can(actor, permission, sites=[site.pk])
    except PermissionDenied:
        return False
    return True


def list_site_summaries(*, actor: Any) -> QuerySet[Site]:
    """Sites in scope with zone_count and bin_count (active storage bins)."""
    bins = Q(locations__kind=LocationKind.STORAGE, locations__is_active=True)
    return list_sites(actor=actor).annotate(
        zone_count=Count("zones", distinct=True),
        bin_count=Count("locations", filter=bins, distinct=True),
    )


def list_zones(*, site: Site, actor: Any) -> QuerySet[Zone]:
    """The site's zones with bin_count (active storage bins in each)."""
    ensure_can(actor, "sites.view", sites=[site.pk])
    bins = Q(locations__kind=LocationKind.STORAGE, locations__is_active=True)
    return (
        Zone.objects.filter(site=site)
        .annotate(bin_count=Count("locations", filter=bins))
        .order_by("code")
    )


def get_zone(*, site: Site, zone_id: int) -> Zone:
    zone = Zone.objects.filter(site=site, pk=zone_id).select_related("site").first()
    if zone is None:
        raise LocationNotFound(site=site.code, zone=zone_id)
    return zone


def existing_location_codes(*, site: Site, codes: list[str]) -> list[str]:
    """Which of these codes are already used at the site."""
    found = Location.objects.filter(site=site, code__in=codes).values_list("code", flat=True)
    return sorted(found)


@dataclass
class LayoutCell:
    x: Decimal
    y: Decimal
    zone_index: int
    codes: list[str] = field(default_factory=list)


@dataclass
class SiteLayout:
    """Active bins with coordinates, one cell per x/y (levels stacked), coloured by zone."""

    zones: list[Zone]
    cells: list[LayoutCell]
    unplaced: int  # active physical locations without coordinates

    @property
    def bounds(self) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        if not self.cells:
            return (Decimal(0), Decimal(0), Decimal(10), Decimal(10))
        xs = [c.x for c in self.cells]
        ys = [c.y for c in self.cells]
        return (min(xs), min(ys), max(xs), max(ys))

    @property
    def cell_size(self) -> Decimal:
        """The smallest gap between distinct coordinates, so cells do not overlap."""
        gaps: list[Decimal] = []
        for values in ({c.x for c in self.cells}, {c.y for c in self.cells}):
            ordered = sorted(values)
            gaps.extend(b - a for a, b in pairwise(ordered) if b > a)
        return min(gaps) if gaps else Decimal(1)


def site_layout(*, site: Site, actor: Any) -> SiteLayout:
    ensure_can(actor, "sites.view", sites=[site.pk])
    zones = list(Zone.objects.filter(site=site).order_by("code"))
    index = {z.pk: i for i, z in enumerate(zones)}
    physical = Location.objects.filter(site=site, is_active=True, is_virtual=False)
    cells: dict[tuple[Decimal, Decimal, int], LayoutCell] = {}
    rows = physical.filter(x__isnull=False, y__isnull=False).order_by("code")
    for code, x, y, zone_id in rows.values_list("code", "x", "y", "zone_id"):
        if x is None or y is None:  # excluded by the filter; narrows the type
            continue
        zone_index = index.get(zone_id, -1)
        cell = cells.setdefault((x, y, zone_index), LayoutCell(x, y, zone_index))
        cell.codes.append(code)
    unplaced = physical.filter(Q(x__isnull=True) | Q(y__isnull=True)).count()
    return SiteLayout(zones=zones, cells=list(cells.values()), unplaced=unplaced)


def get_site_location(*, site: Site, location_id: int) -> Location:
    location = Location.objects.filter(site=site, pk=location_id).select_related("zone").first()
    if location is None:
        raise LocationNotFound(site=site.code, location=location_id)
    return location


def list_bins(
    *, site: Site, actor: Any, zone: Zone | None = None, include_inactive: bool = False
) -> QuerySet[Location]:
    """The site's physical locations (bins, receiving, selling, damaged) by code."""
    qs = list_locations(site=site, actor=actor).filter(is_virtual=False)
    if zone is not None:
        qs = qs.filter(zone=zone)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs
