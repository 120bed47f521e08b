import datetime as dt
from decimal import Decimal

import pytest

from chainstore.integrations.errors import BadFile
from chainstore.integrations.spreadsheet import read_sheet, write_csv, write_xlsx
from chainstore.integrations.tests.conftest import csv_bytes

HEADERS = ["编码", "名称"]
ROWS = [["A01", "食品"], ["A02", "饮料"]]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_encodings_parse_to_the_same_rows(encoding):
    sheet = read_sheet(csv_bytes(HEADERS, ROWS, encoding=encoding), "c.csv")
    assert sheet.headers == HEADERS
    assert sheet.rows == [(2, ["A01", "食品"]), (3, ["A02", "饮料"])]


def test_written_csv_has_a_bom_and_round_trips():
    data = write_csv(["code", "qty"], [["X", Decimal("1.500")]])
    assert data.startswith(b"\xef\xbb\xbf")
    assert read_sheet(data, "x.csv").rows == [(2, ["X", "1.5"])]


def test_xlsx_parses_numbers_and_dates_as_text():
    data = write_xlsx(
        ["code", "qty", "expiry", "barcode"],
        [["X", Decimal("2.25"), dt.date(2030, 1, 31), 6901234567892], ["Y", 3, None, "00123"]],
    )
    sheet = read_sheet(data, "x.xlsx")
    assert sheet.rows == [
        (2, ["X", "2.25", "2030-01-31", "6901234567892"]),
        (3, ["Y", "3", "", "00123"]),
    ]


def test_blank_rows_are_skipped_but_row_numbers_kept():
    data = b"code,name\r\nA,a\r\n,\r\nB,b\r\n"
    assert [n for n, _cells in read_sheet(data, "x.csv").rows] == [2, 4]


@pytest.mark.parametrize(
    ("data", "filename", "code"),
    [
        (b"", "x.csv", "empty_file"),
        (b"\x00\x01\x02garbage\xff\xfe", "x.csv", "not_a_spreadsheet"),
        (b"PK\x03\x04not really a zip", "x.xlsx", "not_a_spreadsheet"),
        (b"plain text", "x.xlsx", "not_a_spreadsheet"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "x.xls", "unsupported_format"),
        (b"\r\n\r\n", "x.csv", "empty_file"),
    ],
)
def test_bad_files_are_refused_with_a_clear_code(data, filename, code):
    with pytest.raises(BadFile) as exc:
        read_sheet(data, filename)
    assert exc.value.code == code
