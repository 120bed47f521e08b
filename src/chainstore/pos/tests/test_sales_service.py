"""create_sale: stock, receipt, tenders, short-sale policy, lots, weighed goods, refusals."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from chainstore.catalog.errors import InvalidBarcode
from chainstore.catalog.services import add_barcode
from chainstore.core.errors import (
    IdempotencyKeyReused,
    InsufficientStock,
    PermissionDenied,
    ValidationFailed,
)
from chainstore.core.models import AuditEvent
from chainstore.core.testing import make_site, make_sku, make_user, stock
from chainstore.core.tests.helpers import on_hand, site_on_hand
from chainstore.inventory.errors import ExpiredLot
from chainstore.inventory.models import Lot, StockMove, StockOperation
from chainstore.inventory.services import site_today
from chainstore.inventory.verify import negative_store_stock, verify_ledger
from chainstore.pos.errors import (
    MemberInactive,
    NoOpenShift,
    PriceChanged,
    TendersMismatch,
    WholeQuantityRequired,
)
from chainstore.pos.models import SaleLine, StockDiscrepancy, Tender, Till
from chainstore.pos.services.scan import scale_barcode
from chainstore.pos.tests.sales_world import *  # noqa: F403
from chainstore.pos.tests.sales_world import (
    LineInput,
    cash,
    pos_snapshot,
    sell,
    set_policy,
)

pytestmark = pytest.mark.django_db


def test_sale_posts_stock_to_the_customer_and_writes_the_receipt(
    store, till, shift, cashier, stocked
):
    sale = sell(
        store, till, cashier, [LineInput(sku_code=stocked.code, quantity=3)], [cash(3_000, 5_000)]
    )

    assert re.fullmatch(rf"{store.code}-T01-\d{{8}}-0001", sale.number)
    assert (sale.subtotal_fen, sale.discount_fen, sale.total_fen) == (3_000, 0, 3_000)
    assert sale.tax_fen == 345  # 3000 × 1300 / 11300 = 345.13
    assert sale.shift == shift and sale.business_date == shift.business_date
    assert not sale.went_short and not sale.replayed
    assert on_hand(store.stock_location, stocked) == 7_000
    op = StockOperation.objects.get(pk=sale.operation_id)
    assert (op.kind, op.reference, op.note, op.site) == ("issue", sale.number, "sale", store)
    (move,) = StockMove.objects.filter(operation=op)
    assert (move.quantity, move.from_location, move.to_location.kind) == (
        3_000,
        store.stock_location,
        "customer",
    )
    (line,) = SaleLine.objects.filter(sale=sale)
    assert (line.quantity, line.unit_price_fen, line.net_fen, line.tax_fen) == (
        3_000,
        1_000,
        3_000,
        345,
    )
    (tender,) = Tender.objects.filter(sale=sale)
    assert (tender.amount_fen, tender.tendered_fen, tender.change_fen) == (3_000, 5_000, 2_000)
    assert AuditEvent.objects.filter(action="pos.sale", object_id=str(sale.pk)).count() == 1
    assert verify_ledger() == []


def test_receipt_numbers_run_per_till_and_day(store, till, shift, cashier, stocked):
    first = sell(store, till, cashier, [LineInput(sku_code=stocked.code)], [cash(1_000)])
    second = sell(store, till, cashier, [LineInput(sku_code=stocked.code)], [cash(1_000)])

    assert first.number.endswith("-0001") and second.number.endswith("-0002")
    assert first.number[:-4] == second.number[:-4]


def test_short_sale_allowed_drives_this_store_negative_and_opens_a_discrepancy(
    admin, store, till, shift, cashier, sku
):
    other = make_site(admin, "store")
    stock(admin, store, sku, 2_000, location=store.stock_location)
    stock(admin, other, sku, 4_000, location=other.stock_location)

    sale = sell(store, till, cashier, [LineInput(sku_code=sku.code, quantity=5)], [cash(5_000)])

    assert sale.went_short
    assert on_hand(store.stock_location, sku) == -3_000
    assert site_on_hand(store, sku) == -3_000
    assert site_on_hand(other, sku) == 4_000
    (discrepancy,) = StockDiscrepancy.objects.all()
    assert (discrepancy.site, discrepancy.sku, discrepancy.sale, discrepancy.short_quantity) == (
        store,
        sku,
        sale,
        3_000,
    )
    assert (
        sum(
            StockMove.objects.filter(operation_id=sale.operation_id).values_list(
                "quantity", flat=True
            )
        )
        == 5_000
    )
    assert verify_ledger() == []
    assert [d.key[1] for d in negative_store_stock()] == [sku.pk]


def test_short_sale_blocked_is_409_and_changes_nothing(store, till, shift, cashier, admin, sku):
    set_policy(store, "block")
    stock(admin, store, sku, 2_000, location=store.stock_location)
    before = pos_snapshot()

    with pytest.raises(InsufficientStock):
        sell(store, till, cashier, [LineInput(sku_code=sku.code, quantity=5)], [cash(5_000)])

    assert pos_snapshot() == before
    assert on_hand(store.stock_location, sku) == 2_000


def test_stock_comes_from_storage_bins_too(admin, store, till, shift, cashier, sku):
    from chainstore.core.testing import make_bin

    back = make_bin(admin, store, code="B-01")
    stock(admin, store, sku, 1_000, location=store.stock_location)
    stock(admin, store, sku, 5_000, location=back)

    sale = sell(store, till, cashier, [LineInput(sku_code=sku.code, quantity=3)], [cash(3_000)])

    assert not sale.went_short
    assert on_hand(store.stock_location, sku) + on_hand(back, sku) == 3_000
    assert verify_ledger() == []


# -- lots ------------------------------------------------------------------------------
@pytest.fixture
def lot_sku(admin):
    return make_sku(admin, tracking="lot", shelf_life_days=30, retail_price_fen=500)


def _lots(admin, store, lot_sku):
    today = site_today(store)
    loc = store.stock_location
    stock(
        admin, store, lot_sku, 5_000, lot="LATE", expiry=today + dt.timedelta(days=20), location=loc
    )
    stock(
        admin, store, lot_sku, 2_000, lot="SOON", expiry=today + dt.timedelta(days=3), location=loc
    )
    stock(
        admin, store, lot_sku, 4_000, lot="OLD", expiry=today + dt.timedelta(days=1), location=loc
    )
    Lot.objects.filter(number="OLD").update(expiry_date=today - dt.timedelta(days=1))
    return today


def test_fefo_takes_the_first_expiring_lot_and_never_an_expired_one(
    admin, store, till, shift, cashier, lot_sku
):
    _lots(admin, store, lot_sku)

    sale = sell(store, till, cashier, [LineInput(sku_code=lot_sku.code, quantity=3)], [cash(1_500)])

    moves = {
        m.lot.number: m.quantity for m in StockMove.objects.filter(operation_id=sale.operation_id)
    }
    assert moves == {"SOON": 2_000, "LATE": 1_000}
    assert on_hand(store.stock_location, lot_sku, Lot.objects.get(number="OLD")) == 4_000
    assert SaleLine.objects.get(sale=sale).lot is None  # the line came from two lots
    assert verify_ledger() == []


def test_scanned_lot_is_sold_from_that_lot(admin, store, till, shift, cashier, lot_sku):
    today = _lots(admin, store, lot_sku)
    gtin = "0" + lot_sku.barcodes.get().code
    scan = f"(01){gtin}(10)LATE(17){today + dt.timedelta(days=20):%y%m%d}"

    sale = sell(store, till, cashier, [LineInput(scan=scan, quantity=2)], [cash(1_000)])

    late = Lot.objects.get(number="LATE")
    assert SaleLine.objects.get(sale=sale).lot == late
    assert on_hand(store.stock_location, lot_sku, late) == 3_000
    assert on_hand(store.stock_location, lot_sku, Lot.objects.get(number="SOON")) == 2_000


def test_scanned_expired_lot_is_refused_and_nothing_changes(
    admin, store, till, shift, cashier, lot_sku
):
    _lots(admin, store, lot_sku)
    gtin = "0" + lot_sku.barcodes.get().code
    before = pos_snapshot()

    with pytest.raises(ExpiredLot):
        sell(store, till, cashier, [LineInput(scan=f"(01){gtin}(10)OLD")], [cash(500)])

    assert pos_snapshot() == before


# -- weighed goods ---------------------------------------------------------------------
@pytest.fixture
def pork(admin):
    sku = make_sku(admin, base_unit="kg", retail_price_fen=2_580, name="五花肉")
    add_barcode(sku=sku, code="00123", kind="internal", actor=admin)
    return sku


def test_scale_barcode_sells_the_weight_it_carries(admin, store, till, shift, cashier, pork):
    stock(admin, store, pork, 5_000, location=store.stock_location)
    code = scale_barcode("00123", 456)
    assert code == "2000123004563"

    sale = sell(store, till, cashier, [LineInput(scan=code)], [cash(1_176)])

    line = SaleLine.objects.get(sale=sale)
    assert (line.quantity, line.unit_price_fen, line.gross_fen) == (456, 2_580, 1_176)
    assert on_hand(store.stock_location, pork) == 4_544
    assert verify_ledger() == []


def test_two_scale_labels_of_the_same_weight(admin, store, till, shift, cashier, pork):
    stock(admin, store, pork, 5_000, location=store.stock_location)

    sale = sell(
        store, till, cashier, [LineInput(scan=scale_barcode("123", 500), quantity=2)], [cash(2_580)]
    )

    assert SaleLine.objects.get(sale=sale).quantity == 1_000


def test_scale_barcode_with_a_wrong_check_digit_is_refused(store, till, shift, cashier, pork):
    with pytest.raises(InvalidBarcode) as exc:
        sell(store, till, cashier, [LineInput(scan="2000123004560")], [cash(1_176)])
    assert exc.value.code == "bad_check_digit"


def test_weighed_sku_by_code_takes_kg_with_three_decimals(admin, store, till, shift, cashier, pork):
    stock(admin, store, pork, 5_000, location=store.stock_location)

    sale = sell(
        store, till, cashier, [LineInput(sku_code=pork.code, quantity="1.255")], [cash(3_238)]
    )

    assert sale.total_fen == 3_238  # 25.80 × 1.255 = 32.379 → 32.38
    assert on_hand(store.stock_location, pork) == 3_745


def test_count_sku_needs_whole_units(store, till, shift, cashier, stocked):
    before = pos_snapshot()
    with pytest.raises(WholeQuantityRequired):
        sell(
            store, till, cashier, [LineInput(sku_code=stocked.code, quantity="1.5")], [cash(1_500)]
        )
    assert pos_snapshot() == before


# -- refusals --------------------------------------------------------------------------
def test_live_sale_needs_an_open_shift(store, till, cashier, stocked):
    with pytest.raises(NoOpenShift):
        sell(store, till, cashier, [LineInput(sku_code=stocked.code)], [cash(1_000)])


def test_offline_sale_without_a_shift_uses_its_local_date(store, till, cashier, stocked):
    sold_at = timezone.now() - dt.timedelta(days=1)

    sale = sell(
        store,
        till,
        cashier,
        [LineInput(sku_code=stocked.code)],
        [cash(1_000)],
        offline=True,
        sold_at=sold_at,
    )

    assert sale.shift is None and sale.offline
    assert sale.business_date == timezone.localtime(sold_at).date()
    assert sale.sold_at == sold_at


def test_till_of_another_store_is_refused(admin, store, shift, cashier, stocked):
    other = make_site(admin, "store")
    foreign = Till.objects.create(site=other, code="T09")
    with pytest.raises(ValidationFailed):
        sell(store, foreign, cashier, [LineInput(sku_code=stocked.code)], [cash(1_000)])


def test_inactive_member_is_refused(store, till, shift, cashier, stocked, member):
    member.is_active = False
    member.save()
    with pytest.raises(MemberInactive):
        sell(store, till, cashier, [LineInput(sku_code=stocked.code)], [cash(1_000)], member=member)


def test_tenders_short_of_the_total_change_nothing(store, till, shift, cashier, stocked):
    before = pos_snapshot()
    with pytest.raises(TendersMismatch) as exc:
        sell(store, till, cashier, [LineInput(sku_code=stocked.code, quantity=2)], [cash(1_999)])
    assert exc.value.code == "tenders_short"
    assert pos_snapshot() == before


def test_expected_total_that_differs_is_price_changed(store, till, shift, cashier, stocked):
    before = pos_snapshot()
    with pytest.raises(PriceChanged) as exc:
        sell(
            store,
            till,
            cashier,
            [LineInput(sku_code=stocked.code)],
            [cash(900)],
            expected_total_fen=900,
        )
    assert exc.value.details == {"expected": "9.00", "total": "10.00"}
    assert pos_snapshot() == before


def test_replay_returns_the_first_sale_and_moves_nothing(store, till, shift, cashier, stocked):
    first = sell(
        store,
        till,
        cashier,
        [LineInput(sku_code=stocked.code)],
        [cash(1_000)],
        idempotency_key="r-1",
    )
    again = sell(
        store,
        till,
        cashier,
        [LineInput(sku_code=stocked.code)],
        [cash(1_000)],
        idempotency_key="r-1",
    )

    assert again.pk == first.pk and again.replayed and not first.replayed
    assert on_hand(store.stock_location, stocked) == 9_000
    assert StockOperation.objects.filter(kind="issue").count() == 1

    with pytest.raises(IdempotencyKeyReused):
        sell(
            store,
            till,
            cashier,
            [LineInput(sku_code=stocked.code, quantity=2)],
            [cash(2_000)],
            idempotency_key="r-1",
        )


def test_cashier_of_another_store_and_an_auditor_may_not_sell(admin, store, till, shift, stocked):
    elsewhere = make_user("cashier", sites=[make_site(admin, "store")])
    auditor = make_user("auditor")
    before = pos_snapshot()
    for actor in (elsewhere, auditor):
        with pytest.raises(PermissionDenied):
            sell(store, till, actor, [LineInput(sku_code=stocked.code)], [cash(1_000)])
    assert pos_snapshot() == before


# -- client pricing --------------------------------------------------------------------
def test_client_pricing_records_the_till_prices(store, till, shift, cashier, stocked):
    sale = sell(
        store,
        till,
        cashier,
        [LineInput(sku_code=stocked.code, quantity=2, unit_price_fen=950, discount_fen=100)],
        [cash(1_800)],
        priced_by="client",
    )

    line = SaleLine.objects.get(sale=sale)
    assert (line.unit_price_fen, line.gross_fen, line.discount_fen, line.net_fen) == (
        950,
        1_900,
        100,
        1_800,
    )
    assert line.discounts.get().promotion is None
    assert (sale.priced_by, sale.total_fen) == ("client", 1_800)


def test_client_discount_above_gross_is_refused(store, till, shift, cashier, stocked):
    before = pos_snapshot()
    with pytest.raises(ValidationFailed) as exc:
        sell(
            store,
            till,
            cashier,
            [LineInput(sku_code=stocked.code, unit_price_fen=950, discount_fen=951)],
            [],
            priced_by="client",
        )
    assert exc.value.code == "invalid_client_discount"
    assert pos_snapshot() == before
