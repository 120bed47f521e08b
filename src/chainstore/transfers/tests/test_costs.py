"""The transfer cost report: exact figures against hand-computed data, Shanghai month
boundaries, scope, and the CSV / XLSX files."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from chainstore.core.errors import PermissionDenied, ValidationFailed
from chainstore.core.quantities import value_fen
from chainstore.core.testing import make_user
from chainstore.transfers.services.costs import (
    export_cost_report,
    month_range,
    parse_month,
    transfer_cost_report,
)
from chainstore.transfers.tests.costs_world import cost_world, shipped_transfer

JAN, FEB = dt.date(2026, 1, 1), dt.date(2026, 2, 1)


def _figures(row):
    return (
        row.transfers,
        row.lines,
        row.units_milli,
        row.goods_value_fen,
        row.transfer_cost_fen,
        row.cost_per_unit_fen,
        row.cost_percent,
    )


@pytest.mark.django_db
def test_figures_per_store_and_month_match_the_hand_computation(admin):
    w = cost_world(admin)

    report = transfer_cost_report(actor=admin, month_from=JAN, month_to=FEB)

    by_key = {(r.site.code, r.month): _figures(r) for r in report.rows}
    assert by_key == {
        # 10 x 3.333333 = 33.33333 + 2.5 x 12.50 = 31.25 -> 64.58333 -> 64.58; 1800 / 12.5
        ("SA01", JAN): (1, 2, 12_500, 6458, 1800, Decimal("144.00"), Decimal("27.87")),
        # shipped 00:30 on 1 February in Shanghai (still 31 January in UTC)
        ("SA01", FEB): (1, 1, 4_000, 1333, 300, Decimal("75.00"), Decimal("22.51")),
        # T3 (23:59 on 31 January Shanghai) + T4 (00:00 on 1 January Shanghai)
        ("SB01", JAN): (2, 2, 4_000, 1500, 1006, Decimal("251.50"), Decimal("67.07")),
    }
    totals = {r.site.code: _figures(r) for r in report.site_totals}
    # 77.916662 yuan of goods -> 77.92 (rounded once, not 64.58 + 13.33 = 77.91)
    assert totals["SA01"] == (2, 3, 16_500, 7792, 2100, Decimal("127.27"), Decimal("26.95"))
    assert totals["SB01"] == (2, 2, 4_000, 1500, 1006, Decimal("251.50"), Decimal("67.07"))
    assert [
        (r.month, r.transfers, r.goods_value_fen, r.transfer_cost_fen) for r in report.month_totals
    ] == [
        (JAN, 3, 7958, 2806),
        (FEB, 1, 1333, 300),
    ]
    assert _figures(report.total) == (4, 5, 20_500, 9292, 3106, Decimal("151.51"), Decimal("33.43"))
    sources = {r.site.code: _figures(r)[:5] for r in report.by_source}
    assert sources == {"CW01": (3, 4, 19_500, 8092, 2107), "SA01": (1, 1, 1_000, 1200, 999)}
    assert report.site is None and report.months == [JAN, FEB]
    assert w.store_a.timezone == "Asia/Shanghai"


@pytest.mark.django_db
def test_december_and_unshipped_transfers_are_left_out_and_a_month_alone_works(admin):
    cost_world(admin)

    december = transfer_cost_report(
        actor=admin, month_from=dt.date(2025, 12, 1), month_to=dt.date(2025, 12, 1)
    )

    # only T5 (23:59:59 on 31 December in Shanghai); T4 at 00:00 on 1 January is January's
    assert [(r.site.code, r.month, r.units_milli, r.goods_value_fen) for r in december.rows] == [
        ("SA01", dt.date(2025, 12, 1), 9_000, 4500)
    ]
    march = transfer_cost_report(
        actor=admin, month_from=dt.date(2026, 3, 1), month_to=dt.date(2026, 3, 1)
    )
    assert march.rows == [] and march.by_source == []
    assert _figures(march.total) == (0, 0, 0, 0, 0, None, None)
    assert [r.transfers for r in march.month_totals] == [0]


@pytest.mark.django_db
def test_site_filter_and_a_store_managers_scope(admin):
    w = cost_world(admin)
    manager = make_user("store_manager", sites=[w.store_b])

    mine = transfer_cost_report(actor=manager, month_from=JAN, month_to=FEB)
    assert {r.site.code for r in mine.rows} == {"SB01"}
    assert {r.site.code for r in mine.by_source} == {"CW01", "SA01"}
    assert mine.total.transfers == 2 and mine.total.transfer_cost_fen == 1006

    only_a = transfer_cost_report(actor=admin, month_from=JAN, month_to=FEB, site=w.store_a)
    assert {r.site.code for r in only_a.rows} == {"SA01"}
    assert only_a.total.transfer_cost_fen == 2100

    with pytest.raises(PermissionDenied) as refused:
        transfer_cost_report(actor=manager, month_from=JAN, month_to=FEB, site=w.store_a)
    assert refused.value.code == "site_out_of_scope"
    with pytest.raises(PermissionDenied):
        transfer_cost_report(
            actor=make_user("cashier", sites=[w.store_b]), month_from=JAN, month_to=FEB
        )
    auditor = transfer_cost_report(actor=make_user("auditor"), month_from=JAN, month_to=FEB)
    assert auditor.total.transfer_cost_fen == 3106


@pytest.mark.django_db
def test_each_destination_counts_in_its_own_timezone(admin):
    w = cost_world(admin)
    w.store_b.timezone = "Asia/Urumqi"  # UTC+6: T3 (15:59 UTC on 31 Jan) is 21:59 on 31 Jan
    w.store_b.save(update_fields=["timezone"])
    shipped_transfer(
        source=w.warehouse,
        destination=w.store_b,
        shipped_at=dt.datetime(2026, 1, 31, 17, 30, tzinfo=dt.UTC),  # 23:30 Urumqi, 01:30 CST
        lines=[(w.sku1, 1_000, 1_000_000, 10)],
        actor=admin,
    )

    report = transfer_cost_report(actor=admin, month_from=JAN, month_to=FEB)

    assert {(r.site.code, r.month): r.transfers for r in report.rows} == {
        ("SA01", JAN): 1,
        ("SA01", FEB): 1,
        ("SB01", JAN): 2,  # T3 and the new one; T4 (22:00 on 31 December in Urumqi) is out
    }
    assert report.total.transfers == 4


@pytest.mark.django_db
def test_the_report_is_a_fixed_number_of_queries(admin):
    w = cost_world(admin)
    for i in range(20):
        shipped_transfer(
            source=w.warehouse,
            destination=w.store_a if i % 2 else w.store_b,
            shipped_at=dt.datetime(2026, 1, 2 + i, 3, tzinfo=dt.UTC),
            lines=[(w.sku1, 1_000, 2_000_000, 5), (w.sku2, 500, 4_000_000, 6)],
            actor=admin,
        )

    with CaptureQueriesContext(connection) as queries:
        report = transfer_cost_report(actor=admin, month_from=JAN, month_to=FEB)

    assert report.total.transfers == 24
    assert len(queries) <= 4


def test_months_are_parsed_and_ranges_checked():
    assert parse_month("2026-03") == dt.date(2026, 3, 1)
    assert month_range(dt.date(2025, 11, 1), dt.date(2026, 2, 1)) == [
        dt.date(2025, 11, 1),
        dt.date(2025, 12, 1),
        dt.date(2026, 1, 1),
        dt.date(2026, 2, 1),
    ]
    for bad in ("2026-13", "2026", "March", ""):
        with pytest.raises(ValidationFailed):
            parse_month(bad)
    with pytest.raises(ValidationFailed) as backwards:
        month_range(FEB, JAN)
    assert backwards.value.code == "invalid_month_range"
    with pytest.raises(ValidationFailed):
        month_range(dt.date(2020, 1, 1), dt.date(2026, 1, 1))


@pytest.mark.django_db
def test_csv_has_every_row_totals_and_exact_money(admin):
    cost_world(admin)
    report = transfer_cost_report(actor=admin, month_from=JAN, month_to=FEB)

    with translation.override("en"):
        data = export_cost_report(report, "csv")

    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Destination site", "Destination site name", "Month"]
    body = [[r[0], r[2], *r[3:]] for r in rows[1:]]
    assert body == [
        ["SA01", "2026-01", "1", "2", "12.5", "64.58", "18", "1.44", "27.87"],
        ["SA01", "2026-02", "1", "1", "4", "13.33", "3", "0.75", "22.51"],
        ["SA01", "Total", "2", "3", "16.5", "77.92", "21", "1.2727", "26.95"],
        ["SB01", "2026-01", "2", "2", "4", "15", "10.06", "2.515", "67.07"],
        ["SB01", "Total", "2", "2", "4", "15", "10.06", "2.515", "67.07"],
        ["", "Total", "4", "5", "20.5", "92.92", "31.06", "1.5151", "33.43"],
    ]
    assert rows[-1][1] == "All sites"


@pytest.mark.django_db
def test_xlsx_reads_back_with_the_same_figures(admin):
    cost_world(admin)
    report = transfer_cost_report(actor=admin, month_from=JAN, month_to=FEB)

    with translation.override("en"):
        data = export_cost_report(report, "xlsx")
    book = load_workbook(io.BytesIO(data), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))

    assert rows[0][0] == "Destination site" and len(rows) == 7
    assert rows[1] == ("SA01", rows[1][1], "2026-01", 1, 2, 12.5, 64.58, 18, 1.44, 27.87)
    assert rows[-1][2:] == ("Total", 4, 5, 20.5, 92.92, 31.06, 1.5151, 33.43)


_line = st.tuples(st.integers(0, 50_000), st.integers(0, 99_999_999), st.integers(0, 100_000))


@pytest.fixture
def world(admin):
    return cost_world(admin)


@pytest.mark.django_db
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    transfers=st.lists(
        st.tuples(
            st.booleans(), st.integers(0, 59 * 24 - 1), st.lists(_line, min_size=1, max_size=3)
        ),
        min_size=1,
        max_size=8,
    )
)
def test_totals_equal_a_line_by_line_computation(admin, world, transfers):
    """Whatever the transfers, the aggregates equal the sums worked out line by line (the
    database is shared by the examples, so each starts from the report as it stands)."""
    base = transfer_cost_report(actor=admin, month_from=JAN, month_to=FEB).total
    value, cost, units, lines_count = (
        base.value_nano,
        base.transfer_cost_fen,
        base.units_milli,
        base.lines,
    )
    for to_a, hours, lines in transfers:
        shipped_transfer(
            source=world.warehouse,
            destination=world.store_a if to_a else world.store_b,
            # 00:00 on 1 January to 23:00 on 28 February, Shanghai
            shipped_at=dt.datetime(2025, 12, 31, 16, tzinfo=dt.UTC) + dt.timedelta(hours=hours),
            lines=[([world.sku1, world.sku2][i % 2], q, c, a) for i, (q, c, a) in enumerate(lines)],
            actor=admin,
        )
        for q, c, a in lines:
            value, cost, units, lines_count = (
                value + q * c,
                cost + a,
                units + q,
                lines_count + (q > 0),
            )

    total = transfer_cost_report(actor=admin, month_from=JAN, month_to=FEB).total

    assert total.transfers == base.transfers + len(transfers)
    assert (total.lines, total.units_milli, total.transfer_cost_fen) == (lines_count, units, cost)
    assert total.goods_value_fen == value_fen(value, 1)
