"""Master data of the demo chain: sites with bin layouts, the catalog, the demo users."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from chainstore.accounts.services import create_user
from chainstore.catalog.barcodes import gtin_check_digit
from chainstore.catalog.models import Barcode, BarcodeKind, Category, Sku, Tracking
from chainstore.catalog.services import create_category, get_or_create_brand
from chainstore.core import audit
from chainstore.core import permissions as perms
from chainstore.demo import data
from chainstore.sites.models import Location, Site, SiteKind
from chainstore.sites.services import create_bin, create_site, create_zone

# (zone code, name, storage, aisles, racks per aisle, levels)
CDC_LAYOUT = [
    ("A", "常温区", "ambient", 8, 10, 4),
    ("C", "冷藏区", "chilled", 3, 8, 3),
    ("F", "冷冻区", "frozen", 2, 6, 3),
]
RDC_LAYOUT = [
    ("A", "常温区", "ambient", 4, 8, 4),
    ("C", "冷藏区", "chilled", 2, 6, 3),
    ("F", "冷冻区", "frozen", 1, 6, 3),
]
AISLE_PITCH_M = Decimal("3.0")
BIN_WIDTH_M = Decimal("1.2")
ZONE_GAP_M = Decimal("6.0")

DEMO_USERS = [
    # username, password, role, scope ("cdc", "store" or None = all sites)
    ("admin", "admin123", perms.ADMIN, None),
    ("planner", "planner123", perms.HQ_PLANNER, None),
    ("wh_manager", "whmanager123", perms.WAREHOUSE_MANAGER, "cdc"),
    ("wh_operator", "whoperator123", perms.WAREHOUSE_OPERATOR, "cdc"),
    ("store_manager", "storemanager123", perms.STORE_MANAGER, "store"),
    ("cashier", "cashier123", perms.CASHIER, "store"),
    ("auditor", "auditor123", perms.AUDITOR, None),
    ("shop_api", "shopapi123", perms.INTEGRATOR, None),
]


@dataclass
class DemoSku:
    id: int
    code: str
    line: data.ProductLine
    cost_micros: int
    velocity: float
    brand: str = ""
    bin_by_site: dict[int, int] = field(default_factory=dict)


@dataclass
class DemoStore:
    site: Site
    warehouse: Site
    size: float
    assortment: list[int]  # indices into the SKU list


@dataclass
class Chain:
    cdc: Site
    rdc: Site
    stores: list[DemoStore]
    skus: list[DemoSku]
    users: dict[str, Any]


def create_users(admin: Any, cdc: Site, store: Site) -> dict[str, Any]:
    """The demo logins (admin first, as it creates everything else)."""
    users = {"admin": admin}
    for username, password, role, scope in DEMO_USERS[1:]:
        sites = {"cdc": [cdc.pk], "store": [store.pk]}.get(scope or "", [])
        users[username] = create_user(
            username=username, password=password, role=role, site_ids=sites, actor=admin
        )
    return users


def create_admin() -> Any:
    username, password, role, _scope = DEMO_USERS[0]
    return create_user(username=username, password=password, role=role)


def create_sites(*, actor: Any, stores: int, rng: random.Random) -> tuple[Site, Site, list[Site]]:
    cdc = _site(actor, "CDC01", SiteKind.CDC, data.CDC)
    rdc = _site(actor, "RDC01", SiteKind.RDC, data.RDC)
    for site, layout in ((cdc, CDC_LAYOUT), (rdc, RDC_LAYOUT)):
        _bins(actor, site, layout)
    out = []
    pool = data.STORES
    for i in range(stores):
        place = pool[i % len(pool)]
        if i >= len(pool):  # more stores than named places: numbered branches nearby
            n = i // len(pool) + 1
            place = data.SitePlace(
                name=f"{place.name}{n}号分店",
                city=place.city,
                region=place.region,
                address=place.address,
                latitude=_jitter(place.latitude, rng),
                longitude=_jitter(place.longitude, rng),
            )
        out.append(_site(actor, f"S{i + 1:03d}", SiteKind.STORE, place))
    return cdc, rdc, out


def _jitter(degrees: str, rng: random.Random) -> str:
    """A nearby point, up to ~3 km away."""
    return f"{Decimal(degrees) + Decimal(rng.randint(-300, 300)) / 10000:.6f}"


def _site(actor: Any, code: str, kind: str, place: data.SitePlace) -> Site:
    return create_site(
        code=code,
        name=place.name,
        kind=kind,
        actor=actor,
        address=place.address,
        city=place.city,
        region=place.region,
        latitude=Decimal(place.latitude),
        longitude=Decimal(place.longitude),
        timezone="Asia/Shanghai",
    )


def _bins(actor: Any, site: Site, layout: list[tuple[str, str, str, int, int, int]]) -> None:
    """Zones side by side along x; aisles run along y, 3 m apart; racks 1.2 m wide along
    each aisle (the pick-route convention: a bin's x is its aisle, its y how far along)."""
    x0 = Decimal(0)
    for code, name, storage, aisles, racks, levels in layout:
        zone = create_zone(site=site, code=code, name=name, storage=storage, actor=actor)
        for a in range(1, aisles + 1):
            for r in range(1, racks + 1):
                for lv in range(1, levels + 1):
                    create_bin(
                        site=site,
                        zone=zone,
                        code=f"{code}-{a:02d}-{r:02d}-{lv}",
                        aisle=f"{a:02d}",
                        rack=f"{r:02d}",
                        level=str(lv),
                        x=x0 + AISLE_PITCH_M * a,
                        y=BIN_WIDTH_M * r - BIN_WIDTH_M / 2,
                        actor=actor,
                    )
        x0 += AISLE_PITCH_M * aisles + ZONE_GAP_M


def create_categories(actor: Any) -> dict[str, Category]:
    out: dict[str, Category] = {}
    for code, name, parent in data.CATEGORIES:
        out[code] = create_category(
            code=code, name=name, parent=out[parent] if parent else None, actor=actor
        )
    return out


def _combinations(count: int) -> list[tuple[data.ProductLine, str, str, str, float]]:
    """(line, brand, item, spec, price) round-robin over the lines, so any prefix mixes them."""
    per_line = [
        [(ln, b, i, s, p) for i in ln.items for b in ln.brands for s, p in ln.specs]
        for ln in data.LINES
    ]
    out: list[tuple[data.ProductLine, str, str, str, float]] = []
    depth = max(len(x) for x in per_line)
    for k in range(depth):
        out.extend(combos[k] for combos in per_line if k < len(combos))
    base = list(out)
    v = 0
    while len(out) < count:
        label, factor = data.VARIANTS[v % len(data.VARIANTS)]
        suffix = label if v < len(data.VARIANTS) else f"{label}{v // len(data.VARIANTS) + 1}"
        out.extend((ln, b, i, f"{s} {suffix}", p * factor) for ln, b, i, s, p in base)
        v += 1
    return out[:count]


def ean13(brand_index: int, item: int) -> str:
    prefix = data.BRAND_PREFIXES[brand_index % len(data.BRAND_PREFIXES)]
    payload = f"{prefix}{brand_index % 10000:04d}{item:05d}"
    return payload + str(gtin_check_digit(payload))


def create_catalog(
    *, actor: Any, count: int, rng: random.Random, categories: dict[str, Category]
) -> list[DemoSku]:
    """Bulk-create SKUs with EAN-13 barcodes (one audit row for the load)."""
    combos = _combinations(count)
    brands: dict[str, Any] = {}
    brand_index: dict[str, int] = {}
    per_brand: dict[str, int] = {}
    skus, barcodes, lines, costs, velocities, brand_names = [], [], [], [], [], []
    for n, (line, brand, item, spec, price) in enumerate(combos, start=1):
        if brand and brand not in brands:
            brands[brand] = get_or_create_brand(brand)
        key = brand or "散装"
        brand_index.setdefault(key, len(brand_index))
        per_brand[key] = per_brand.get(key, 0) + 1
        spread = (0.5, 1.6) if line.by_weight else (0.9, 1.1)
        price_fen = round(price * rng.uniform(*spread) * 10) * 10
        cost_micros = int(price_fen * rng.uniform(0.62, 0.8)) * 10_000
        unit = "kg" if line.by_weight else "pcs"
        skus.append(
            Sku(
                code=f"{line.category}{n:06d}",
                name=" ".join(x for x in (brand, item, spec) if x),
                category=categories[line.category],
                brand=brands.get(brand),
                base_unit=unit,
                tracking=Tracking.LOT if line.lot_tracked else Tracking.NONE,
                shelf_life_days=line.shelf_life_days,
                storage=line.storage,
                retail_price_fen=price_fen,
                standard_cost_micros=cost_micros,
            )
        )
        barcodes.append(ean13(brand_index[key], per_brand[key]))
        lines.append(line)
        brand_names.append(brand)
        costs.append(cost_micros)
        velocities.append(line.velocity * rng.lognormvariate(0, 0.7))
    Sku.objects.bulk_create(skus, batch_size=2000)
    created = list(Sku.objects.filter(code__in=[s.code for s in skus]).order_by("code"))
    by_code = {s.code: s for s in created}
    Barcode.objects.bulk_create(
        [
            Barcode(sku=by_code[s.code], code=code, kind=BarcodeKind.EAN13, is_primary=True)
            for s, code in zip(skus, barcodes, strict=True)
        ],
        batch_size=2000,
    )
    audit.record(actor=actor, action="catalog.demo_load", data={"skus": len(skus)})
    _mark_movers(velocities, rng)
    return [
        DemoSku(by_code[s.code].pk, s.code, ln, c, v, b)
        for s, ln, c, v, b in zip(skus, lines, costs, velocities, brand_names, strict=True)
    ]


def _mark_movers(velocities: list[float], rng: random.Random) -> None:
    """A few bestsellers (爆款, x4) and a tail of slow movers (滞销, x0.05)."""
    order = list(range(len(velocities)))
    rng.shuffle(order)
    best = max(1, len(order) // 25)
    slow = len(order) // 8
    for i in order[:best]:
        velocities[i] *= 4
    for i in order[best : best + slow]:
        velocities[i] *= 0.05


def slot_skus(skus: list[DemoSku], sites: list[Site]) -> None:
    """Each SKU gets one bin per warehouse, in the zone matching its storage condition."""
    for site in sites:
        bins: dict[str, list[int]] = {}
        for loc_id, zone_storage in (
            Location.objects.filter(site=site, zone__isnull=False)
            .order_by("code")
            .values_list("id", "zone__storage")
        ):
            bins.setdefault(zone_storage, []).append(loc_id)
        counters: dict[str, int] = {}
        for sku in skus:
            pool = bins[sku.line.storage]
            k = counters.get(sku.line.storage, 0)
            counters[sku.line.storage] = k + 1
            sku.bin_by_site[site.pk] = pool[k % len(pool)]


def plan_stores(
    stores: list[Site], cdc: Site, rdc: Site, skus: list[DemoSku], rng: random.Random
) -> list[DemoStore]:
    """Store size factors and assortments (every SKU when the catalog is small)."""
    cap = 600
    out = []
    for site in stores:
        warehouse = rdc if site.city == "杭州" else cdc
        if len(skus) <= cap:
            assortment = list(range(len(skus)))
        else:
            assortment = sorted(rng.sample(range(len(skus)), cap))
        out.append(DemoStore(site, warehouse, rng.uniform(0.6, 1.6), assortment))
    return out
