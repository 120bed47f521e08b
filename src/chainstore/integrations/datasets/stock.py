"""Opening stock: one receipt of kind "opening" per site, keyed by the file's digest, so
importing the same file again moves nothing twice. Export = current balances, same columns."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chainstore.catalog.barcodes import gtin_lookup_keys, is_valid_gtin
from chainstore.catalog.models import Barcode, Sku
from chainstore.core.permissions import scope_site_ids
from chainstore.core.quantities import cost_to_micros, micros_to_cost, milli_to_qty, qty_to_milli
from chainstore.integrations import columns as c
from chainstore.integrations.datasets.base import CREATE, UNCHANGED, Dataset, Plan, Row
from chainstore.integrations.datasets.sites import scoped_sites
from chainstore.inventory import selectors as stock_selectors
from chainstore.inventory import services as inventory
from chainstore.inventory.models import Lot, OperationKind, SiteSku, StockOperation
from chainstore.sites.models import Location, Site


def opening_key(digest: str, site: Site) -> str:
    return f"import:opening:{digest[:40]}:{site.pk}"


class OpeningStockDataset(Dataset):
    name = "opening_stock"
    label = gettext_lazy("Opening stock")
    permission = "inventory.receive"
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
            "location_code",
            gettext_lazy("Location code"),
            c.text(40),
            aliases=("库位编码", "货位编码", "库位", "location"),
        ),
        c.column(
            "sku_code",
            gettext_lazy("SKU code"),
            c.text(40),
            aliases=("商品编码", "sku编码", "sku", "货号"),
        ),
        c.column("barcode", gettext_lazy("Barcode"), c.text(64), aliases=("条码", "条形码")),
        c.column(
            "quantity",
            gettext_lazy("Quantity"),
            c.decimal(3, positive=True),
            required=True,
            aliases=("数量", "库存数量", "期初数量"),
        ),
        c.column(
            "unit_cost",
            gettext_lazy("Unit cost"),
            c.decimal(6),
            aliases=("单位成本", "成本单价", "成本"),
        ),
        c.column("lot", gettext_lazy("Lot"), c.text(64), aliases=("批次", "批号", "lot_number")),
        c.column(
            "expiry",
            gettext_lazy("Expiry"),
            c.date,
            aliases=("效期", "到期日", "有效期至", "expiry_date"),
        ),
    )

    def validate(self, rows: list[Row], plan: Plan) -> None:
        refs = _References(rows)
        allowed = scope_site_ids(plan.actor)
        seen: dict[tuple[Any, ...], int] = {}
        lot_expiry: dict[tuple[int, str], tuple[dt.date | None, int]] = {}
        for i, row in enumerate(rows):
            plan.tick(i + 1, len(rows))
            site = self._site(row, plan, refs, allowed)
            sku = self._sku(row, plan, refs)
            location = self._location(row, plan, refs, site)
            if site is None or sku is None or location is None:
                continue
            lot, expiry = row.values.get("lot"), row.values.get("expiry")
            self._check_lot(row, plan, refs, site, sku, lot, expiry, lot_expiry)
            key = (site.pk, location.pk, sku.pk, lot or "")
            if row.ok and key in seen:
                plan.error(
                    row,
                    "sku_code" if row.raw["sku_code"] else "barcode",
                    "duplicate_in_file",
                    _("Same site, location, SKU and lot as row %(row)s.") % {"row": seen[key]},
                )
            if row.ok:
                seen.setdefault(key, row.number)
            if not row.ok:
                continue
            done = refs.already_imported(plan.digest, site)
            cost = row.values.get("unit_cost")
            line = inventory.ReceiptLine(
                sku=sku,
                quantity=qty_to_milli(row.values["quantity"]),
                unit_cost_micros=cost_to_micros(cost) if cost is not None else None,
                lot_number=lot or None,
                expiry_date=expiry if lot else None,
                location=location,
            )
            plan.add(
                row,
                UNCHANGED if done else CREATE,
                f"{site.code}/{location.code}/{sku.code}",
                site=site,
                line=line,
            )

    def _site(
        self, row: Row, plan: Plan, refs: _References, allowed: set[int] | None
    ) -> Site | None:
        code = row.values.get("site_code")
        if code is None:
            return None
        site = refs.sites.get(code)
        if site is None:
            plan.error(row, "site_code", "unknown_site", _("No site with this code."))
        elif allowed is not None and site.pk not in allowed:
            plan.error(row, "site_code", "site_out_of_scope", _("This site is outside your scope."))
            return None
        return site

    def _sku(self, row: Row, plan: Plan, refs: _References) -> Sku | None:
        code, barcode = row.values.get("sku_code"), row.values.get("barcode")
        if code is None and barcode is None:
            plan.error(row, "sku_code", "required", _("Give a SKU code or a barcode."))
            return None
        sku = refs.skus.get(code) if code is not None else None
        if code is not None and sku is None:
            plan.error(row, "sku_code", "unknown_sku", _("No SKU with this code."))
            return None
        if barcode is not None:
            by_barcode = refs.sku_by_barcode(barcode)
            if by_barcode is None:
                plan.error(row, "barcode", "unknown_barcode", _("No SKU has this barcode."))
                return None
            if sku is not None and by_barcode.pk != sku.pk:
                plan.error(
                    row,
                    "barcode",
                    "sku_barcode_mismatch",
                    _("The barcode belongs to SKU %(sku)s.") % {"sku": by_barcode.code},
                )
                return None
            sku = by_barcode
        return sku

    def _location(
        self, row: Row, plan: Plan, refs: _References, site: Site | None
    ) -> Location | None:
        if site is None:
            return None
        code = row.values.get("location_code")
        if code is None:
            return refs.locations.get((site.pk, site.receiving_location_id))
        location = refs.locations_by_code.get((site.pk, code))
        if location is None:
            plan.error(
                row,
                "location_code",
                "unknown_location",
                _("No location with this code at the site."),
            )
        return location

    def _check_lot(
        self,
        row: Row,
        plan: Plan,
        refs: _References,
        site: Site,
        sku: Sku,
        lot: str | None,
        expiry: dt.date | None,
        lot_expiry: dict[tuple[int, str], tuple[dt.date | None, int]],
    ) -> None:
        if row.raw["expiry"] and "expiry" not in row.values:
            return  # the date itself is already reported
        if not sku.is_lot_tracked:
            if lot:
                plan.error(
                    row,
                    "lot",
                    "lot_not_tracked",
                    _("This SKU is not lot-tracked; leave the lot empty."),
                )
            if expiry:
                plan.error(
                    row,
                    "expiry",
                    "lot_not_tracked",
                    _("This SKU is not lot-tracked; leave the expiry empty."),
                )
            return
        if not lot:
            plan.error(row, "lot", "lot_required", _("This SKU is lot-tracked: a lot is required."))
            return
        existing = refs.lots.get((sku.pk, lot))
        recorded = existing.expiry_date if existing else None
        if expiry is not None and recorded is not None and expiry != recorded:
            plan.error(
                row,
                "expiry",
                "lot_expiry_mismatch",
                _("The lot is recorded with expiry %(date)s.") % {"date": recorded},
            )
            return
        earlier = lot_expiry.get((sku.pk, lot))
        if (
            earlier is not None
            and expiry is not None
            and earlier[0] is not None
            and earlier[0] != expiry
        ):
            plan.error(
                row,
                "expiry",
                "lot_expiry_mismatch",
                _("Row %(row)s gives this lot another expiry.") % {"row": earlier[1]},
            )
            return
        lot_expiry.setdefault((sku.pk, lot), (expiry, row.number))
        effective = expiry or recorded
        if effective is None and existing is None and sku.shelf_life_days:
            plan.error(
                row, "expiry", "expiry_required", _("An expiry date is required for a new lot.")
            )
        elif effective is not None and effective < inventory.site_today(site):
            plan.error(
                row,
                "expiry",
                "expired_lot",
                _("This lot has already expired."),
                value=row.raw["expiry"] or effective.isoformat(),
            )

    def apply(self, plan: Plan) -> None:
        by_site: dict[int, list[Any]] = defaultdict(list)
        sites: dict[int, Site] = {}
        for action in plan.actions:
            if action.action == CREATE:
                site = action.payload["site"]
                sites[site.pk] = site
                by_site[site.pk].append(action.payload["line"])
        for i, (site_id, lines) in enumerate(sorted(by_site.items())):
            plan.tick(i + 1, len(by_site))
            site = sites[site_id]
            inventory.receive(
                site=site,
                lines=lines,
                actor=plan.actor,
                kind=OperationKind.OPENING,
                supplier=_("Opening stock"),
                reference=f"import:{plan.digest[:16]}",
                idempotency_key=opening_key(plan.digest, site),
            )

    def export_rows(self, *, actor: Any, site: Any = None) -> Iterator[list[Any]]:
        for s in scoped_sites(actor, site):
            costs = dict(SiteSku.objects.filter(site=s).values_list("sku_id", "avg_cost_micros"))
            for b in stock_selectors.site_stock(site=s, actor=actor).filter(on_hand__gt=0):
                yield [
                    s.code,
                    b.location.code,
                    b.sku.code,
                    "",
                    milli_to_qty(b.on_hand),
                    micros_to_cost(costs.get(b.sku_id, 0)),
                    b.lot.number if b.lot else "",
                    b.lot.expiry_date if b.lot and b.lot.expiry_date else "",
                ]


class _References:
    """Every site, location, SKU, barcode and lot the file names, fetched in a few queries."""

    def __init__(self, rows: list[Row]) -> None:
        site_codes = {r.values["site_code"] for r in rows if "site_code" in r.values}
        self.sites = {s.code: s for s in Site.objects.filter(code__in=site_codes)}
        locs = list(Location.objects.filter(site__in=self.sites.values(), is_virtual=False))
        self.locations: dict[tuple[int | None, int | None], Location] = {
            (loc.site_id, loc.pk): loc for loc in locs
        }
        self.locations_by_code = {(loc.site_id, loc.code): loc for loc in locs}
        sku_codes = {r.values["sku_code"] for r in rows if "sku_code" in r.values}
        barcodes = {r.values["barcode"] for r in rows if "barcode" in r.values}
        keys = set(barcodes)
        for code in barcodes:
            if code.isdigit() and is_valid_gtin(code):
                keys.update(gtin_lookup_keys(code))
        self.barcodes = {
            b.code: b.sku for b in Barcode.objects.filter(code__in=keys).select_related("sku")
        }
        self.skus = {s.code: s for s in Sku.objects.filter(code__in=sku_codes)}
        all_skus = [*self.skus.values(), *self.barcodes.values()]
        lot_numbers = {r.values["lot"] for r in rows if "lot" in r.values}
        self.lots = {
            (lot.sku_id, lot.number): lot
            for lot in Lot.objects.filter(sku__in=all_skus, number__in=lot_numbers)
        }
        self._imported: dict[int, bool] = {}

    def sku_by_barcode(self, code: str) -> Sku | None:
        if code in self.barcodes:
            return self.barcodes[code]
        if code.isdigit() and is_valid_gtin(code):
            for key in gtin_lookup_keys(code):
                if key in self.barcodes:
                    return self.barcodes[key]
        return None

    def already_imported(self, digest: str, site: Site) -> bool:
        if site.pk not in self._imported:
            self._imported[site.pk] = StockOperation.objects.filter(
                idempotency_key=opening_key(digest, site)
            ).exists()
        return self._imported[site.pk]
