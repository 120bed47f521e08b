"""(f) The promotion engine alone: price_basket on 3-, 20- and 50-line baskets with ten
rules of every kind (no database). Reports p50/p99 of the whole call (model, HiGHS, the
allocation) and how many quotes were proven optimal within the checkout budget."""

from __future__ import annotations

import random
import statistics
import time
from decimal import Decimal
from typing import Any

from chainstore.pos.engine import Item, Rule, Targets, price_basket

SKUS = 60  # sku i: category 100 + i % 6, brand 200 + i % 4; skus 50.. are weighed


def _item(key: int, sku: int, rng: random.Random) -> Item:
    weighed = sku >= 50
    return Item(
        key=key,
        sku_id=sku,
        quantity=rng.randrange(150, 2500) if weighed else 1000 * rng.choice([1, 1, 1, 2, 3, 6]),
        unit_price_fen=1000 + (sku * 737) % 9000,
        weighed=weighed,
        category_ids=frozenset({100 + sku % 6, 99}),
        brand_id=200 + sku % 4,
    )


def basket(lines: int, seed: int) -> list[Item]:
    rng = random.Random(seed)
    return [_item(key, rng.randrange(SKUS), rng) for key in range(1, lines + 1)]


def rules() -> list[Rule]:
    def cat(*ids: int) -> Targets:
        return Targets(category_ids=frozenset(ids))

    return [
        Rule(id=1, code="MJ", name="满100减20 满200减50", kind="threshold",
             tiers=((10000, 2000), (20000, 5000)), priority=5),
        Rule(id=2, code="MMJ", name="每满300减30", kind="threshold", tiers=((30000, 3000),),
             repeat=True, max_repeats=5, targets=cat(101, 102, 103)),
        Rule(id=3, code="P10", name="Brand 9折", kind="percent_off", percent=Decimal(10),
             targets=Targets(brand_ids=frozenset({201}))),
        Rule(id=4, code="A2", name="立减2元", kind="amount_off", amount_fen=200, targets=cat(102)),
        Rule(id=5, code="VIP", name="会员价", kind="special_price", price_fen=1500,
             targets=Targets(sku_ids=frozenset({3, 9, 15, 21}))),
        Rule(id=6, code="N2", name="第二件半价", kind="nth_item", nth=2, percent=Decimal(50),
             targets=cat(103, 104)),
        Rule(id=7, code="B3G1", name="买3赠1", kind="buy_x_get_y", buy=3, get=1,
             gift_sku_id=7, max_gifts=4, targets=cat(105)),
        Rule(id=8, code="BD", name="组合价", kind="bundle", components=((1, 1), (2, 1), (4, 1)),
             price_fen=9000),
        Rule(id=9, code="EX", name="生鲜8折(独享)", kind="percent_off", percent=Decimal(20),
             exclusive=True, priority=3, targets=Targets(sku_ids=frozenset(range(50, 60)))),
        Rule(id=10, code="PTS", name="双倍积分", kind="points_multiplier",
             multiplier=Decimal(2), targets=cat(100)),
    ]  # fmt: skip


def run(quick: bool) -> list[dict[str, Any]]:
    repeats = 40 if quick else 300
    rule_set = rules()
    gift_prices = {7: 1000 + (7 * 737) % 9000}
    price_basket(basket(3, 0), rule_set, gift_prices)  # warm-up (imports, HiGHS)
    rows = []
    for lines in (3, 20, 50):
        times: list[float] = []
        optimal = 0
        saved = 0
        for seed in range(repeats):
            items = basket(lines, seed)
            t0 = time.perf_counter()
            quote = price_basket(items, rule_set, gift_prices)
            times.append((time.perf_counter() - t0) * 1000)
            optimal += quote.optimal
            saved += quote.discount_fen + quote.gift_value_fen
        times.sort()
        rows.append(
            {
                "variant": f"price_basket {lines} lines, {len(rule_set)} rules",
                "ops": repeats,
                "seconds": round(sum(times) / 1000, 3),
                "ops_per_s": round(repeats / (sum(times) / 1000), 1),
                "p50_ms": round(statistics.median(times), 2),
                "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 2),
                "note": f"{optimal}/{repeats} optimal, avg saving ¥{saved / repeats / 100:.2f}",
            }
        )
    return rows


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)
