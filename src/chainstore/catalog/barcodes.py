"""Barcode validation and scan parsing (GS1 via biip)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import biip
from biip.gs1_messages import GS1Message

from chainstore.catalog.errors import InvalidBarcode
from chainstore.catalog.models import BarcodeKind

GS = "\x1d"
_EPC_RE = re.compile(r"^[0-9A-Fa-f]{24}$|^[0-9A-Fa-f]{32}$")
_SYMBOLOGY_RE = re.compile(r"^\][A-Za-z][0-9A-Za-z]")


def gtin_check_digit(payload: str) -> int:
    """GS1 mod-10 check digit for the digits before the check digit."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def is_valid_gtin(code: str) -> bool:
    return (
        code.isdigit()
        and len(code) in (8, 12, 13, 14)
        and gtin_check_digit(code[:-1]) == int(code[-1])
    )


def normalise_barcode(code: str, kind: str) -> str:
    """Validate a barcode of the given kind and return its stored form."""
    code = code.strip()
    if kind == BarcodeKind.EAN13:
        if len(code) != 13 or not is_valid_gtin(code):
            raise InvalidBarcode(
                "Not a valid EAN-13 (13 digits, correct check digit).",
                code=None,
                barcode=code,
                kind=kind,
            )
    elif kind == BarcodeKind.UPCA:
        if len(code) != 12 or not is_valid_gtin(code):
            raise InvalidBarcode(
                "Not a valid UPC-A (12 digits, correct check digit).", barcode=code, kind=kind
            )
    elif kind == BarcodeKind.GTIN14:
        if len(code) != 14 or not is_valid_gtin(code):
            raise InvalidBarcode("Not a valid GTIN-14.", barcode=code, kind=kind)
    elif kind == BarcodeKind.EPC:
        if not _EPC_RE.match(code):
            raise InvalidBarcode("An RFID EPC is 24 or 32 hex characters.", barcode=code, kind=kind)
        code = code.upper()
    elif kind == BarcodeKind.INTERNAL:
        if not code or len(code) > 64 or any(c.isspace() for c in code):
            raise InvalidBarcode(
                "An internal code is 1-64 characters without spaces.", barcode=code, kind=kind
            )
    else:
        raise InvalidBarcode("Unknown barcode kind.", barcode=code, kind=kind)
    return code


def gtin_lookup_keys(gtin: str) -> list[str]:
    """Stored forms under which a GTIN may be registered (GTIN-14 and its shorter forms)."""
    g14 = gtin.zfill(14)
    keys = [g14, g14[1:]]  # GTIN-14, EAN-13
    if g14.startswith("00"):
        keys.append(g14[2:])  # UPC-A
    return list(dict.fromkeys(keys))


@dataclass(frozen=True)
class ParsedScan:
    raw: str
    kind: str  # gtin | gs1 | epc | internal
    gtin: str | None = None
    lot: str | None = None
    expiry: dt.date | None = None
    serial: str | None = None
    lookup_code: str | None = None


def parse_scan(raw: str) -> ParsedScan:
    """Interpret one raw scan: EAN/UPC/GTIN, GS1 element string (HRI or FNC1/GS), EPC, code."""
    text = raw.strip().replace("<GS>", GS)
    if not text:
        raise InvalidBarcode("Empty scan.", code="empty_scan")
    body = _SYMBOLOGY_RE.sub("", text, count=1) if text.startswith("]") else text
    if body.isdigit() and len(body) in (8, 12, 13, 14):
        if not is_valid_gtin(body):
            raise InvalidBarcode(
                "The check digit does not match.", code="bad_check_digit", barcode=body
            )
        return ParsedScan(raw=raw, kind="gtin", gtin=body.zfill(14))
    if _EPC_RE.match(body) and not body.isdigit():
        return ParsedScan(raw=raw, kind="epc", lookup_code=body.upper())
    gs1 = _parse_gs1(text, body)
    if gs1 is not None:
        return gs1
    return ParsedScan(raw=raw, kind="internal", lookup_code=body)


def _parse_gs1(text: str, body: str) -> ParsedScan | None:
    message = None
    try:
        if body.startswith("("):
            message = GS1Message.parse_hri(body)
        elif body[:2].isdigit() and (
            GS in body or (body.startswith(("01", "02")) and len(body) > 16)
        ):
            message = biip.parse(text).gs1_message
    except Exception:  # biip raises its own ParseError subclasses
        message = None
    if message is None:
        looks_gs1 = body[:2] in ("01", "02") and is_valid_gtin(body[2:16])
        if body.startswith("(") or GS in body or (looks_gs1 and len(body) > 16):
            raise InvalidBarcode(
                "Not a valid GS1 element string.", code="invalid_gs1", barcode=body
            )
        return None
    values: dict[str, str] = {}
    expiry: dt.date | None = None
    for element in message.element_strings:
        values[element.ai.ai] = element.value
        if element.ai.ai == "17":
            expiry = element.date
    gtin = values.get("01") or values.get("02")
    if gtin is None:
        raise InvalidBarcode(
            "The GS1 string has no GTIN (AI 01).", code="gs1_without_gtin", barcode=body
        )
    if not is_valid_gtin(gtin):
        raise InvalidBarcode(
            "The GTIN check digit does not match.", code="bad_check_digit", barcode=gtin
        )
    return ParsedScan(
        raw=text,
        kind="gs1",
        gtin=gtin,
        lot=values.get("10"),
        expiry=expiry,
        serial=values.get("21"),
    )
