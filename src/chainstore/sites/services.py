"""Sites, zones, bins and the virtual locations."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from chainstore.core import audit
from chainstore.core.errors import Conflict, ValidationFailed
from chainstore.core.permissions import ensure_can
from chainstore.sites.models import VIRTUAL_KINDS, Location, LocationKind, Site, SiteKind, Zone

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
