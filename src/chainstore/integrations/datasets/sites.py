"""Sites, and their zones and bins (locations). Both are create-only: a row whose code
already exists with the same values is reported as unchanged, otherwise as an error."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chainstore.core.permissions import scope_site_ids
from chainstore.integrations import columns as c
from chainstore.integrations.datasets.base import CREATE, UNCHANGED, Dataset, Plan, Row
from chainstore.sites import services as sites
from chainstore.sites.models import Location, LocationKind, Site, SiteKind, Zone

SITE_KIND_ALIASES = {
    "总仓": "cdc",
    "中心仓": "cdc",
    "区域仓": "rdc",
    "门店": "store",
    "店": "store",
}
PHYSICAL_KINDS = [
    LocationKind.STORAGE,
    LocationKind.RECEIVING,
    LocationKind.SELLING,
    LocationKind.DAMAGED,
]
LOCATION_KIND_ALIASES = {
    "存储": "storage",
    "储位": "storage",
    "货位": "storage",
    "收货": "receiving",
    "收货区": "receiving",
    "卖场": "selling",
    "发货区": "selling",
    "残损": "damaged",
    "残损区": "damaged",
}
SITE_FIELDS = ("name", "kind", "address", "city", "region", "latitude", "longitude", "timezone")


def scoped_sites(actor: Any, site: Site | None = None) -> Any:
    allowed = scope_site_ids(actor)
    qs = Site.objects.order_by("code")
    if allowed is not None:
        qs = qs.filter(pk__in=allowed)
    if site is not None:
        qs = qs.filter(pk=site.pk)
    return qs


class SitesDataset(Dataset):
    name = "sites"
    label = gettext_lazy("Sites")
    permission = "sites.manage"
    site_bound = True
    columns = (
        c.column(
            "code",
            gettext_lazy("Code"),
            c.text(20, no_spaces=True),
            required=True,
            aliases=("编码", "站点编码", "门店编码", "仓库编码"),
        ),
        c.column(
            "name",
            gettext_lazy("Name"),
            c.text(100),
            required=True,
            aliases=("名称", "站点名称", "门店名称"),
        ),
        c.column(
            "kind",
            gettext_lazy("Kind"),
            c.choice(SiteKind.values, SITE_KIND_ALIASES),
            required=True,
            aliases=("类型", "站点类型"),
        ),
        c.column("address", gettext_lazy("Address"), c.text(200), aliases=("地址",)),
        c.column("city", gettext_lazy("City"), c.text(50), aliases=("城市",)),
        c.column("region", gettext_lazy("Region"), c.text(50), aliases=("区域", "大区", "省份")),
        c.column(
            "latitude",
            gettext_lazy("Latitude"),
            c.decimal(6, minimum=Decimal(-90), maximum=Decimal(90)),
            aliases=("纬度", "lat"),
        ),
        c.column(
            "longitude",
            gettext_lazy("Longitude"),
            c.decimal(6, minimum=Decimal(-180), maximum=Decimal(180)),
            aliases=("经度", "lng", "lon"),
        ),
        c.column("timezone", gettext_lazy("Timezone"), c.timezone_name, aliases=("时区", "tz")),
    )

    def validate(self, rows: list[Row], plan: Plan) -> None:
        self.find_duplicates(rows, plan, "code", lambda r: r.values["code"])
        codes = {r.values["code"] for r in rows if "code" in r.values}
        existing = {s.code: s for s in Site.objects.filter(code__in=codes)}
        for row in rows:
            if not row.ok:
                continue
            values = {k: row.values.get(k, "") for k in SITE_FIELDS}
            values["latitude"] = row.values.get("latitude")
            values["longitude"] = row.values.get("longitude")
            values["timezone"] = row.values.get("timezone") or "Asia/Shanghai"
            site = existing.get(row.values["code"])
            if site is None:
                plan.add(row, CREATE, row.values["code"], **values)
            elif all(_same(getattr(site, k), v) for k, v in values.items()):
                plan.add(row, UNCHANGED, site.code)
            else:
                plan.error(
                    row,
                    "code",
                    "site_exists",
                    _("This site exists with other values; import cannot change it."),
                )

    def apply(self, plan: Plan) -> None:
        for i, action in enumerate(plan.actions):
            plan.tick(i + 1, len(plan.actions))
            if action.action == CREATE:
                sites.create_site(code=action.key, actor=plan.actor, **action.payload)

    def export_rows(self, *, actor: Any, site: Any = None) -> Iterator[list[Any]]:
        for s in scoped_sites(actor, site):
            yield [
                s.code,
                s.name,
                s.kind,
                s.address,
                s.city,
                s.region,
                s.latitude if s.latitude is not None else "",
                s.longitude if s.longitude is not None else "",
                s.timezone,
            ]


def _same(current: Any, new: Any) -> bool:
    if isinstance(current, Decimal) or isinstance(new, Decimal):
        return current is not None and new is not None and Decimal(current) == Decimal(new)
    return (current or "") == (new or "")


class LocationsDataset(Dataset):
    name = "locations"
    label = gettext_lazy("Locations (zones and bins)")
    permission = "sites.manage_locations"
    site_bound = True
    columns = (
        c.column(
            "site_code",
            gettext_lazy("Site code"),
            c.text(20),
            required=True,
            aliases=("站点编码", "门店编码", "仓库编码", "site"),
        ),
        c.column(
            "code",
            gettext_lazy("Code"),
            c.text(40, no_spaces=True),
            required=True,
            aliases=("编码", "库位编码", "货位编码", "location_code"),
        ),
        c.column(
            "zone_code",
            gettext_lazy("Zone code"),
            c.text(20, no_spaces=True),
            aliases=("库区编码", "zone"),
        ),
        c.column("zone_name", gettext_lazy("Zone name"), c.text(100), aliases=("库区名称",)),
        c.column(
            "kind",
            gettext_lazy("Kind"),
            c.choice([str(k) for k in PHYSICAL_KINDS], LOCATION_KIND_ALIASES),
            aliases=("类型", "库位类型"),
        ),
        c.column("aisle", gettext_lazy("Aisle"), c.text(10), aliases=("巷道", "通道")),
        c.column("rack", gettext_lazy("Rack"), c.text(10), aliases=("货架", "排")),
        c.column("level", gettext_lazy("Level"), c.text(10), aliases=("层",)),
        c.column("position", gettext_lazy("Position"), c.text(10), aliases=("位", "列")),
        c.column(
            "x",
            gettext_lazy("X"),
            c.decimal(2, minimum=Decimal("-999999.99"), maximum=Decimal("999999.99")),
            aliases=("x坐标",),
        ),
        c.column(
            "y",
            gettext_lazy("Y"),
            c.decimal(2, minimum=Decimal("-999999.99"), maximum=Decimal("999999.99")),
            aliases=("y坐标",),
        ),
    )

    def validate(self, rows: list[Row], plan: Plan) -> None:
        self.find_duplicates(
            rows, plan, "code", lambda r: (r.values.get("site_code"), r.values["code"])
        )
        site_codes = {r.values["site_code"] for r in rows if "site_code" in r.values}
        by_code = {s.code: s for s in Site.objects.filter(code__in=site_codes)}
        allowed = scope_site_ids(plan.actor)
        locations = {
            (loc.site_id, loc.code): loc
            for loc in Location.objects.filter(site__in=by_code.values()).select_related("zone")
        }
        zones = {(z.site_id, z.code) for z in Zone.objects.filter(site__in=by_code.values())}
        for row in rows:
            site = by_code.get(row.values.get("site_code", ""))
            if "site_code" in row.values and site is None:
                plan.error(row, "site_code", "unknown_site", _("No site with this code."))
            elif site is not None and allowed is not None and site.pk not in allowed:
                plan.error(
                    row, "site_code", "site_out_of_scope", _("This site is outside your scope.")
                )
            if not row.ok or site is None:
                continue
            zone_code: str = row.values.get("zone_code") or ""
            new_zone = bool(zone_code) and (site.pk, zone_code) not in zones
            if new_zone:
                zones.add((site.pk, zone_code))
            current = locations.get((site.pk, row.values["code"]))
            if current is not None:
                if (current.zone.code if current.zone else "") == zone_code and current.kind == (
                    row.values.get("kind") or current.kind
                ):
                    plan.add(row, UNCHANGED, f"{site.code}/{current.code}")
                else:
                    plan.error(
                        row,
                        "code",
                        "location_exists",
                        _("Location exists with another zone or kind; import cannot change it."),
                    )
                continue
            payload = {k: row.values.get(k, "") for k in ("aisle", "rack", "level", "position")}
            plan.add(
                row,
                CREATE,
                f"{site.code}/{row.values['code']}",
                site=site,
                code=row.values["code"],
                zone_code=zone_code,
                new_zone=new_zone,
                zone_name=row.values.get("zone_name") or zone_code,
                kind=row.values.get("kind") or LocationKind.STORAGE,
                x=row.values.get("x"),
                y=row.values.get("y"),
                **payload,
            )

    def apply(self, plan: Plan) -> None:
        zones: dict[tuple[int, str], Zone] = {}
        for i, action in enumerate(plan.actions):
            plan.tick(i + 1, len(plan.actions))
            if action.action != CREATE:
                continue
            p = dict(action.payload)
            site: Site = p.pop("site")
            zone_code, zone_name, new_zone = (
                p.pop("zone_code"),
                p.pop("zone_name"),
                p.pop("new_zone"),
            )
            zone = None
            if zone_code:
                zone = zones.get((site.pk, zone_code))
                if zone is None and new_zone:
                    zone = sites.create_zone(
                        site=site, code=zone_code, name=zone_name, actor=plan.actor
                    )
                elif zone is None:
                    zone = Zone.objects.get(site=site, code=zone_code)
                zones[(site.pk, zone_code)] = zone
            sites.create_bin(site=site, zone=zone, actor=plan.actor, **p)

    def export_rows(self, *, actor: Any, site: Any = None) -> Iterator[list[Any]]:
        qs = (
            Location.objects.filter(site__in=scoped_sites(actor, site), is_virtual=False)
            .select_related("site", "zone")
            .order_by("site__code", "code")
        )
        for loc in qs:
            assert loc.site is not None
            yield [
                loc.site.code,
                loc.code,
                loc.zone.code if loc.zone else "",
                loc.zone.name if loc.zone else "",
                loc.kind,
                loc.aisle,
                loc.rack,
                loc.level,
                loc.position,
                loc.x if loc.x is not None else "",
                loc.y if loc.y is not None else "",
            ]
