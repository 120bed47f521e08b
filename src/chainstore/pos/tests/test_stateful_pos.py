"""A hypothesis state machine over the store POS, through its public services.

Two stores (short-sale policy allow / block), one till each, five SKUs (three count
goods, one lot-tracked, one weighed) and four promotions active at once: a 满减 with two
tiers, buy-3-get-1 with a gift of another SKU, second-item half price and a members-only
special price. Random steps: sales (baskets with and without a member, paid by points,
a gift card and cash with change), returns of random parts of earlier sales (sellable or
damaged), stock receipts, shift open / close, replays of earlier idempotency keys and a
key reused with another body.

After every step: the ledger verifies; per store and SKU the on hand equals the model
(opening + receipts - sold - gifts + returned); a block store never goes negative and a
negative balance at an allow store has an open discrepancy; every sale's tenders (net of
change) pay its total, its lines and allocated discounts add up, no line is negative,
its returns refund at most its total and exactly its total once all is returned; the
points and gift card ledgers agree with the balances and never go below zero; a closed
shift's expected cash is its float + cash in - change - cash refunds, counted from its
Tender rows and from the model. Refused steps change nothing.

Runs on SQLite and PostgreSQL; each example runs inside a savepoint that teardown rolls
back (as inventory/tests/test_stateful.py).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.db.models import F, Sum
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from chainstore.core.errors import IdempotencyKeyReused, InsufficientStock, InvalidState
from chainstore.core.quantities import milli_to_qty
from chainstore.core.testing import make_site, make_sku, make_user
from chainstore.inventory import services as inventory
from chainstore.inventory.models import Balance
from chainstore.inventory.services import ISSUE_KINDS, site_today
from chainstore.inventory.verify import verify_ledger
from chainstore.pos.errors import NoOpenShift
from chainstore.pos.models import (
    DiscrepancyStatus,
    GiftCard,
    GiftCardEntry,
    Member,
    MemberTier,
    PointsEntry,
    Promotion,
    Sale,
    SaleKind,
    SaleLine,
    Shift,
    ShiftStatus,
    StockDiscrepancy,
    StoreSettings,
    Tender,
    TenderKind,
    Till,
)
from chainstore.pos.services.pricing import LineInput, quote_basket
from chainstore.pos.services.returns import ReturnLineInput, create_return
from chainstore.pos.services.sales import create_sale
from chainstore.pos.services.shifts import ShiftAlreadyOpen, close_shift, open_shift
from chainstore.pos.services.tenders import TenderInput
from chainstore.pos.tests.sales_world import pos_snapshot
from chainstore.sites.services import virtual_location

pytestmark = pytest.mark.django_db

ALLOW, BLOCK = 0, 1
A, B, C, YOGURT, PORK = range(5)  # SKU indexes: count, count, count, lot-tracked, weighed
LOTS = ["L1", "L2"]
_keys = itertools.count(1)


@dataclass
class World:
    admin: Any
    cashier: Any
    stores: list[Any]  # [allow, block]
    tills: list[Till]
    skus: list[Any]
    members: list[Member]
    cards: list[str]  # gift card numbers
    expiry: dict[str, dt.date] = field(default_factory=dict)


def build_world(admin: Any) -> World:
    for kind in ("supplier", "customer", "adjustment", "scrap"):
        virtual_location(kind)  # created outside the per-example savepoint
    stores = [make_site(admin, "store"), make_site(admin, "store")]
    for s, policy in zip(stores, ("allow", "block"), strict=True):
        StoreSettings.objects.create(site=s, short_sale_policy=policy)
    tills = [Till.objects.create(site=s, code="T01", name="1号收银台") for s in stores]
    skus = [
        make_sku(admin, name="可乐", retail_price_fen=1_200),
        make_sku(admin, name="面包", retail_price_fen=850),
        make_sku(admin, name="洗发水", retail_price_fen=2_500),
        make_sku(admin, name="酸奶", retail_price_fen=650, tracking="lot", shelf_life_days=30),
        make_sku(admin, name="五花肉", retail_price_fen=2_580, base_unit="kg"),
    ]
    threshold = Promotion.objects.create(
        code="MJ",
        name="满50减5，满100减15",
        kind="threshold",
        params={"tiers": [["50.00", "5.00"], ["100.00", "15.00"]]},
    )
    assert threshold.pk
    gift = Promotion.objects.create(
        code="B3G1",
        name="买三送酸奶",
        kind="buy_x_get_y",
        params={"buy": 3, "get": 1},
        gift_sku=skus[YOGURT],
    )
    gift.target_skus.set([skus[A]])
    nth = Promotion.objects.create(
        code="NTH", name="第二件半价", kind="nth_item", params={"nth": 2, "percent": "50"}
    )
    nth.target_skus.set([skus[B]])
    vip = Promotion.objects.create(
        code="VIP",
        name="会员价",
        kind="special_price",
        params={"prices": {str(skus[C].pk): "19.90"}},
        member_condition="members",
    )
    vip.target_skus.set([skus[C]])
    gold = MemberTier.objects.create(code="gold", name="金卡", rank=2, points_per_yuan=2)
    silver = MemberTier.objects.create(code="silver", name="银卡", rank=1, points_per_yuan=1)
    members = []
    for n, (tier, opening) in enumerate([(gold, 3_000), (silver, 0)]):
        m = Member.objects.create(
            card_number=f"88000000{n:04d}", phone=f"1380013{n:04d}", name="王芳", tier=tier
        )
        if opening:
            Member.objects.filter(pk=m.pk).update(points_balance=opening)
            PointsEntry.objects.create(
                member=m, kind="adjust", delta=opening, balance_after=opening, note="opening"
            )
        members.append(m)
    cards = []
    for n, balance in enumerate([30_000, 5_000]):
        card = GiftCard.objects.create(number=f"GC{n:06d}", balance_fen=balance)
        GiftCardEntry.objects.create(card=card, delta_fen=balance, balance_after_fen=balance)
        cards.append(card.number)
    today = site_today(stores[0])
    return World(
        admin=admin,
        cashier=make_user("cashier", sites=stores),
        stores=stores,
        tills=tills,
        skus=skus,
        members=members,
        cards=cards,
        expiry={n: today + dt.timedelta(days=10 * (i + 1)) for i, n in enumerate(LOTS)},
    )


@dataclass
class Sent:
    """A receipt the machine created: what to send again to replay it."""

    kind: str  # sale | return
    pk: int
    kwargs: dict[str, Any]


ITEM = st.tuples(st.integers(0, 4), st.integers(1, 4), st.integers(1, 2_500))
PART = st.tuples(st.integers(0, 20), st.integers(1, 1_000), st.booleans())


class PosMachine(RuleBasedStateMachine):
    world: World

    def __init__(self) -> None:
        super().__init__()
        self.savepoint = transaction.savepoint()
        self.on_hand: dict[tuple[int, int], int] = defaultdict(int)  # (store, sku) -> milli
        self.sent: list[Sent] = []
        self.shift_cash: dict[int, int] = defaultdict(int)  # shift pk -> model cash net

    def teardown(self) -> None:
        transaction.savepoint_rollback(self.savepoint)

    # -- helpers -------------------------------------------------------------------
    def _open_shift(self, store: int) -> Shift | None:
        return Shift.objects.filter(till=self.world.tills[store], status=ShiftStatus.OPEN).first()

    def _available(self, store: int, sku: Any) -> int:
        """What the ledger lets a sale take at the store (issuable, unexpired, unreserved)."""
        today = site_today(self.world.stores[store])
        rows = Balance.objects.filter(
            site=self.world.stores[store],
            sku=sku,
            location__kind__in=ISSUE_KINDS,
            location__is_active=True,
        ).values_list("on_hand", "reserved", "lot__expiry_date")
        return sum(
            max(0, on_hand - reserved)
            for on_hand, reserved, expiry in rows
            if expiry is None or expiry >= today
        )

    def _refused(self, fn: Any, error: type[Exception]) -> None:
        before = pos_snapshot()
        with pytest.raises(error):
            fn()
        assert pos_snapshot() == before

    def _receive(self, store: int, sku: int, quantity: int, lot: int) -> None:
        s, k = self.world.stores[store], self.world.skus[sku]
        number = LOTS[lot] if k.is_lot_tracked else None
        inventory.receive(
            site=s,
            actor=self.world.admin,
            lines=[
                inventory.ReceiptLine(
                    k,
                    quantity,
                    lot_number=number,
                    expiry_date=self.world.expiry.get(number or ""),
                    location=s.stock_location,
                )
            ],
        )
        self.on_hand[(store, sku)] += quantity

    # -- rules ---------------------------------------------------------------------
    @initialize(
        quantities=st.lists(st.integers(0, 20), min_size=10, max_size=10),
        floats=st.tuples(st.integers(0, 50_000), st.integers(0, 50_000)),
    )
    def opening(self, quantities: list[int], floats: tuple[int, int]) -> None:
        """Some stock of every SKU at both stores (maybe none), and an open shift each."""
        amounts = iter(quantities)
        for store in (ALLOW, BLOCK):
            for sku in range(5):
                q = next(amounts) * 1_000
                if q:
                    self._receive(store, sku, q, lot=sku % 2)
            open_shift(
                store=self.world.stores[store],
                till=self.world.tills[store],
                opening_float_fen=floats[store],
                actor=self.world.cashier,
            )

    @rule(
        store=st.sampled_from([ALLOW, BLOCK]),
        sku=st.integers(0, 4),
        units=st.integers(1, 10),
        lot=st.integers(0, 1),
    )
    def stock_receipt(self, store: int, sku: int, units: int, lot: int) -> None:
        self._receive(store, sku, units * 1_000, lot)

    @rule(
        store=st.sampled_from([ALLOW, BLOCK]),
        items=st.lists(ITEM, min_size=1, max_size=4),
        member=st.integers(-1, 1),
        points_pct=st.integers(0, 100),
        card=st.integers(-1, 1),
        card_pct=st.integers(0, 100),
        extra_cash=st.integers(0, 10_000),
        cash_as_amount=st.booleans(),
        expected=st.booleans(),
    )
    def sale(
        self,
        store: int,
        items: list[tuple[int, int, int]],
        member: int,
        points_pct: int,
        card: int,
        card_pct: int,
        extra_cash: int,
        cash_as_amount: bool,
        expected: bool,
    ) -> None:
        w = self.world
        s, till = w.stores[store], w.tills[store]
        lines = [
            LineInput(
                sku=w.skus[i],
                quantity=milli_to_qty(grams) if i == PORK else n,
            )
            for i, n, grams in items
        ]
        shopper = Member.objects.get(pk=w.members[member].pk) if member >= 0 else None
        quote = quote_basket(store=s, lines=lines, actor=w.cashier, member=shopper)
        total = quote.total_fen
        tenders: list[TenderInput] = []
        points = 0
        if shopper is not None and points_pct and shopper.points_balance:
            points = min(shopper.points_balance, total * points_pct // 100)  # 100 points = ¥1
            if points:
                tenders.append(TenderInput(kind="points", amount_fen=points))
        gift = 0
        if card >= 0 and card_pct:
            balance = GiftCard.objects.get(number=w.cards[card]).balance_fen
            gift = min(balance, (total - points) * card_pct // 100)
            if gift:
                tenders.append(TenderInput(kind="gift_card", amount_fen=gift, card=w.cards[card]))
        cash = total - points - gift
        if cash:
            if cash_as_amount:  # the cash handed over as the amount: the excess is change
                tenders.append(TenderInput(kind="cash", amount_fen=cash + extra_cash))
            else:
                tenders.append(
                    TenderInput(kind="cash", amount_fen=cash, tendered_fen=cash + extra_cash)
                )
        demand: dict[int, int] = defaultdict(int)
        for ln in quote.lines:
            demand[ln.sku.pk] += ln.quantity
        short = {
            sku_id: need - self._available(store, sku_id)
            for sku_id, need in demand.items()
            if need > self._available(store, sku_id)
        }
        kwargs = {
            "store": s,
            "till": till,
            "lines": lines,
            "tenders": tenders,
            "actor": w.cashier,
            "member": shopper,
            "idempotency_key": f"sm-sale-{next(_keys)}",
            "expected_total_fen": total if expected else None,
        }
        shift = self._open_shift(store)
        if shift is None:
            self._refused(lambda: create_sale(**kwargs), NoOpenShift)
            event("sale: refused, no open shift")
            return
        if short and store == BLOCK:
            self._refused(lambda: create_sale(**kwargs), InsufficientStock)
            event("sale: refused, short at a block store")
            return
        sale = create_sale(**kwargs)
        event(
            f"sale: created{' short' if short else ''}; tenders {sorted(t.kind for t in tenders)}"
        )
        if quote.promotions:
            event(f"sale: promotions {sorted(p.promotion.code for p in quote.promotions)}")
        assert not sale.replayed
        assert sale.total_fen == total
        assert sale.went_short == bool(short)
        assert (
            dict(StockDiscrepancy.objects.filter(sale=sale).values_list("sku_id", "short_quantity"))
            == short
        )
        got = sorted(SaleLine.objects.filter(sale=sale).values_list("sku_id", "quantity"))
        assert got == sorted((ln.sku.pk, ln.quantity) for ln in quote.lines)
        for sku_id, need in demand.items():
            idx = next(i for i, k in enumerate(w.skus) if k.pk == sku_id)
            self.on_hand[(store, idx)] -= need
        self.shift_cash[shift.pk] += cash
        self.sent.append(Sent("sale", sale.pk, kwargs))

    @rule(
        pick=st.integers(0, 1_000),
        parts=st.lists(PART, min_size=1, max_size=3),
        everything=st.booleans(),
        damaged=st.booleans(),
    )
    def return_goods(
        self, pick: int, parts: list[tuple[int, int, bool]], everything: bool, damaged: bool
    ) -> None:
        open_lines = SaleLine.objects.filter(
            sale__kind=SaleKind.SALE, sale__in=[x.pk for x in self.sent if x.kind == "sale"]
        ).exclude(returned_quantity=F("quantity"))
        candidates = sorted(set(open_lines.values_list("sale_id", flat=True)))
        if not candidates:
            return
        sale = Sale.objects.get(pk=candidates[pick % len(candidates)])
        store = self.world.stores.index(next(s for s in self.world.stores if s.pk == sale.site_id))
        left = {
            ln.line_no: (ln, ln.quantity - ln.returned_quantity)
            for ln in SaleLine.objects.filter(sale=sale).select_related("sku").order_by("line_no")
            if ln.quantity > ln.returned_quantity
        }
        returning: list[ReturnLineInput] = []
        back: dict[int, int] = defaultdict(int)  # sku pk -> quantity
        if everything:
            for no, (ln, q) in left.items():
                cond = "damaged" if damaged and no % 2 else "sellable"
                returning.append(ReturnLineInput(line_no=no, condition=cond))
                back[ln.sku_id] += q
        else:
            numbers = sorted(left)
            for index, per_mille, dmg in parts:
                no = numbers[index % len(numbers)]
                ln, q = left[no]
                if q <= 0:
                    continue
                if ln.sku.is_weighed:
                    take = max(1, q * per_mille // 1_000)
                else:
                    take = max(1, (q // 1_000) * per_mille // 1_000) * 1_000
                left[no] = (ln, q - take)
                returning.append(
                    ReturnLineInput(
                        line_no=no,
                        quantity=milli_to_qty(take),
                        condition="damaged" if dmg else "sellable",
                    )
                )
                back[ln.sku_id] += take
        kwargs = {
            "store": self.world.stores[store],
            "till": self.world.tills[store],
            "lines": returning,
            "actor": self.world.cashier,
            "reason": "顾客退货",
            "idempotency_key": f"sm-return-{next(_keys)}",
            "original": sale.number,
        }
        shift = self._open_shift(store)
        if shift is None:
            self._refused(lambda: create_return(**kwargs), NoOpenShift)
            event("return: refused, no open shift")
            return
        ret = create_return(**kwargs)
        event(f"return: created, everything={everything}, recovered={ret.recovered_fen > 0}")
        kinds = sorted(Tender.objects.filter(sale=ret).values_list("kind", flat=True))
        event(f"return: refunds {kinds}")
        assert not ret.replayed
        assert ret.total_fen >= 0
        for sku_id, q in back.items():
            idx = next(i for i, k in enumerate(self.world.skus) if k.pk == sku_id)
            self.on_hand[(store, idx)] += q
        cash_back = Tender.objects.filter(sale=ret, kind=TenderKind.CASH).aggregate(
            s=Sum("amount_fen")
        )["s"]
        self.shift_cash[shift.pk] -= cash_back or 0
        self.sent.append(Sent("return", ret.pk, kwargs))

    @rule(store=st.sampled_from([ALLOW, BLOCK]), opening_float=st.integers(0, 50_000))
    def shift_open(self, store: int, opening_float: int) -> None:
        kwargs = {
            "store": self.world.stores[store],
            "till": self.world.tills[store],
            "opening_float_fen": opening_float,
            "actor": self.world.cashier,
        }
        if self._open_shift(store) is not None:
            self._refused(lambda: open_shift(**kwargs), ShiftAlreadyOpen)
            return
        shift = open_shift(**kwargs)
        assert shift.status == ShiftStatus.OPEN
        assert shift.opening_float_fen == opening_float

    @rule(
        store=st.sampled_from([ALLOW, BLOCK]),
        counted=st.integers(0, 200_000),
        handover=st.booleans(),
        next_float=st.integers(0, 50_000),
    )
    def shift_close(self, store: int, counted: int, handover: bool, next_float: int) -> None:
        """Close the till's shift (handover: and open the next one at once)."""
        shift = self._open_shift(store)
        if shift is None:
            last = Shift.objects.filter(till=self.world.tills[store]).order_by("-pk").first()
            if last is not None:
                self._refused(
                    lambda: close_shift(
                        shift=last, counted_cash_fen=counted, actor=self.world.cashier
                    ),
                    InvalidState,
                )
            return
        closed = close_shift(shift=shift, counted_cash_fen=counted, actor=self.world.cashier)
        assert closed.status == ShiftStatus.CLOSED
        assert closed.expected_cash_fen == expected_cash(closed)
        assert closed.expected_cash_fen == closed.opening_float_fen + self.shift_cash[shift.pk]
        assert closed.counted_cash_fen == counted
        event(f"shift: closed, handover={handover}")
        if handover:
            self.shift_open(store, next_float)

    @precondition(lambda self: bool(self.sent))
    @rule(pick=st.integers(0, 1_000), a_return=st.booleans())
    def replay(self, pick: int, a_return: bool) -> None:
        """The same key and body again (a sale's, or a return's if any): the same receipt,
        nothing changes — even after the shift it was rung up in has closed."""
        pool = [x for x in self.sent if x.kind == "return"] if a_return else []
        pool = pool or self.sent
        sent = pool[pick % len(pool)]
        fn = create_sale if sent.kind == "sale" else create_return
        before = pos_snapshot()
        again = fn(**sent.kwargs)
        assert again.pk == sent.pk
        assert again.replayed
        assert pos_snapshot() == before
        event(f"replay: {sent.kind}")

    @precondition(lambda self: any(x.kind == "sale" for x in self.sent))
    @rule(pick=st.integers(0, 1_000))
    def reuse_key(self, pick: int) -> None:
        """An earlier sale's key with another body: refused, nothing changes."""
        sales = [x for x in self.sent if x.kind == "sale"]
        sent = sales[pick % len(sales)]
        other = dict(sent.kwargs, expected_total_fen=-1)
        self._refused(lambda: create_sale(**other), IdempotencyKeyReused)
        event("reuse key: refused")

    # -- invariants ----------------------------------------------------------------
    @invariant()
    def stock_agrees(self) -> None:
        assert verify_ledger() == []
        w = self.world
        for store, s in enumerate(w.stores):
            rows = Balance.objects.filter(site=s, location__is_virtual=False)
            for idx, k in enumerate(w.skus):
                on_hand = rows.filter(sku=k).aggregate(q=Sum("on_hand"))["q"] or 0
                assert on_hand == self.on_hand[(store, idx)], (store, k.name)
            negative = set(rows.filter(on_hand__lt=0).values_list("sku_id", flat=True))
            if store == BLOCK:
                assert negative == set()
            else:
                discrepant = set(
                    StockDiscrepancy.objects.filter(
                        site=s, status=DiscrepancyStatus.OPEN
                    ).values_list("sku_id", flat=True)
                )
                assert negative <= discrepant

    @invariant()
    def money_adds_up(self) -> None:
        for sale in Sale.objects.filter(kind=SaleKind.SALE).prefetch_related(
            "tenders", "lines__discounts"
        ):
            tenders = list(sale.tenders.all())
            assert sum(t.amount_fen for t in tenders) == sale.total_fen, sale.number
            for t in tenders:
                assert t.amount_fen > 0 and t.change_fen >= 0
                if t.kind == TenderKind.CASH:
                    assert t.tendered_fen - t.change_fen == t.amount_fen
                else:
                    assert t.change_fen == 0
            lines = list(sale.lines.all())
            allocated = 0
            for ln in lines:
                shares = sum(d.amount_fen for d in ln.discounts.all())
                assert shares == ln.discount_fen, (sale.number, ln.line_no)
                assert ln.net_fen == ln.gross_fen - ln.discount_fen >= 0
                allocated += shares
                if ln.is_gift:
                    assert ln.net_fen == 0
            assert allocated == sale.discount_fen, sale.number
            assert sum(ln.net_fen for ln in lines) == sale.total_fen
            assert sale.subtotal_fen - sale.discount_fen == sale.total_fen
            returns = list(Sale.objects.filter(original=sale, kind=SaleKind.RETURN))
            refunded = sum(r.total_fen for r in returns)
            assert refunded <= sale.total_fen, sale.number
            if all(ln.returned_quantity == ln.quantity for ln in lines):
                assert refunded == sale.total_fen, sale.number
            for ln in lines:
                assert 0 <= ln.returned_quantity <= ln.quantity
                back = SaleLine.objects.filter(original_line=ln).aggregate(q=Sum("quantity"))["q"]
                assert (back or 0) == ln.returned_quantity
            # Points and gift cards are refunded to themselves, never beyond what they paid.
            for kind in (TenderKind.POINTS, TenderKind.GIFT_CARD):
                paid = sum(t.amount_fen for t in tenders if t.kind == kind)
                back = Tender.objects.filter(sale__in=returns, kind=kind).aggregate(
                    s=Sum("amount_fen")
                )["s"]
                assert (back or 0) <= paid
        for ret in Sale.objects.filter(kind=SaleKind.RETURN).prefetch_related("tenders"):
            assert ret.total_fen >= 0
            assert sum(t.amount_fen for t in ret.tenders.all()) == ret.total_fen, ret.number

    @invariant()
    def points_ledger(self) -> None:
        for m in Member.objects.all():
            entries = list(PointsEntry.objects.filter(member=m).order_by("pk"))
            running = 0
            for e in entries:
                running += e.delta
                assert e.balance_after == running >= 0, (m.card_number, e.pk)
            assert m.points_balance == running >= 0

    @invariant()
    def gift_cards(self) -> None:
        for card in GiftCard.objects.all():
            running = 0
            for e in GiftCardEntry.objects.filter(card=card).order_by("pk"):
                running += e.delta_fen
                assert e.balance_after_fen == running >= 0, card.number
            assert card.balance_fen == running >= 0

    @invariant()
    def closed_shifts_keep_their_cash(self) -> None:
        for shift in Shift.objects.filter(status=ShiftStatus.CLOSED):
            assert shift.expected_cash_fen == expected_cash(shift)


def expected_cash(shift: Shift) -> int:
    """Float + cash handed over - change - cash refunds, from the shift's Tender rows."""
    cash = Tender.objects.filter(sale__shift=shift, kind=TenderKind.CASH)
    sold = cash.filter(sale__kind=SaleKind.SALE).aggregate(
        handed=Sum("tendered_fen"), change=Sum("change_fen")
    )
    refunds = cash.filter(sale__kind=SaleKind.RETURN).aggregate(s=Sum("amount_fen"))["s"]
    return shift.opening_float_fen + (sold["handed"] or 0) - (sold["change"] or 0) - (refunds or 0)


def test_pos_state_machine(admin):
    PosMachine.world = build_world(admin)
    run_state_machine_as_test(
        PosMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
