"""Back office use cases: price lists and their prices (HQ, pos.promotions).

A price list without stores applies chain-wide; with stores it is those stores' override
(see PriceList). Prices are set one at a time (by SKU code or a scan) or in bulk from a
spreadsheet of `sku_code,price` rows, with a dry run that lists every bad row; a bulk
import with any bad row changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from chainstore.catalog.errors import SkuNotFound
from chainstore.catalog.models import Sku
from chainstore.core import audit
from chainstore.core.errors import Conflict, DomainError, ValidationFailed
from chainstore.core.permissions import ensure_can
from chainstore.core.quantities import fen_to_money, money_to_fen
from chainstore.pos.models import PriceList, PriceListItem
from chainstore.pos.services.admin import (
    PRIORITY_LIMIT,
    check_code,
    check_window,
    stores_by_code,
    unique_or,
)
from chainstore.pos.services.admin_params import invalid

MAX_PRICE = Decimal("1000000")
MAX_IMPORT_ROWS = 50_000
CODE_HEADERS = {"skucode", "sku", "code", "商品编码", "sku编码", "编码"}
PRICE_HEADERS = {"price", "价格", "售价", "单价"}


@dataclass(frozen=True)
class PriceListInput:
    name: str
    stores: Sequence[str] = ()  # store codes; none = chain-wide
    priority: int = 0
    valid_from: dt.datetime | None = None
    valid_to: dt.datetime | None = None
    is_active: bool = True


@transaction.atomic
def create_price_list(*, code: str, data: PriceListInput, actor: Any) -> PriceList:
    ensure_can(actor, "pos.promotions")
    code = check_code(code, "code")
    stores = _check_list(data)
    ensure_can(actor, "pos.promotions", sites=[s.pk for s in stores])
    duplicate = Conflict(
        _("A price list with this code exists."), code="duplicate_price_list", field="code"
    )
    if PriceList.objects.filter(code=code).exists():
        raise duplicate
    with unique_or(duplicate):
        price_list = PriceList.objects.create(
            code=code,
            name=data.name.strip(),
            priority=data.priority,
            valid_from=data.valid_from,
            valid_to=data.valid_to,
            is_active=data.is_active,
        )
    price_list.stores.set(stores)
    audit.record(
        actor=actor,
        action="price_list.create",
        obj=price_list,
        to_state=_state(price_list),
        data=price_list_snapshot(price_list),
    )
    return price_list


@transaction.atomic
def update_price_list(*, price_list: PriceList, data: PriceListInput, actor: Any) -> PriceList:
    ensure_can(actor, "pos.promotions")
    price_list = PriceList.objects.select_for_update().get(pk=price_list.pk)
    stores = _check_list(data)
    old = list(price_list.stores.values_list("pk", flat=True))
    ensure_can(actor, "pos.promotions", sites=[*old, *(s.pk for s in stores)])
    before, before_state = price_list_snapshot(price_list), _state(price_list)
    price_list.name = data.name.strip()
    price_list.priority = data.priority
    price_list.valid_from = data.valid_from
    price_list.valid_to = data.valid_to
    price_list.is_active = data.is_active
    price_list.save()
    price_list.stores.set(stores)
    after = price_list_snapshot(price_list)
    audit.record(
        actor=actor,
        action="price_list.update",
        obj=price_list,
        from_state=before_state,
        to_state=_state(price_list),
        data={k: [before.get(k), v] for k, v in after.items() if before.get(k) != v},
    )
    return price_list


def _state(price_list: PriceList) -> str:
    return "active" if price_list.is_active else "inactive"


def _check_list(data: PriceListInput) -> list[Any]:
    if not data.name.strip() or len(data.name.strip()) > 100:
        invalid("name", _("A name of 1 to 100 characters is required."), code="missing_field")
    if not -PRIORITY_LIMIT <= data.priority <= PRIORITY_LIMIT:
        invalid("priority", _("The priority is out of range."))
    check_window(data.valid_from, data.valid_to)
    return stores_by_code("stores", data.stores)


def price_list_snapshot(price_list: PriceList) -> dict[str, Any]:
    return {
        "code": price_list.code,
        "name": price_list.name,
        "stores": sorted(price_list.stores.values_list("code", flat=True)),
        "priority": price_list.priority,
        "valid_from": price_list.valid_from.isoformat() if price_list.valid_from else None,
        "valid_to": price_list.valid_to.isoformat() if price_list.valid_to else None,
        "is_active": price_list.is_active,
    }


def _lock_list(price_list: PriceList, actor: Any) -> PriceList:
    """Check the list's stores are in scope and lock the list: price writes to one list
    queue (no racing inserts of the same SKU)."""
    ensure_can(actor, "pos.promotions", sites=price_list.stores.values_list("pk", flat=True))
    return PriceList.objects.select_for_update().get(pk=price_list.pk)


# -- prices --------------------------------------------------------------------------------
def find_sku(text: str) -> Sku:
    """A SKU by its code, else by anything the till could scan (barcode, GS1, scale code)."""
    text = (text or "").strip()
    if not text:
        invalid("sku", _("Enter a SKU code or scan a barcode."), code="missing_field")
    sku = Sku.objects.filter(code=text).first()
    if sku is not None:
        return sku
    try:
        from chainstore.pos.services.scan import scan_item
    except ImportError:  # pragma: no cover - the till's scan module is optional here
        from chainstore.catalog.services import resolve_scan

        return resolve_scan(text).sku
    return scan_item(text).sku


def parse_price(raw: Any, field_name: str = "price") -> int:
    """A price in yuan ("12.80", "¥12.8") -> fen; refuses negatives and more than 2 places."""
    text = str(raw if raw is not None else "").strip().replace("¥", "").replace("￥", "")
    text = text.replace(",", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        invalid(field_name, _("Not a price."), code="invalid_price")
    if not value.is_finite():
        invalid(field_name, _("A price has at most 2 decimal places."), code="invalid_price")
    if value < 0 or value > MAX_PRICE:  # first: quantize overflows on huge values
        invalid(field_name, _("A price is between 0 and 1,000,000."), code="invalid_price")
    if value != value.quantize(Decimal("0.01")):
        invalid(field_name, _("A price has at most 2 decimal places."), code="invalid_price")
    return money_to_fen(value)


@transaction.atomic
def set_price(*, price_list: PriceList, sku: Sku, price_fen: int, actor: Any) -> PriceListItem:
    """Add the SKU to the list at `price_fen`, or change its price there."""
    ensure_can(actor, "pos.promotions")
    price_list = _lock_list(price_list, actor)
    if not 0 <= price_fen <= MAX_PRICE * 100:
        invalid("price", _("A price is between 0 and 1,000,000."), code="invalid_price")
    item = PriceListItem.objects.select_for_update().filter(price_list=price_list, sku=sku).first()
    old = item.price_fen if item is not None else None
    if item is None:
        item = PriceListItem.objects.create(price_list=price_list, sku=sku, price_fen=price_fen)
    elif old != price_fen:
        item.price_fen = price_fen
        item.save(update_fields=["price_fen"])
    else:
        return item
    audit.record(
        actor=actor,
        action="price_list.set_price",
        obj=price_list,
        data={"sku": sku.code, "price": [_yuan(old), _yuan(price_fen)]},
    )
    return item


@transaction.atomic
def remove_price(*, price_list: PriceList, sku: Sku, actor: Any) -> None:
    ensure_can(actor, "pos.promotions")
    price_list = _lock_list(price_list, actor)
    item = PriceListItem.objects.filter(price_list=price_list, sku=sku).first()
    if item is None:
        raise SkuNotFound(_("This SKU is not on the price list."), sku=sku.code)
    item.delete()
    audit.record(
        actor=actor,
        action="price_list.remove_price",
        obj=price_list,
        data={"sku": sku.code, "price": [_yuan(item.price_fen), None]},
    )


def _yuan(fen: int | None) -> str | None:
    return None if fen is None else str(fen_to_money(fen))


# -- bulk --------------------------------------------------------------------------------
@dataclass
class PriceRow:
    row: int
    sku_code: str
    price: str
    sku_name: str = ""
    price_fen: int | None = None
    old_fen: int | None = None
    status: str = ""  # add | change | same | error
    error: str = ""
    sku_id: int | None = field(default=None, repr=False)


@dataclass
class PriceImport:
    rows: list[PriceRow]
    dry_run: bool
    applied: bool = False

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def errors(self) -> list[PriceRow]:
        return [r for r in self.rows if r.status == "error"]


def read_price_rows(data: bytes, filename: str = "") -> list[tuple[int, str, str]]:
    """(row number, SKU code, price) from a CSV/XLSX file with `sku_code,price` columns; a
    file without a header row is read from its first line."""
    from chainstore.integrations.spreadsheet import normalise_header, read_sheet

    sheet = read_sheet(data, filename)
    headers = [normalise_header(h) for h in sheet.headers]
    code_col = next((i for i, h in enumerate(headers) if h in CODE_HEADERS), None)
    price_col = next((i for i, h in enumerate(headers) if h in PRICE_HEADERS), None)
    rows = [(n, cells) for n, cells in sheet.rows]
    if code_col is None or price_col is None:
        if len(sheet.headers) >= 2 and _is_number(sheet.headers[1]):
            first = rows[0][0] - 1 if rows else 1
            rows.insert(0, (first, list(sheet.headers)))
            code_col, price_col = 0, 1
        else:
            raise ValidationFailed(
                _("The file needs the columns sku_code and price."), code="missing_columns"
            )
    if len(rows) > MAX_IMPORT_ROWS:
        raise ValidationFailed(_("Too many rows at once."), code="too_many_rows")
    return [(n, _cell(cells, code_col), _cell(cells, price_col)) for n, cells in rows]


def _cell(cells: list[str], index: int) -> str:
    return cells[index].strip() if index < len(cells) else ""


def _is_number(text: str) -> bool:
    try:
        Decimal(text.replace("¥", "").replace("￥", "").replace(",", "").strip())
    except InvalidOperation:
        return False
    return True


@transaction.atomic
def import_prices(
    *,
    price_list: PriceList,
    rows: Iterable[tuple[int, str, str]],
    dry_run: bool,
    actor: Any,
) -> PriceImport:
    """Check every row; unless a dry run (and only when no row is bad) apply them all."""
    ensure_can(actor, "pos.promotions")
    price_list = _lock_list(price_list, actor)
    report = PriceImport(rows=[PriceRow(n, c, p) for n, c, p in rows], dry_run=dry_run)
    if not report.rows:
        raise ValidationFailed(_("The file has no price rows."), code="empty_file")
    _check_rows(price_list, report.rows)
    if dry_run or report.errors:
        return report
    changes: dict[str, list[str | None]] = {}
    added: list[PriceListItem] = []
    for row in report.rows:
        if row.status not in ("add", "change") or row.sku_id is None or row.price_fen is None:
            continue
        if row.status == "add":
            added.append(
                PriceListItem(price_list=price_list, sku_id=row.sku_id, price_fen=row.price_fen)
            )
        else:
            PriceListItem.objects.filter(price_list=price_list, sku_id=row.sku_id).update(
                price_fen=row.price_fen
            )
        changes[row.sku_code] = [_yuan(row.old_fen), _yuan(row.price_fen)]
    PriceListItem.objects.bulk_create(added, batch_size=1000)
    report.applied = True
    audit.record(
        actor=actor,
        action="price_list.import",
        obj=price_list,
        data={"added": report.count("add"), "changed": report.count("change"), "prices": changes},
    )
    return report


def _check_rows(price_list: PriceList, rows: list[PriceRow]) -> None:
    codes = {r.sku_code for r in rows}
    skus = {s.code: s for s in Sku.objects.filter(code__in=codes)}
    current = dict(
        PriceListItem.objects.select_for_update()
        .filter(price_list=price_list)
        .values_list("sku_id", "price_fen")
    )
    seen: set[str] = set()
    for row in rows:
        sku = skus.get(row.sku_code)
        try:
            if not row.sku_code:
                raise ValidationFailed(_("The SKU code is empty."))
            if sku is None:
                raise ValidationFailed(_("Unknown SKU code."))
            if row.sku_code in seen:
                raise ValidationFailed(_("This SKU appears twice in the file."))
            row.price_fen = parse_price(row.price)
        except DomainError as exc:
            row.status, row.error = "error", exc.message
            continue
        finally:
            seen.add(row.sku_code)
        assert sku is not None
        row.sku_id, row.sku_name = sku.pk, sku.name
        row.old_fen = current.get(sku.pk)
        if row.old_fen is None:
            row.status = "add"
        else:
            row.status = "same" if row.old_fen == row.price_fen else "change"
