"""Read and write spreadsheets: CSV (UTF-8 with/without BOM, GB18030) and XLSX (openpyxl).

Reading gives every cell as a stripped string, so the column parsers see one type whatever
the file format; rows are numbered as the spreadsheet shows them (the header is row 1).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from chainstore.integrations.errors import BadFile

MAX_ROWS = 200_000
MAX_XLSX_UNCOMPRESSED = 256 * 1024 * 1024  # a zip bomb is refused before openpyxl opens it
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_HEADER_STRIP = re.compile(r"[\s_\-*＊:：()（）\[\]【】]+")


@dataclass
class Sheet:
    headers: list[str]  # as written in the file
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (row number, cells)


def normalise_header(text: str) -> str:
    """Lower case without spaces, underscores, dashes, required markers or brackets."""
    return _HEADER_STRIP.sub("", str(text or "")).lower()


def file_format(filename: str, data: bytes) -> str:
    """'csv' or 'xlsx' from the content (magic bytes) first, then the name."""
    name = (filename or "").lower()
    if data.startswith(_ZIP_MAGIC):
        return "xlsx"
    if data.startswith(_OLE_MAGIC) or name.endswith(".xls"):
        raise BadFile(
            _("Old .xls workbooks are not supported: save the file as .xlsx or CSV."),
            code="unsupported_format",
        )
    if name.endswith((".xlsx", ".xlsm")):
        raise BadFile(_("The file is not a valid XLSX workbook."), code="not_a_spreadsheet")
    return "csv"


def read_sheet(data: bytes, filename: str = "") -> Sheet:
    if not data or not data.strip():
        raise BadFile(_("The file is empty."), code="empty_file")
    if file_format(filename, data) == "xlsx":
        raw_rows: Iterable[tuple[int, list[str]]] = _xlsx_rows(data)
    else:
        raw_rows = _csv_rows(decode_text(data))
    sheet: Sheet | None = None
    for number, cells in raw_rows:
        if sheet is None:
            if not any(cells):
                continue  # blank lines above the header
            sheet = Sheet(headers=_trim(cells))
            continue
        if not any(cells):
            continue
        if len(sheet.rows) >= MAX_ROWS:
            raise BadFile(
                _("The file has more than %(max)s rows; split it.") % {"max": MAX_ROWS},
                code="too_many_rows",
            )
        sheet.rows.append((number, cells))
    if sheet is None:
        raise BadFile(_("The file has no header row."), code="missing_header")
    return sheet


def _trim(cells: list[str]) -> list[str]:
    while cells and not cells[-1]:
        cells = cells[:-1]
    return cells


def decode_text(data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise BadFile(
            _("This is not a CSV or XLSX file (it contains binary data)."),
            code="not_a_spreadsheet",
        )
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ["utf-8-sig"]
    else:
        encodings = ["utf-8", "gb18030"]
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BadFile(
        _("The file's text encoding is not UTF-8 or GB18030; save it as CSV UTF-8."),
        code="bad_encoding",
    )


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_rows(text: str) -> Iterable[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        for number, row in enumerate(reader, start=1):
            yield number, [_unescape(cell.strip()) for cell in row]
    except csv.Error as exc:
        raise BadFile(
            _("The CSV file could not be read: %(error)s") % {"error": exc}, code="bad_csv"
        ) from None


def _xlsx_rows(data: bytes) -> Iterable[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    _check_unpacked_size(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise BadFile(
            _("The file is not a valid XLSX workbook."), code="not_a_spreadsheet", error=str(exc)
        ) from None
    except Exception as exc:  # openpyxl raises its own InvalidFileException and others
        raise BadFile(
            _("The file is not a valid XLSX workbook."), code="not_a_spreadsheet", error=str(exc)
        ) from None
    try:
        sheet = workbook.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [cell_text(value) for value in row]
    finally:
        workbook.close()


def _check_unpacked_size(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        return  # load_workbook reports it as not a workbook
    if unpacked > MAX_XLSX_UNCOMPRESSED:
        raise BadFile(
            _("The workbook unpacks to more than %(mb)s MB; split it.")
            % {"mb": MAX_XLSX_UNCOMPRESSED // (1024 * 1024)},
            code="file_too_large",
        )


def cell_text(value: Any) -> str:
    """One spreadsheet cell as text: integral floats without '.0', dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return plain_decimal(value)
    return str(value).strip()


def plain_decimal(value: Decimal) -> str:
    """12.500 -> '12.5', 100 -> '100' (never exponent notation)."""
    text = format(value.normalize(), "f")
    return text


# -- writing ---------------------------------------------------------------------------
# Text starting with one of these is a formula to Excel/WPS ("CSV injection"): exported text
# gets a leading apostrophe in CSV (stripped again on import) and is typed as text in XLSX.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def _escape(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) and not _is_number(text) else text


def _unescape(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_START) else text


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a BOM, so Excel opens Chinese text correctly."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_value(value: Any) -> str:
    if isinstance(value, Decimal):
        return plain_decimal(value)
    return _escape(cell_text(value)) if isinstance(value, str) else cell_text(value)


def write_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "data") -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31] or "data")
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([_xlsx_cell(sheet, v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    from openpyxl.cell import WriteOnlyCell

    value = _xlsx_value(value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # text, never a formula
        return cell
    return value


def _xlsx_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)  # 3-6 decimal places survive a float's shortest repr
    if isinstance(value, (int, dt.date, str)):
        return value
    return str(value)


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def write_file(fmt: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    if fmt == "xlsx":
        return write_xlsx(headers, rows)
    if fmt == "csv":
        return write_csv(headers, rows)
    raise BadFile(_("The format is csv or xlsx."), code="unsupported_format", format=fmt)
