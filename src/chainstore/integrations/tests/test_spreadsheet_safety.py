"""Spreadsheet safety: formula-like text stays text (and survives a round trip), and an XLSX
that unpacks to too much is refused before parsing."""

import io

from openpyxl import load_workbook

from chainstore.integrations.spreadsheet import read_sheet, write_csv, write_xlsx

HEADERS = ["code", "name", "quantity"]
ROWS = [["X1", '=HYPERLINK("http://evil","click")', "-2"], ["X2", "@SUM(A1)", "3"]]


def test_xlsx_export_writes_formula_like_text_as_text():
    book = load_workbook(io.BytesIO(write_xlsx(HEADERS, ROWS)))
    cell = book.active["B2"]
    assert cell.data_type == "s"
    assert cell.value == '=HYPERLINK("http://evil","click")'


def test_csv_export_escapes_formulas_and_import_restores_the_text():
    data = write_csv(HEADERS, ROWS)
    text = data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'@SUM" in text
    assert ",-2" in text  # numbers are left alone
    rows = [cells for _number, cells in read_sheet(data, "x.csv").rows]
    assert rows[0][1] == '=HYPERLINK("http://evil","click")'
    assert rows[1][1] == "@SUM(A1)"
    assert rows[0][2] == "-2"


def test_an_xlsx_that_unpacks_to_too_much_is_refused_before_parsing(monkeypatch):
    import pytest

    from chainstore.integrations import spreadsheet
    from chainstore.integrations.errors import BadFile

    data = write_xlsx(HEADERS, ROWS)
    monkeypatch.setattr(spreadsheet, "MAX_XLSX_UNCOMPRESSED", 100)
    with pytest.raises(BadFile) as refused:
        read_sheet(data, "x.xlsx")
    assert refused.value.code == "file_too_large"
