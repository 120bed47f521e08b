"""The demo chain's store POS: tills, prices, promotions of every kind, members, gift cards,
and today's sales rung up through the real checkout service (so stock, points, shifts and
the store-day report are all real)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db.models import F, Sum
from django.utils import timezone, translation

from chainstore.catalog.models import Category, Sku
from chainstore.core.errors import DomainError
from chainstore.demo.master import Chain, DemoSku
from chainstore.inventory.models import Balance
from chainstore.pos.models import (
    GiftCard,
    GiftCardEntry,
    Member,
    MemberCondition,
    MemberTier,
    PriceList,
    PriceListItem,
    Promotion,
    PromotionKind,
    ShortSalePolicy,
    Stacking,
    StoreSettings,
    Till,
)
from chainstore.sites.models import LocationKind, Site

TIERS = [  # code, name, rank, points per yuan
    ("normal", "普通会员", 0, 1),
    ("silver", "银卡会员", 1, 1),
    ("gold", "金卡会员", 2, 2),
    ("diamond", "钻石会员", 3, 3),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"


def build_demo_pos(
    chain: Chain, *, rng: random.Random, sales_per_store: int, on_step: Callable[[int], None]
) -> dict[str, int]:
    admin = chain.users["admin"]
    stores = [plan.site for plan in chain.stores]
    for i, site in enumerate(stores):
        # The second store refuses short sales, to show both policies.
        policy = ShortSalePolicy.BLOCK if i == 1 else ShortSalePolicy.ALLOW
        StoreSettings.objects.create(
            site=site,
            short_sale_policy=policy,
            receipt_header=f"{site.name} 欢迎光临",
            receipt_footer="凭小票7日内可退换 · 服务热线 400-820-8888",
        )
        Till.objects.bulk_create(
            [Till(site=site, code=f"T{n:02d}", name=f"{n}号收银台") for n in (1, 2, 3)]
        )
    tiers = {
        code: MemberTier.objects.create(code=code, name=name, rank=rank, points_per_yuan=ppy)
        for code, name, rank, ppy in TIERS
    }
    members = _members(rng, tiers, stores)
    _gift_cards(rng)
    _price_lists(chain, rng, stores)
    _promotions(chain, rng, tiers, admin)
    on_step(1)
    with translation.override("zh-hans"):  # receipts of a Chinese chain
        sold = _todays_sales(chain, rng, members, sales_per_store, on_step)
    return {"members": len(members), "sales": sold}


def _members(rng: random.Random, tiers: dict[str, MemberTier], stores: list[Site]) -> list[Member]:
    weights = {"normal": 60, "silver": 25, "gold": 12, "diamond": 3}
    rows = []
    for n in range(300):
        tier = rng.choices(list(weights), weights=list(weights.values()))[0]
        rows.append(
            Member(
                card_number=f"8860{n + 1:08d}",
                phone=f"13{rng.randint(0, 9)}{n + 1:08d}",
                name=rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", *GIVEN]),
                tier=tiers[tier],
                home_store=rng.choice(stores),
            )
        )
    # Fixed, easy demo members at the top of the list (used in the README).
    rows[0].phone, rows[0].name, rows[0].tier = "13800138000", "张伟", tiers["gold"]
    rows[1].phone, rows[1].name, rows[1].tier = "13900139000", "李娜", tiers["normal"]
    return Member.objects.bulk_create(rows)


def _gift_cards(rng: random.Random) -> None:
    for n in range(20):
        amount = rng.choice([10_000, 20_000, 50_000])
        card = GiftCard.objects.create(number=f"GC{n + 1:010d}", balance_fen=amount)
        GiftCardEntry.objects.create(card=card, delta_fen=amount, balance_after_fen=amount)


def _price_lists(chain: Chain, rng: random.Random, stores: list[Site]) -> None:
    """A store-override list for Hangzhou stores and a weekend special-price list."""
    by_id = {s.pk: s for s in Sku.objects.filter(pk__in=[d.id for d in chain.skus])}
    hangzhou = [s for s in stores if s.city == "杭州"]
    if hangzhou:
        plist = PriceList.objects.create(code="HZ", name="杭州门店价", priority=10)
        plist.stores.set(hangzhou)
        picked = rng.sample(chain.skus, min(40, len(chain.skus)))
        PriceListItem.objects.bulk_create(
            PriceListItem(
                price_list=plist,
                sku_id=d.id,
                price_fen=_round_jiao(by_id[d.id].retail_price_fen * 103 // 100),
            )
            for d in picked
        )
    today = timezone.localdate()
    start = _aware(today - dt.timedelta(days=today.weekday()))
    special = PriceList.objects.create(
        code="WEEK",
        name="本周特价",
        priority=20,
        valid_from=start,
        valid_to=start + dt.timedelta(days=7),
    )
    picked = rng.sample(chain.skus, min(20, len(chain.skus)))
    PriceListItem.objects.bulk_create(
        PriceListItem(
            price_list=special,
            sku_id=d.id,
            price_fen=_round_jiao(by_id[d.id].retail_price_fen * 85 // 100),
        )
        for d in picked
    )


def _promotions(chain: Chain, rng: random.Random, tiers: dict[str, MemberTier], admin: Any) -> None:
    cats = {c.code: c for c in Category.objects.all()}
    in_line = _skus_by_category(chain.skus)
    today = timezone.localdate()
    month_start = _aware(today.replace(day=1))
    window = {"valid_from": month_start, "valid_to": month_start + dt.timedelta(days=62)}

    def promo(code: str, name: str, kind: str, params: dict[str, Any], **kw: Any) -> Promotion:
        categories = kw.pop("categories", [])
        skus = kw.pop("skus", [])
        member_tiers = kw.pop("member_tiers", [])
        p = Promotion.objects.create(
            code=code, name=name, kind=kind, params=params, created_by=admin, **window, **kw
        )
        p.target_categories.set([cats[c] for c in categories if c in cats])
        p.target_skus.set(skus)
        p.member_tiers.set(member_tiers)
        return p

    promo(
        "MJ-ALL",
        "全场满100减20，满200减50",
        PromotionKind.THRESHOLD,
        {"tiers": [["100.00", "20.00"], ["200.00", "50.00"]]},
        priority=10,
    )
    promo(
        "SNACK-2ND",
        "零食第二件半价",
        PromotionKind.NTH_ITEM,
        {"nth": 2, "percent": "50"},
        categories=["30"],
        priority=20,
    )
    milk = in_line.get("1001", [])
    if milk:
        promo(
            "MILK-10+3",
            "指定牛奶买十赠三",
            PromotionKind.BUY_X_GET_Y,
            {"buy": 10, "get": 3},
            skus=[milk[0]],
            gift_sku=Sku.objects.get(pk=milk[0]),
            priority=30,
        )
    frozen = in_line.get("1007", [])
    if len(frozen) >= 2:
        promo(
            "FROZEN-GIFT",
            "速冻水饺买二赠汤圆一袋",
            PromotionKind.BUY_X_GET_Y,
            {"buy": 2, "get": 1},
            skus=[frozen[0]],
            gift_sku=Sku.objects.get(pk=frozen[-1]),
            priority=30,
        )
    promo(
        "EGG-2OFF",
        "鸡蛋每盒立减2元",
        PromotionKind.AMOUNT_OFF,
        {"amount": "2.00"},
        categories=["1004"],
        priority=20,
    )
    promo(
        "GOLD-95",
        "金卡钻石会员日用品95折",
        PromotionKind.PERCENT_OFF,
        {"percent": "5"},
        categories=["50"],
        member_condition=MemberCondition.TIERS,
        member_tiers=[tiers["gold"], tiers["diamond"]],
        stacking=Stacking.EXCLUSIVE,
        priority=40,
    )
    members_only = rng.sample([d.id for d in chain.skus], min(30, len(chain.skus)))
    prices = {
        str(s.pk): _yuan(_round_jiao(s.retail_price_fen * 90 // 100))
        for s in Sku.objects.filter(pk__in=members_only)
    }
    promo(
        "MEMBER-PRICE",
        "会员价",
        PromotionKind.SPECIAL_PRICE,
        {"prices": prices},
        skus=members_only,
        member_condition=MemberCondition.MEMBERS,
        priority=50,
    )
    bread, fresh_milk = in_line.get("1003", []), in_line.get("1001", [])
    if bread and fresh_milk:
        promo(
            "BREAKFAST",
            "早餐组合：面包+鲜牛奶 ¥15.9",
            PromotionKind.BUNDLE,
            {"components": [[str(bread[0]), 1], [str(fresh_milk[0]), 1]], "price": "15.90"},
            priority=20,
        )
    promo(
        "FRUIT-2X",
        "水果双倍积分",
        PromotionKind.POINTS_MULTIPLIER,
        {"multiplier": "2"},
        categories=["1006"],
    )


def _todays_sales(
    chain: Chain,
    rng: random.Random,
    members: list[Member],
    per_store: int,
    on_step: Callable[[int], None],
) -> int:
    """Ring up today's sales at the first stores through the real checkout service."""
    from chainstore.pos.services.sales import LineInput, TenderInput, create_sale
    from chainstore.pos.services.shifts import close_shift, open_shift

    cashier = chain.users["cashier"]
    manager = chain.users["store_manager"]
    store = chain.stores[0].site
    tills = list(Till.objects.filter(site=store).order_by("code"))
    now = timezone.localtime()
    # The store opened at 8:00; before 9:00 the demo's day so far starts at midnight.
    opened = now.replace(hour=8 if now.hour >= 9 else 0, minute=0, second=0, microsecond=0)
    span = int((now - opened).total_seconds())
    assortment = [chain.skus[i] for i in chain.stores[0].assortment]
    # Shoppers take what is on the shelf: baskets hold SKUs the store has in stock.
    on_shelf = _available(store, [d.id for d in assortment if not d.line.by_weight])
    sold = 0
    shifts = [
        open_shift(store=store, till=tills[0], opening_float_fen=50_000, actor=cashier),
        open_shift(store=store, till=tills[1], opening_float_fen=50_000, actor=manager),
    ]
    for n in range(per_store):
        shift = shifts[n % 2]
        actor = cashier if n % 2 == 0 else manager
        in_stock = [d for d in assortment if on_shelf.get(d.id, 0) >= 3_000]
        basket = rng.sample(in_stock, min(len(in_stock), rng.randint(1, 6)))
        picks = [(d, rng.randint(1, 3)) for d in basket]
        if n == per_store - 1:  # one shopper brings an item the ledger says is sold out
            gone = [d for d in assortment if on_shelf.get(d.id, 0) <= 0 and not d.line.by_weight]
            picks += [(gone[0], 1)] if gone else []
        for d, q in picks:
            on_shelf[d.id] = on_shelf.get(d.id, 0) - q * 1000
        lines = [LineInput(sku_code=d.code, quantity=Decimal(q)) for d, q in picks]
        member = rng.choice(members) if rng.random() < 0.6 else None
        sold_at = now - dt.timedelta(seconds=span * (per_store - n) // (per_store + 1))
        try:
            quote_total = _quote_total(store, lines, actor, member)
            kind = rng.choice(["cash", "wechat_pay", "alipay", "bank_card", "wechat_pay"])
            tender = TenderInput(
                kind=kind,
                amount_fen=quote_total,
                tendered_fen=_cash_handed(quote_total) if kind == "cash" else None,
                reference="" if kind == "cash" else f"DEMO{n:06d}",
            )
            create_sale(
                store=store,
                till=shift.till,
                lines=lines,
                tenders=[tender],
                actor=actor,
                member=member,
                idempotency_key=f"demo-sale-{store.code}-{n}",
                sold_at=sold_at,
            )
            sold += 1
        except DomainError:  # e.g. a short sale at a store that blocks them: skipped
            continue
        finally:
            on_step(1)
    close_shift(shift=shifts[1], counted_cash_fen=None, actor=manager)
    return sold


def _available(store: Site, sku_ids: list[int]) -> dict[int, int]:
    rows = (
        Balance.objects.filter(
            site=store,
            sku_id__in=sku_ids,
            location__kind__in=[LocationKind.SELLING, LocationKind.STORAGE],
        )
        .values("sku_id")
        .annotate(q=Sum(F("on_hand") - F("reserved")))
    )
    return {r["sku_id"]: r["q"] for r in rows}


def _quote_total(store: Site, lines: list[Any], actor: Any, member: Member | None) -> int:
    from chainstore.pos.services.pricing import quote_basket

    return quote_basket(store=store, lines=lines, actor=actor, member=member).total_fen


def _cash_handed(total_fen: int) -> int:
    for note in (1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000):
        if note >= total_fen:
            return note
    return total_fen


def _skus_by_category(skus: list[DemoSku]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for d in skus:
        out.setdefault(d.line.category, []).append(d.id)
    return out


def _round_jiao(fen: int) -> int:
    return max(10, (fen + 5) // 10 * 10)


def _yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:.2f}"


def _aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
