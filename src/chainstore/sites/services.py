"""Sites, zones, bins and the virtual locations."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from chainstore.core import audit
from chainstore.core.errors import Conflict, ValidationFailed
from chainstore.core.permissions import ensure_can
from chainstore.inventory.selectors import location_holds_stock
from chainstore.sites.models import (
    VIRTUAL_KINDS,
    Location,
    LocationKind,
    Site,
    SiteKind,
    WarehouseLayout,
    Zone,
)

_virtual_cache: dict[str, int] = {}


def virtual_location(kind: str) -> Location:
    """The chain-wide virtual location of a kind (supplier, customer, transit, ...)."""
    if kind not in VIRTUAL_KINDS:
        raise ValueError(f"{kind} is not a virtual location kind")
    pk = _virtual_cache.get(kind)
    if pk is not None:
        loc = Location.objects.filter(pk=pk, kind=kind, site__isnull=True).first()
        if loc is not None:
            return loc
    try:
        with transaction.atomic():
            loc, _ = Location.objects.get_or_create(
                site=None,
                kind=kind,
                defaults={"code": f"VIRTUAL/{kind.upper()}", "is_virtual": True, "name": kind},
            )
    except IntegrityError:
        loc = Location.objects.get(site=None, kind=kind)
    _virtual_cache[kind] = loc.pk
    return loc


@transaction.atomic
def create_site(
    *,
    code: str,
    name: str,
    kind: str,
    actor: Any,
    address: str = "",
    city: str = "",
    region: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    timezone: str = "Asia/Shanghai",
) -> Site:
    """Create a site with its default receiving, stock and damaged locations."""
    ensure_can(actor, "sites.manage")
    if kind not in SiteKind.values:
        raise ValidationFailed("Site kind is cdc, rdc or store.", code="invalid_site_kind")
    _check_timezone(timezone)
    if Site.objects.filter(code=code).exists():
        raise Conflict("A site with this code exists.", code="duplicate_site", site=code)
    site = Site.objects.create(
        code=code,
        name=name,
        kind=kind,
        address=address,
        city=city,
        region=region,
        latitude=latitude,
        longitude=longitude,
        timezone=timezone,
    )
    site.receiving_location = Location.objects.create(
        site=site, code="RECV", name="收货区 Receiving", kind=LocationKind.RECEIVING
    )
    stock_name = "卖场 Sales floor" if kind == SiteKind.STORE else "发货区 Shipping"
    site.stock_location = Location.objects.create(
        site=site, code="STOCK", name=stock_name, kind=LocationKind.SELLING
    )
    Location.objects.create(
        site=site, code="DAMAGED", name="残损区 Damaged", kind=LocationKind.DAMAGED
    )
    site.save(update_fields=["receiving_location", "stock_location"])
    audit.record(actor=actor, action="site.create", obj=site, to_state="active", site_id=site.pk)
    return site


def _check_timezone(name: str) -> None:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            "Unknown timezone.", code="invalid_timezone", timezone=name
        ) from None


@transaction.atomic
def create_zone(*, site: Site, code: str, name: str, actor: Any, storage: str = "ambient") -> Zone:
    ensure_can(actor, "sites.manage_locations", sites=[site.pk])
    if Zone.objects.filter(site=site, code=code).exists():
        raise Conflict("A zone with this code exists at the site.", code="duplicate_zone")
    zone = Zone.objects.create(site=site, code=code, name=name, storage=storage)
    audit.record(actor=actor, action="zone.create", obj=zone, site_id=site.pk)
    return zone


@transaction.atomic
def create_bin(
    *,
    site: Site,
    code: str,
    actor: Any,
    zone: Zone | None = None,
    aisle: str = "",
    rack: str = "",
    level: str = "",
    position: str = "",
    x: Decimal | None = None,
    y: Decimal | None = None,
    kind: str = LocationKind.STORAGE,
) -> Location:
    ensure_can(actor, "sites.manage_locations", sites=[site.pk])
    if kind in VIRTUAL_KINDS:
        raise ValidationFailed("Bins are physical locations.", code="invalid_location_kind")
    if zone is not None and zone.site_id != site.pk:
        raise ValidationFailed("The zone belongs to another site.", code="zone_site_mismatch")
    if Location.objects.filter(site=site, code=code).exists():
        raise Conflict("A location with this code exists at the site.", code="duplicate_location")
    location = Location.objects.create(
        site=site,
        zone=zone,
        code=code,
        kind=kind,
        aisle=aisle,
        rack=rack,
        level=level,
        position=position,
        x=x,
        y=y,
    )
    audit.record(actor=actor, action="location.create", obj=location, site_id=site.pk)
    return location


SITE_FIELDS = {"name", "address", "city", "region", "latitude", "longitude", "timezone"}
LOCATION_FIELDS = {"name", "zone", "aisle", "rack", "level", "position", "x", "y"}


@transaction.atomic
def update_site(*, site: Site, actor: Any, **fields: Any) -> Site:
    """Change a site's descriptive fields (its code and kind stay)."""
    ensure_can(actor, "sites.manage", sites=[site.pk])
    unknown = set(fields) - SITE_FIELDS
    if unknown:
        raise ValidationFailed("Unknown site fields.", code="unknown_field", fields=sorted(unknown))
    if "name" in fields and not str(fields["name"]).strip():
        raise ValidationFailed("The site name is required.", code="missing_field")
    if "timezone" in fields:
        _check_timezone(fields["timezone"])
    audit.save_changes(site, fields, actor=actor, action="site.update", site_id=site.pk)
    return site


