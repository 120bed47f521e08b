"""Categories and SKUs (with barcodes): validate every row, then create or update."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chainstore.catalog import services as catalog
from chainstore.catalog.models import Barcode, Category, Sku, Storage, Tracking
from chainstore.core.quantities import cost_to_micros, fen_to_money, micros_to_cost, money_to_fen
from chainstore.integrations import columns as c
from chainstore.integrations.datasets.base import CREATE, UNCHANGED, UPDATE, Dataset, Plan, Row
from chainstore.inventory.models import StockMove

TRACKING_ALIASES = {
    "无": "none",
    "不管理": "none",
    "批次": "lot",
    "批号": "lot",
    "序列号": "serial",
}
STORAGE_ALIASES = {"常温": "ambient", "冷藏": "chilled", "冷冻": "frozen"}


class CategoriesDataset(Dataset):
    name = "categories"
    label = gettext_lazy("Categories")
    permission = "catalog.manage"
    columns = (
        c.column(
            "code",
            gettext_lazy("Code"),
            c.text(32, no_spaces=True),
            required=True,
            aliases=("编码", "分类编码", "代码"),
        ),
        c.column(
            "name", gettext_lazy("Name"), c.text(100), required=True, aliases=("名称", "分类名称")
        ),
        c.column(
            "parent_code",
            gettext_lazy("Parent code"),
            c.text(32),
            aliases=("上级编码", "父级编码", "上级分类编码", "parent"),
        ),
    )

    def validate(self, rows: list[Row], plan: Plan) -> None:
        self.find_duplicates(rows, plan, "code", lambda r: r.values["code"])
        codes = {r.values["code"] for r in rows if "code" in r.values}
        wanted = codes | {r.values["parent_code"] for r in rows if "parent_code" in r.values}
        existing = {
            cat.code: cat
            for cat in Category.objects.filter(code__in=wanted).select_related("parent")
        }
        in_file = {r.values["code"]: r for r in rows if r.ok and "code" in r.values}
        for row in rows:
            parent = row.values.get("parent_code")
            if parent is None:
                continue
            if parent == row.values.get("code"):
                plan.error(
                    row, "parent_code", "cyclic_parent", _("A category cannot be its own parent.")
                )
            elif parent not in existing and parent not in codes:
                plan.error(
                    row,
                    "parent_code",
                    "unknown_category",
                    _("No category with this code in the database or the file."),
                )
        order = self._parents_first(rows, in_file, plan)
        for row in order:
            code = row.values["code"]
            current = existing.get(code)
            if current is None:
                plan.add(
                    row, CREATE, code, name=row.values["name"], parent=row.values.get("parent_code")
                )
                continue
            same_parent = (current.parent.code if current.parent else None) == row.values.get(
                "parent_code"
            )
            if current.name == row.values["name"] and same_parent:
                plan.add(row, UNCHANGED, code)
            else:
                plan.error(
                    row,
                    "code",
                    "category_exists",
                    _("This category exists with another name or parent; import cannot change it."),
                )

    def _parents_first(self, rows: list[Row], in_file: dict[str, Row], plan: Plan) -> list[Row]:
        done: set[str] = set()
        order: list[Row] = []
        for row in rows:
            if not row.ok or "code" not in row.values:
                continue
            chain: list[Row] = []
            node: Row | None = row
            while node is not None and node.values["code"] not in done:
                if node in chain:
                    plan.error(
                        row, "parent_code", "cyclic_parent", _("The parent codes form a cycle.")
                    )
                    chain = []
                    break
                chain.append(node)
                parent = node.values.get("parent_code")
                node = in_file.get(parent) if parent else None
            for item in reversed(chain):
                if item.ok and item.values["code"] not in done:
                    done.add(item.values["code"])
                    order.append(item)
        return [r for r in order if r.ok]

    def apply(self, plan: Plan) -> None:
        cache: dict[str, Category] = {}
        for i, action in enumerate(plan.actions):
            plan.tick(i + 1, len(plan.actions))
            if action.action != CREATE:
                continue
            parent_code = action.payload["parent"]
            parent = None
            if parent_code:
                parent = cache.get(parent_code) or Category.objects.get(code=parent_code)
            cache[action.key] = catalog.create_category(
                code=action.key, name=action.payload["name"], parent=parent, actor=plan.actor
            )

    def export_rows(self, *, actor: Any, site: Any = None) -> Iterator[list[Any]]:
        for cat in Category.objects.select_related("parent").order_by("code"):
            yield [cat.code, cat.name, cat.parent.code if cat.parent else ""]


SKU_FIELD_OF = {
    "category_code": "category",
    "brand": "brand",
    "base_unit": "base_unit",
    "tracking": "tracking",
    "shelf_life_days": "shelf_life_days",
    "storage": "storage",
    "retail_price": "retail_price_fen",
    "standard_cost": "standard_cost_micros",
    "weight_g": "weight_g",
}


class SkusDataset(Dataset):
    name = "skus"
    label = gettext_lazy("SKUs")
    permission = "catalog.manage"
    columns = (
        c.column(
            "code",
            gettext_lazy("Code"),
            c.text(40, no_spaces=True),
            required=True,
            aliases=("编码", "商品编码", "sku编码", "sku", "货号"),
        ),
        c.column(
            "name",
            gettext_lazy("Name"),
            c.text(200),
            required=True,
            aliases=("名称", "商品名称", "品名"),
        ),
        c.column(
            "category_code",
            gettext_lazy("Category code"),
            c.text(32),
            aliases=("分类编码", "类别编码", "分类", "category"),
        ),
        c.column("brand", gettext_lazy("Brand"), c.text(100), aliases=("品牌",)),
        c.column(
            "base_unit", gettext_lazy("Base unit"), c.text(16), aliases=("单位", "基本单位", "unit")
        ),
        c.column(
            "tracking",
            gettext_lazy("Tracking"),
            c.choice(Tracking.values, TRACKING_ALIASES),
            aliases=("追踪方式", "批次管理"),
        ),
        c.column(
            "shelf_life_days",
            gettext_lazy("Shelf life (days)"),
            c.integer(maximum=36500),
            aliases=("保质期天数", "保质期", "保质期(天)"),
        ),
        c.column(
            "storage",
            gettext_lazy("Storage"),
            c.choice(Storage.values, STORAGE_ALIASES),
            aliases=("储存条件", "存储条件", "温层"),
        ),
        c.column(
            "retail_price", gettext_lazy("Retail price"), c.decimal(2), aliases=("零售价", "售价")
        ),
        c.column(
            "standard_cost",
            gettext_lazy("Standard cost"),
            c.decimal(6),
            aliases=("标准成本", "成本价"),
        ),
        c.column(
            "weight_g",
            gettext_lazy("Weight (g)"),
            c.integer(maximum=10_000_000),
            aliases=("重量", "重量(克)", "毛重(g)", "weight"),
        ),
        c.column(
            "barcodes", gettext_lazy("Barcodes"), c.barcodes, aliases=("条码", "条形码", "barcode")
        ),
    )

    def validate(self, rows: list[Row], plan: Plan) -> None:
        self.find_duplicates(rows, plan, "code", lambda r: r.values["code"])
        codes = {r.values["code"] for r in rows if "code" in r.values}
        skus = {
            s.code: s
            for s in Sku.objects.filter(code__in=codes).select_related("category", "brand")
        }
        categories = {
            cat.code: cat
            for cat in Category.objects.filter(
                code__in={r.values["category_code"] for r in rows if "category_code" in r.values}
            )
        }
        all_codes = [b for r in rows for b, _k in r.values.get("barcodes", [])]
        owners = dict(Barcode.objects.filter(code__in=all_codes).values_list("code", "sku__code"))
        moved = set(
            StockMove.objects.filter(sku__in=skus.values())
            .values_list("sku__code", flat=True)
            .distinct()
        )
        seen_barcodes: dict[str, int] = {}
        for row in rows:
            for code, _kind in row.values.get("barcodes", []):
                owner = owners.get(code)
                if code in seen_barcodes:
                    plan.error(
                        row,
                        "barcodes",
                        "duplicate_in_file",
                        _("Barcode %(code)s is also on row %(row)s.")
                        % {"code": code, "row": seen_barcodes[code]},
                    )
                elif owner is not None and owner != row.values.get("code"):
                    plan.error(
                        row,
                        "barcodes",
                        "barcode_taken",
                        _("Barcode %(code)s belongs to SKU %(sku)s.")
                        % {"code": code, "sku": owner},
                    )
                seen_barcodes.setdefault(code, row.number)
            category = row.values.get("category_code")
            if category is not None and category not in categories:
                plan.error(
                    row,
                    "category_code",
                    "unknown_category",
                    _("No category with this code in the database."),
                )
            existing = skus.get(row.values.get("code", ""))
            if (
                existing is not None
                and existing.code in moved
                and row.values.get("tracking", existing.tracking) != existing.tracking
            ):
                plan.error(
                    row,
                    "tracking",
                    "tracking_locked",
                    _("The SKU has stock moves; its tracking cannot change."),
                )
            if row.ok:
                self._plan_row(row, plan, existing, categories, owners)

    def _plan_row(
        self,
        row: Row,
        plan: Plan,
        sku: Sku | None,
        categories: dict[str, Category],
        owners: dict[str, str],
    ) -> None:
        fields = self._fields(row, categories)
        new_barcodes = [(b, k) for b, k in row.values.get("barcodes", []) if b not in owners]
        if sku is None:
            plan.add(
                row,
                CREATE,
                row.values["code"],
                name=row.values["name"],
                fields=fields,
                barcodes=new_barcodes,
            )
            return
        changed = {k: v for k, v in fields.items() if _current(sku, k) != _comparable(v)}
        if row.values["name"] != sku.name:
            changed["name"] = row.values["name"]
        action = UPDATE if changed or new_barcodes else UNCHANGED
        plan.add(row, action, sku.code, sku=sku, fields=changed, barcodes=new_barcodes)

    @staticmethod
    def _fields(row: Row, categories: dict[str, Category]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for column, field_name in SKU_FIELD_OF.items():
            if column not in row.values:
                continue  # blank or absent: default on create, unchanged on update
            value = row.values[column]
            if column == "category_code":
                value = categories[value]
            elif column == "retail_price":
                value = money_to_fen(value)
            elif column == "standard_cost":
                value = cost_to_micros(value)
            fields[field_name] = value
        return fields

    def apply(self, plan: Plan) -> None:
        for i, action in enumerate(plan.actions):
            plan.tick(i + 1, len(plan.actions))
            if action.action == UNCHANGED:
                continue
            fields = dict(action.payload["fields"])
            if isinstance(fields.get("brand"), str):
                fields["brand"] = catalog.get_or_create_brand(fields["brand"])
            if action.action == CREATE:
                catalog.create_sku(
                    code=action.key,
                    name=action.payload["name"],
                    actor=plan.actor,
                    barcodes=action.payload["barcodes"],
                    **fields,
                )
                continue
            sku: Sku = action.payload["sku"]
            if fields:
                catalog.update_sku(sku=sku, actor=plan.actor, **fields)
            has_primary = sku.barcodes.filter(is_primary=True).exists()
            for j, (code, kind) in enumerate(action.payload["barcodes"]):
                catalog.add_barcode(
                    sku=sku,
                    code=code,
                    kind=kind,
                    actor=plan.actor,
                    primary=not has_primary and j == 0,
                )

    def export_rows(self, *, actor: Any, site: Any = None) -> Iterator[list[Any]]:
        qs = (
            Sku.objects.select_related("category", "brand")
            .prefetch_related("barcodes")
            .order_by("code")
        )
        for sku in qs.iterator(chunk_size=2000):
            codes = sorted(sku.barcodes.all(), key=lambda b: (not b.is_primary, b.pk))
            yield [
                sku.code,
                sku.name,
                sku.category.code if sku.category else "",
                sku.brand.name if sku.brand else "",
                sku.base_unit,
                sku.tracking,
                sku.shelf_life_days if sku.shelf_life_days is not None else "",
                sku.storage,
                fen_to_money(sku.retail_price_fen),
                micros_to_cost(sku.standard_cost_micros),
                sku.weight_g if sku.weight_g is not None else "",
                "|".join(b.code for b in codes),
            ]


def _current(sku: Sku, field_name: str) -> Any:
    if field_name == "category":
        return sku.category_id
    if field_name == "brand":
        return sku.brand.name if sku.brand else None
    return getattr(sku, field_name)


def _comparable(value: Any) -> Any:
    if isinstance(value, Category):
        return value.pk
    if isinstance(value, Decimal):
        return value
    return value
