from __future__ import annotations

from decimal import Decimal

from ninja import Field, Schema

from chainstore.sites.models import Location, Site


class SiteOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    address: str
    city: str
    region: str
    latitude: Decimal | None
    longitude: Decimal | None
    timezone: str
    receiving_location: str | None
    stock_location: str | None

    @staticmethod
    def resolve_receiving_location(obj: Site) -> str | None:
        return obj.receiving_location.code if obj.receiving_location else None

    @staticmethod
    def resolve_stock_location(obj: Site) -> str | None:
        return obj.stock_location.code if obj.stock_location else None


class SiteIn(Schema):
    code: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1, max_length=100)
    kind: str
    address: str = ""
    city: str = ""
    region: str = ""
    latitude: Decimal | None = Field(default=None, ge=-90, le=90)
    longitude: Decimal | None = Field(default=None, ge=-180, le=180)
    timezone: str = "Asia/Shanghai"


class ZoneOut(Schema):
    id: int
    code: str
    name: str
    storage: str


class ZoneIn(Schema):
    code: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1, max_length=100)
    storage: str = "ambient"


class LocationOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    zone: str | None
    aisle: str
    rack: str
    level: str
    position: str
    x: Decimal | None
    y: Decimal | None

    @staticmethod
    def resolve_zone(obj: Location) -> str | None:
        return obj.zone.code if obj.zone else None


class LocationIn(Schema):
    code: str = Field(min_length=1, max_length=40)
    zone: str | None = None
    kind: str = "storage"
    aisle: str = ""
    rack: str = ""
    level: str = ""
    position: str = ""
    x: Decimal | None = None
    y: Decimal | None = None


class LayoutIn(Schema):
    """The walking layout for pick routes, metres (see WarehouseLayout)."""

    cross_aisles: list[Decimal] = Field(min_length=2, max_length=50)
    aisles: list[Decimal] = Field(default=[], max_length=500)
    depot_x: Decimal
    depot_y: Decimal


class LayoutOut(Schema):
    """`derived` is true when the site has no stored layout and this one follows from its
    storage bins (an aisle at each bin x, cross-aisles 1 m beyond the outermost racks)."""

    cross_aisles: list[Decimal]
    aisles: list[Decimal]
    depot_x: Decimal
    depot_y: Decimal
    derived: bool = False