@transaction.atomic
def update_zone(*, zone: Zone, name: str, storage: str, actor: Any) -> Zone:
    ensure_can(actor, "sites.manage_locations", sites=[zone.site_id])
    if not name.strip():
        raise ValidationFailed("The zone name is required.", code="missing_field")
    before = [zone.name, zone.storage]
    zone.name, zone.storage = name.strip(), storage
    zone.save(update_fields=["name", "storage"])
    audit.record(
        actor=actor,
        action="zone.update",
        obj=zone,
        site_id=zone.site_id,
        data={"name": [before[0], zone.name], "storage": [before[1], storage]},
    )
    return zone


@transaction.atomic
def update_location(*, location: Location, actor: Any, **fields: Any) -> Location:
    """Change a physical location's name, zone, address parts or coordinates."""
    ensure_can(actor, "sites.manage_locations", sites=[location.site_id])
    if location.is_virtual or location.site_id is None:
        raise ValidationFailed("Virtual locations cannot be edited.", code="invalid_location")
    unknown = set(fields) - LOCATION_FIELDS
    if unknown:
        raise ValidationFailed(
            "Unknown location fields.", code="unknown_field", fields=sorted(unknown)
        )
    zone = fields.get("zone")
    if zone is not None and zone.site_id != location.site_id:
        raise ValidationFailed("The zone belongs to another site.", code="zone_site_mismatch")
    audit.save_changes(
        location, fields, actor=actor, action="location.update", site_id=location.site_id
    )
    return location


@transaction.atomic
def deactivate_location(*, location: Location, actor: Any) -> Location:
    """Take a bin out of use; refused while it holds stock or is a site default location."""
    ensure_can(actor, "sites.manage_locations", sites=[location.site_id])
    location = Location.objects.select_for_update().get(pk=location.pk)
    site = Site.objects.get(pk=location.site_id) if location.site_id is not None else None
    if location.is_virtual or site is None:
        raise ValidationFailed("Virtual locations cannot be deactivated.", code="invalid_location")
    if location.pk in (site.receiving_location_id, site.stock_location_id):
        raise Conflict(
            "The site's receiving and stock locations stay active.",
            code="default_location",
            location=location.code,
        )
    if location_holds_stock(location=location):
        raise Conflict(
            "The location holds stock; move it out first.",
            code="location_holds_stock",
            location=location.code,
        )
    if location.is_active:
        location.is_active = False
        location.save(update_fields=["is_active"])
        audit.record(
            actor=actor,
            action="location.deactivate",
            obj=location,
            site_id=site.pk,
            from_state="active",
            to_state="inactive",
        )
    return location


@transaction.atomic
def activate_location(*, location: Location, actor: Any) -> Location:
    ensure_can(actor, "sites.manage_locations", sites=[location.site_id])
    if not location.is_active:
        location.is_active = True
        location.save(update_fields=["is_active"])
        audit.record(
            actor=actor,
            action="location.activate",
            obj=location,
            site_id=location.site_id,
            from_state="inactive",
            to_state="active",
        )
    return location


MAX_GRID_BINS = 2000


