import datetime as dt

import pytest

from chainstore.catalog.barcodes import gtin_check_digit, is_valid_gtin, parse_scan
from chainstore.catalog.errors import InvalidBarcode

GS = "\x1d"
GTIN = "06901234567892"  # EAN-13 6901234567892 as GTIN-14


@pytest.mark.parametrize(
    ("payload", "digit"),
    [("690123456789", 2), ("03600029145", 2), ("400638133393", 1), ("1690123456789", 9)],
)
def test_check_digit(payload, digit):
    assert gtin_check_digit(payload) == digit
    assert is_valid_gtin(payload + str(digit))
    assert not is_valid_gtin(payload + str((digit + 1) % 10))


@pytest.mark.parametrize(
    ("raw", "gtin"),
    [
        ("6901234567892", GTIN),  # EAN-13
        ("036000291452", "00036000291452"),  # UPC-A
        ("16901234567899", "16901234567899"),  # GTIN-14
        ("  6901234567892\n", GTIN),  # scanner suffix
    ],
)
def test_plain_gtins(raw, gtin):
    scan = parse_scan(raw)
    assert (scan.kind, scan.gtin, scan.lot, scan.expiry) == ("gtin", gtin, None, None)


@pytest.mark.parametrize("raw", ["6901234567893", "036000291453", "16901234567890"])
def test_bad_check_digit(raw):
    with pytest.raises(InvalidBarcode) as exc:
        parse_scan(raw)
    assert exc.value.code == "bad_check_digit"
    assert exc.value.status == 422


def test_hri_with_parentheses():
    scan = parse_scan(f"(01){GTIN}(17)271231(10)LOT-A1(21)SN0001")
    assert (scan.kind, scan.gtin, scan.lot, scan.serial) == ("gs1", GTIN, "LOT-A1", "SN0001")
    assert scan.expiry == dt.date(2027, 12, 31)


def test_raw_element_string_with_fnc1_as_gs():
    scan = parse_scan(f"01{GTIN}10B-77{GS}17270630{GS}21X9")
    assert (scan.gtin, scan.lot, scan.expiry, scan.serial) == (
        GTIN,
        "B-77",
        dt.date(2027, 6, 30),
        "X9",
    )


def test_gs_written_as_placeholder():
    scan = parse_scan(f"01{GTIN}10B-77<GS>17270630")
    assert (scan.lot, scan.expiry) == ("B-77", dt.date(2027, 6, 30))


@pytest.mark.parametrize("prefix", ["]C1", "]d2", "]Q3"])
def test_symbology_identifiers(prefix):
    scan = parse_scan(f"{prefix}01{GTIN}17271231" + f"10L1{GS}21S1")
    assert (scan.kind, scan.gtin, scan.lot, scan.serial) == ("gs1", GTIN, "L1", "S1")
    assert scan.expiry == dt.date(2027, 12, 31)


def test_symbology_identifier_on_a_plain_ean():
    assert parse_scan("]E06901234567892").gtin == GTIN


def test_expiry_day_00_means_end_of_month():
    assert parse_scan(f"(01){GTIN}(17)280200").expiry == dt.date(2028, 2, 29)
    assert parse_scan(f"(01){GTIN}(17)270200").expiry == dt.date(2027, 2, 28)


def test_epc_and_internal_codes():
    epc = parse_scan("3034257bf7194e4000001a85")
    assert (epc.kind, epc.lookup_code) == ("epc", "3034257BF7194E4000001A85")
    internal = parse_scan("SKU-康师傅-01")
    assert (internal.kind, internal.lookup_code) == ("internal", "SKU-康师傅-01")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (f"(01){GTIN}(17)271331", "invalid_gs1"),  # month 13
        ("(01)06901234567893(10)L", "bad_check_digit"),
        ("(10)LOT-ONLY", "gs1_without_gtin"),
        (f"01{GTIN}99", "invalid_gs1"),
        (f"01{GTIN}17271331", "invalid_gs1"),  # raw form of the same bad date
        ("   ", "empty_scan"),
    ],
)
def test_bad_gs1(raw, code):
    with pytest.raises(InvalidBarcode) as exc:
        parse_scan(raw)
    assert exc.value.code == code
