"""Column specs and cell parsers: each parser turns one text cell into a value or raises
CellError(code, message); the importer turns those into row errors."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from chainstore.catalog.barcodes import is_valid_gtin
from chainstore.catalog.models import BarcodeKind


class CellError(Exception):
    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = str(message)
        super().__init__(self.message)


Parser = Callable[[str], Any]


@dataclass(frozen=True)
class Column:
    name: str
    label: Any  # lazy translated, for the UI and templates
    required: bool = False
    parse: Parser = str
    aliases: Sequence[str] = ()
    help: Any = ""

    def header_keys(self) -> list[str]:
        from chainstore.integrations.spreadsheet import normalise_header

        return [normalise_header(k) for k in (self.name, *self.aliases, str(self.label))]


def column(name: str, label: Any, parse: Parser = str, **kw: Any) -> Column:
    """`label` is a lazily translated string; its translation is also accepted as a header."""
    return Column(name=name, label=label, parse=parse, **kw)


# -- parsers ---------------------------------------------------------------------------
def text(max_length: int, *, no_spaces: bool = False) -> Parser:
    def parse(value: str) -> str:
        if len(value) > max_length:
            raise CellError("too_long", _("At most %(n)s characters.") % {"n": max_length})
        if no_spaces and any(c.isspace() for c in value):
            raise CellError("invalid_code", _("Codes cannot contain spaces."))
        return value

    return parse


def decimal(
    places: int,
    *,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
    positive: bool = False,
) -> Parser:
    def parse(value: str) -> Decimal:
        try:
            number = Decimal(value.replace(",", "").replace("¥", "").replace("￥", ""))
        except InvalidOperation:
            raise CellError("invalid_number", _("Not a number.")) from None
        if not number.is_finite():
            raise CellError("invalid_number", _("Not a number."))
        if number != number.quantize(Decimal(1).scaleb(-places)):
            raise CellError(
                "too_many_decimals",
                _("At most %(n)s decimal places.") % {"n": places},
            )
        if positive and number <= 0:
            raise CellError("not_positive", _("Must be greater than zero."))
        if number < 0 and (minimum is None or minimum >= 0):
            raise CellError("negative", _("Cannot be negative."))
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise CellError(
                "out_of_range",
                _("Must be between %(min)s and %(max)s.") % {"min": minimum, "max": maximum},
            )
        return number

    return parse


def integer(*, minimum: int = 0, maximum: int = 100_000) -> Parser:
    def parse(value: str) -> int:
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise CellError("invalid_number", _("Not a whole number.")) from None
        if not number.is_finite() or number != number.to_integral_value():
            raise CellError("invalid_number", _("Not a whole number."))
        if number < minimum or number > maximum:
            raise CellError(
                "out_of_range",
                _("Must be between %(min)s and %(max)s.") % {"min": minimum, "max": maximum},
            )
        return int(number)

    return parse


def choice(values: Sequence[str], aliases: dict[str, str] | None = None) -> Parser:
    table = {v.lower(): v for v in values}
    table.update({k.lower(): v for k, v in (aliases or {}).items()})

    def parse(value: str) -> str:
        found = table.get(value.strip().lower())
        if found is None:
            raise CellError(
                "invalid_choice", _("Use one of: %(values)s.") % {"values": ", ".join(values)}
            )
        return found

    return parse


def date(value: str) -> dt.date:
    text_value = value.strip().replace("/", "-").replace(".", "-")
    if " " in text_value:
        text_value = text_value.split(" ", 1)[0]
    try:
        return dt.date.fromisoformat(text_value)
    except ValueError:
        pass
    if len(text_value) == 8 and text_value.isdigit():  # 20260131
        try:
            return dt.date(int(text_value[:4]), int(text_value[4:6]), int(text_value[6:]))
        except ValueError:
            pass
    raise CellError("invalid_date", _("Not a date; write YYYY-MM-DD."))


def timezone_name(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise CellError("invalid_timezone", _("Unknown timezone (e.g. Asia/Shanghai).")) from None
    return value


def barcode_kind(code: str) -> str:
    """The barcode kind a code most likely is: by length and alphabet."""
    if code.isdigit() and len(code) == 13:
        return BarcodeKind.EAN13
    if code.isdigit() and len(code) == 12:
        return BarcodeKind.UPCA
    if code.isdigit() and len(code) == 14:
        return BarcodeKind.GTIN14
    if len(code) in (24, 32) and all(c in "0123456789abcdefABCDEF" for c in code):
        return BarcodeKind.EPC
    return BarcodeKind.INTERNAL


def barcodes(value: str) -> list[tuple[str, str]]:
    """'6901234567892|0012345678905' -> [(code, kind), ...]; bad check digits refused."""
    out: list[tuple[str, str]] = []
    for part in value.replace(";", "|").replace("；", "|").split("|"):
        code = part.strip()
        if not code:
            continue
        kind = barcode_kind(code)
        if kind in (BarcodeKind.EAN13, BarcodeKind.UPCA, BarcodeKind.GTIN14) and not (
            is_valid_gtin(code)
        ):
            raise CellError(
                "bad_check_digit",
                _("Barcode %(code)s: the check digit does not match.") % {"code": code},
            )
        if kind == BarcodeKind.EPC:
            code = code.upper()
        if len(code) > 64 or any(c.isspace() for c in code):
            raise CellError(
                "invalid_barcode",
                _("Barcode %(code)s: at most 64 characters, no spaces.") % {"code": code},
            )
        if code in [c for c, _k in out]:
            continue
        out.append((code, kind))
    return out