@dataclass(frozen=True)
class BinGrid:
    """A block of storage bins in a zone: aisles x racks x levels.

    Codes read ZONE-AA-RR-L (A-01-03-2); x = aisle x aisle spacing, y = rack x bin width
    (metres); every level of a rack shares its x/y.
    """

    aisle_from: int
    aisle_to: int
    rack_from: int
    rack_to: int
    level_from: int
    level_to: int
    aisle_spacing: Decimal = Decimal("3")
    bin_width: Decimal = Decimal("1.2")

    @property
    def count(self) -> int:
        sides = (
            self.aisle_to - self.aisle_from + 1,
            self.rack_to - self.rack_from + 1,
            self.level_to - self.level_from + 1,
        )
        return sides[0] * sides[1] * sides[2] if min(sides) > 0 else 0

    def check(self) -> None:
        bounds = (self.aisle_from, self.rack_from, self.level_from)
        if min(bounds) < 1 or self.count == 0:
            raise ValidationFailed(
                "Each range runs from 1 or more up to a number not below its start.",
                code="invalid_grid",
            )
        if max(self.aisle_to, self.rack_to) > 99 or self.level_to > 9:
            raise ValidationFailed(
                "Aisles and racks go up to 99, levels up to 9.", code="invalid_grid"
            )
        if self.count > MAX_GRID_BINS:
            raise ValidationFailed(
                "Too many bins at once.", code="grid_too_large", count=self.count
            )
        if self.aisle_spacing < 0 or self.bin_width < 0:
            raise ValidationFailed("Distances cannot be negative.", code="invalid_grid")

    def bins(self, zone_code: str) -> list[dict[str, Any]]:
        """The bins of the grid, in code order, as Location field values."""
        out = []
        for aisle in range(self.aisle_from, self.aisle_to + 1):
            for rack in range(self.rack_from, self.rack_to + 1):
                for level in range(self.level_from, self.level_to + 1):
                    out.append(
                        {
                            "code": f"{zone_code}-{aisle:02d}-{rack:02d}-{level}",
                            "aisle": f"{aisle:02d}",
                            "rack": f"{rack:02d}",
                            "level": str(level),
                            "x": aisle * self.aisle_spacing,
                            "y": rack * self.bin_width,
                        }
                    )
        return out


@transaction.atomic
def create_bin_grid(*, site: Site, zone: Zone, grid: BinGrid, actor: Any) -> list[Location]:
    """Create every bin of the grid, or none: refused when any code already exists."""
    ensure_can(actor, "sites.manage_locations", sites=[site.pk])
    if zone.site_id != site.pk:
        raise ValidationFailed("The zone belongs to another site.", code="zone_site_mismatch")
    grid.check()
    rows = grid.bins(zone.code)
    codes = [row["code"] for row in rows]
    taken = sorted(
        Location.objects.filter(site=site, code__in=codes).values_list("code", flat=True)
    )
    if taken:
        raise Conflict(
            "Some of these bin codes exist at the site.",
            code="duplicate_location",
            codes=taken[:20],
            count=len(taken),
        )
    try:
        with transaction.atomic():
            Location.objects.bulk_create(
                [Location(site=site, zone=zone, kind=LocationKind.STORAGE, **r) for r in rows]
            )
    except IntegrityError:  # a concurrent request created one of the codes
        raise Conflict(
            "Some of these bin codes exist at the site.", code="duplicate_location"
        ) from None
    created = list(
        Location.objects.filter(site=site, code__in=codes).select_related("zone").order_by("code")
    )
    for location in created:
        audit.record(
            actor=actor,
            action="location.create",
            obj=location,
            site_id=site.pk,
            data={"grid": True},
        )
    return created


def outbound_location(site: Site) -> Location:
    """The site's outbound staging location (picked goods awaiting check and shipping),
    created on first use."""
    loc = Location.objects.filter(site=site, kind=LocationKind.OUTBOUND, code="OUTBOUND").first()
    if loc is not None:
        return loc
    try:
        with transaction.atomic():
            return Location.objects.create(
                site=site,
                code="OUTBOUND",
                name="复核打包区 Outbound staging",
                kind=LocationKind.OUTBOUND,
            )
    except IntegrityError:
        return Location.objects.get(site=site, code="OUTBOUND")


@transaction.atomic
def set_layout(
    *,
    site: Site,
    actor: Any,
    cross_aisles: list[Decimal],
    depot_x: Decimal,
    depot_y: Decimal,
    aisles: list[Decimal] | None = None,
) -> WarehouseLayout:
    """Set the walking layout used for pick routes (see WarehouseLayout)."""
    ensure_can(actor, "sites.manage_locations", sites=[site.pk])
    ys = sorted(Decimal(str(y)) for y in cross_aisles)
    xs = sorted(Decimal(str(x)) for x in aisles or [])
    if len(ys) < 2 or len(set(ys)) != len(ys):
        raise ValidationFailed(
            "Give at least two different cross-aisles (front and back).", code="invalid_layout"
        )
    if len(set(xs)) != len(xs):
        raise ValidationFailed("Aisles must be at different x.", code="invalid_layout")
    if not ys[0] <= Decimal(str(depot_y)) <= ys[-1]:
        raise ValidationFailed(
            "The depot must lie between the front and back cross-aisles.", code="invalid_layout"
        )
    layout, _created = WarehouseLayout.objects.update_or_create(
        site=site,
        defaults={
            "cross_aisles": [str(y) for y in ys],
            "aisles": [str(x) for x in xs],
            "depot_x": depot_x,
            "depot_y": depot_y,
        },
    )
    audit.record(
        actor=actor,
        action="site.layout",
        obj=layout,
        site_id=site.pk,
        data={"cross_aisles": layout.cross_aisles, "aisles": layout.aisles},
    )
    return layout
