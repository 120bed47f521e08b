from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Router, Status
from ninja.pagination import paginate

from chainstore.core.errors import NotFound
from chainstore.core.pagination import LimitOffsetPagination
from chainstore.fulfilment.services.layouts import derived_layout
from chainstore.sites import selectors, services
from chainstore.sites.models import WarehouseLayout, Zone
from chainstore.sites.schemas import (
    LayoutIn,
    LayoutOut,
    LocationIn,
    LocationOut,
    SiteIn,
    SiteOut,
    ZoneIn,
    ZoneOut,
)

router = Router()


@router.get("", response=list[SiteOut])
@paginate(LimitOffsetPagination)
def list_sites(request: HttpRequest, kind: str = "") -> Any:
    return selectors.list_sites(actor=request.user, kind=kind).select_related(
        "receiving_location", "stock_location"
    )


@router.post("", response={201: SiteOut})
def create_site(request: HttpRequest, payload: SiteIn) -> Status:
    site = services.create_site(actor=request.user, **payload.dict())
    return Status(201, site)


@router.get("/{code}", response=SiteOut)
def get_site(request: HttpRequest, code: str) -> Any:
    return selectors.get_site(code=code, actor=request.user)


@router.get("/{code}/zones", response=list[ZoneOut])
def list_zones(request: HttpRequest, code: str) -> Any:
    return list(selectors.get_site(code=code, actor=request.user).zones.all())


@router.post("/{code}/zones", response={201: ZoneOut})
def create_zone(request: HttpRequest, code: str, payload: ZoneIn) -> Status:
    site = selectors.get_site(code=code, actor=request.user)
    return Status(201, services.create_zone(site=site, actor=request.user, **payload.dict()))


@router.get("/{code}/locations", response=list[LocationOut])
@paginate(LimitOffsetPagination)
def list_locations(request: HttpRequest, code: str, kind: str = "") -> Any:
    site = selectors.get_site(code=code, actor=request.user)
    return selectors.list_locations(site=site, actor=request.user, kind=kind)


@router.post("/{code}/locations", response={201: LocationOut})
def create_location(request: HttpRequest, code: str, payload: LocationIn) -> Status:
    site = selectors.get_site(code=code, actor=request.user)
    data = payload.dict()
    zone_code = data.pop("zone")
    zone = None
    if zone_code:
        zone = Zone.objects.filter(site=site, code=zone_code).first()
        if zone is None:
            raise NotFound("Unknown zone.", code="zone_not_found", zone=zone_code)
    return Status(201, services.create_bin(site=site, zone=zone, actor=request.user, **data))


@router.get("/{code}/layout", response=LayoutOut)
def get_layout(request: HttpRequest, code: str) -> Any:
    site = selectors.get_site(code=code, actor=request.user)
    stored = WarehouseLayout.objects.filter(site=site).first()
    if stored is not None:
        return stored
    layout = derived_layout(site)
    if layout is None:
        raise NotFound(
            "This site has no walking layout and no storage bins with coordinates.",
            code="layout_not_found",
        )
    return {
        "cross_aisles": [_metres(y) for y in layout.cross_aisles],
        "aisles": [_metres(x) for x in layout.aisles],
        "depot_x": _metres(layout.depot[0]),
        "depot_y": _metres(layout.depot[1]),
        "derived": True,
    }


def _metres(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


@router.put("/{code}/layout", response=LayoutOut)
def set_layout(request: HttpRequest, code: str, payload: LayoutIn) -> Any:
    site = selectors.get_site(code=code, actor=request.user)
    return services.set_layout(site=site, actor=request.user, **payload.dict())
