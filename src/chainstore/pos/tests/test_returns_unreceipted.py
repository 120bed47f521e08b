"""Returns without the receipt: store managers only, today's store price, cash only, no
points; the goods come back at the store's cost."""

import pytest

from chainstore.core.errors import PermissionDenied, ValidationFailed
from chainstore.core.models import AuditEvent
from chainstore.core.tests.helpers import on_hand, snapshot
from chainstore.inventory.models import StockMove
from chainstore.inventory.verify import verify_ledger
from chainstore.pos.errors import TendersMismatch
from chainstore.pos.models import PointsEntry, PriceList, PriceListItem, Sale
from chainstore.pos.services import shifts
from chainstore.pos.services.returns import ReturnLineInput, create_return, preview_return
from chainstore.pos.services.tenders import TenderInput
from chainstore.pos.tests.returns_world import add_sku, make_world
from chainstore.sites.models import Location

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    w = make_world(admin)
    add_sku(w, "毛巾", 2_990, cost_micros=12_000_000)
    shifts.open_shift(store=w.store, till=w.tills[0], opening_float_fen=10_000, actor=w.manager)
    return w


def _return(world, *lines, actor=None, **kw):
    kw.setdefault("idempotency_key", f"noreceipt-{Sale.objects.count()}")
    return create_return(
        store=world.store,
        till=world.tills[0],
        lines=list(lines),
        actor=actor or world.manager,
        reason="无小票退货",
        **kw,
    )


def test_a_cashier_may_not_return_without_a_receipt(world):
    before = (snapshot(), Sale.objects.count())
    towel = world.skus["毛巾"]
    with pytest.raises(PermissionDenied) as exc:
        _return(world, ReturnLineInput(sku=towel), actor=world.cashier)
    assert exc.value.details["permission"] == "pos.return_unreceipted"
    with pytest.raises(PermissionDenied):
        preview_return(store=world.store, lines=[ReturnLineInput(sku=towel)], actor=world.cashier)
    assert (snapshot(), Sale.objects.count()) == before


def test_refund_at_todays_store_price_in_cash(world):
    towel = world.skus["毛巾"]
    price_list = PriceList.objects.create(code="S-OVR", name="门店价")
    price_list.stores.add(world.store)
    PriceListItem.objects.create(price_list=price_list, sku=towel, price_fen=2_490)

    ret = _return(world, ReturnLineInput(sku_code=towel.code, quantity=2))

    assert (ret.kind, ret.original_id, ret.member_id, ret.total_fen) == (
        "return",
        None,
        None,
        4_980,
    )
    assert list(ret.tenders.values_list("kind", "amount_fen")) == [("cash", 4_980)]
    assert (ret.points_earned, PointsEntry.objects.count()) == (0, 0)
    assert on_hand(world.store.stock_location, towel) == 102_000
    move = StockMove.objects.get(operation=ret.operation)
    assert (move.from_location.kind, move.unit_cost_micros) == ("customer", 12_000_000)
    assert AuditEvent.objects.filter(action="pos.return", object_id=str(ret.pk)).exists()
    x = shifts.x_report(shift=ret.shift, actor=world.manager)
    assert (x.totals.returns_count, x.totals.refunds_fen, x.cash.cash_refunds_fen) == (
        1,
        4_980,
        4_980,
    )
    assert x.cash.expected_fen == 10_000 - 4_980
    assert verify_ledger() == []


def test_only_cash_and_lot_tracked_goods_need_their_lot(world, admin):
    towel = world.skus["毛巾"]
    lotted = add_sku(world, "酸奶", 650, quantity=0, tracking="lot")
    before = (snapshot(), Sale.objects.count())
    with pytest.raises(TendersMismatch) as exc:
        _return(
            world,
            ReturnLineInput(sku=towel),
            refund=[TenderInput(kind="wechat_pay", amount_fen=2_990)],
        )
    assert exc.value.code == "cash_only"
    with pytest.raises(ValidationFailed) as exc2:
        _return(world, ReturnLineInput(sku=lotted))
    assert exc2.value.code == "lot_required"
    with pytest.raises(ValidationFailed) as exc3:
        _return(world, ReturnLineInput(line_no=1))
    assert exc3.value.code == "receipt_required"
    assert (snapshot(), Sale.objects.count()) == before

    ret = _return(world, ReturnLineInput(sku=lotted, lot="Y-77", condition="damaged"))
    damaged = Location.objects.get(site=world.store, kind="damaged")
    line = ret.lines.get()
    assert (line.lot.number, line.condition) == ("Y-77", "damaged")
    assert on_hand(damaged, lotted, line.lot) == 1_000
    assert verify_ledger() == []
