"""`price_basket`: the best legal combination of promotions for a basket, exactly.

The model (a small integer program solved by HiGHS):

- Items are aggregated into groups: all count-goods lines of one SKU at one price form a
  group of whole units; every weighed line is a group of one indivisible unit whose price
  is the line amount. Groups and rules are put in a canonical order first (SKU, price,
  ...; rules by priority descending, then id), so the model, and so the quote, does not
  depend on the order the lines were scanned in.
- x[s,a,b] (integer) = units of group s under item-level option a (or none) and
  threshold rule b (or none). A pair (a, b) with both set is allowed only when neither
  rule is exclusive. Each group's units are all placed: sum_ab x[s,a,b] = units(s).
- Item-level options: percent_off / amount_off / special_price give a per-unit discount
  (rounded per unit, see rounding.py) d*x; nth_item claims whole sets, nth * k = sum x
  with k[s,a,b] <= x[s,a,b] discounted units worth d each; buy_x_get_y has n triggers,
  buy * n = units claimed, gifts g <= get * n (and <= max_gifts) worth the gift SKU's
  price; a bundle (one option per choice of groups for its components) has n bundles,
  need * n units of each component, saving n * (sum of component prices - bundle price).
- A threshold rule b counts the units placed under it at their price after item-level
  discounts (a bundle's saving is shared per unit proportionally to price: a unit counts
  price * bundle_price / bundle_gross). Tiers: binary y_t, sum_t y_t <= 1, contribution
  >= max(spend_t, save_t) * y_t, saving save_t * y_t; repeat=True: integer m <=
  max_repeats, contribution >= spend * m, saving save * m.
- Objective: maximise the shopper's saving (money off + gift value), an integer in fen,
  solved with mip_rel_gap 0 and mip_abs_gap 0.5 (exact for an integer objective). Then a
  second solve keeps that saving (row >= optimum - 0.5) and maximises
  sum_r (R - rank_r) * saving_r: ties go to the higher-priority rules.
- Afterwards, exactly in integers/fractions: threshold tiers are re-checked, units left
  outside an active threshold that could count towards it are counted (this changes no
  money, only which lines share the saving), and every discount is allocated to lines
  (rounding.py: per unit, or largest remainder by weight).

If HiGHS runs out of time the best solution it found is used (it always has one: the
basket with no promotion is given as a start), and the quote says optimal=False.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from chainstore.pos.engine.explain import number, render
from chainstore.pos.engine.rounding import largest_remainder, unit_discount, yuan
from chainstore.pos.engine.types import (
    ITEM_KINDS,
    POINTS_MULTIPLIER,
    THRESHOLD,
    AppliedRule,
    Discount,
    Gift,
    Item,
    PricedLine,
    Quote,
    Rule,
)

UNIT_KINDS = frozenset({"percent_off", "amount_off", "special_price"})
NONE = -1  # "no rule" for a or b


# -- the model's pieces ----------------------------------------------------------------
@dataclass
class _Group:
    index: int
    sku_id: int
    price: int  # per unit (count goods) or the line amount (weighed)
    units: int
    weighed: bool
    item: Item  # a representative line (targets match on SKU, categories, brand)
    lines: list[tuple[int, int]]  # (line key, units), by key


@dataclass
class _Option:
    """One item-level choice: a rule (a bundle: one choice of component groups)."""

    rule: Rule
    rank: int
    kind: str
    discount: dict[int, int] = field(default_factory=dict)  # group -> d (unit kinds, nth)
    needs: dict[int, int] = field(default_factory=dict)  # bundle: group -> units per bundle
    bundle_gross: int = 0
    gift_price: int = 0
    max_triggers: int = 0

    def matches(self, group: _Group) -> bool:
        if self.kind == "bundle":
            return group.index in self.needs
        return (
            group.index in self.discount
            if self.kind != "buy_x_get_y"
            else (not group.weighed and self.rule.targets.matches(group.item))
        )

    def contribution(self, group: _Group) -> Fraction:
        """A unit's count towards a threshold (nth: before its k discount)."""
        if self.kind in UNIT_KINDS:
            return Fraction(group.price - self.discount[group.index])
        if self.kind == "bundle":
            price = self.rule.price_fen or 0
            return Fraction(group.price * price, self.bundle_gross)
        return Fraction(group.price)


@dataclass
class _Threshold:
    rule: Rule
    rank: int
    tiers: list[tuple[int, int]]  # (spend, save) ascending; repeat: one tier
    max_repeats: int = 0


@dataclass
class _Solution:
    x: dict[tuple[int, int, int], int]
    k: dict[tuple[int, int, int], int]
    n: dict[int, int]
    g: dict[int, int]
    tier: dict[int, int]  # threshold -> chosen tier index (non-repeat) or repeats m


# -- HiGHS -----------------------------------------------------------------------------
_QUIET = threading.Lock()
_quieted = False


def _new_highs() -> Any:
    """A silent Highs. The first Highs() in a process prints a banner on stdout before any
    option can be set, so that one is made with stdout pointed at /dev/null."""
    global _quieted
    import highspy

    if not _quieted:
        with _QUIET:
            if not _quieted:
                saved = os.dup(1)
                devnull = os.open(os.devnull, os.O_WRONLY)
                try:
                    os.dup2(devnull, 1)
                    highspy.Highs()
                finally:
                    os.dup2(saved, 1)
                    os.close(saved)
                    os.close(devnull)
                _quieted = True
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 0.5)  # the objective is an integer (fen): exact
    h.setOptionValue("random_seed", 0)
    return h


class _Model:
    def __init__(self) -> None:
        self.cost: list[float] = []  # phase 1: the shopper's saving
        self.tie: list[float] = []  # phase 2: saving weighted by rule rank
        self.upper: list[float] = []
        self.start: list[float] = []
        self.row_lower: list[float] = []
        self.row_upper: list[float] = []
        self.row_starts: list[int] = []
        self.row_index: list[int] = []
        self.row_value: list[float] = []

    def var(self, upper: float, cost: float = 0.0, tie: float = 0.0, start: float = 0) -> int:
        self.cost.append(cost)
        self.tie.append(tie)
        self.upper.append(upper)
        self.start.append(start)
        return len(self.cost) - 1

    def row(self, terms: Sequence[tuple[int, float]], lower: float, upper: float) -> None:
        self.row_starts.append(len(self.row_index))
        for col, value in terms:
            self.row_index.append(col)
            self.row_value.append(value)
        self.row_lower.append(lower)
        self.row_upper.append(upper)


# -- input canonicalisation ----------------------------------------------------------------
def _groups(items: Sequence[Item]) -> list[_Group]:
    count: dict[tuple[int, int], list[Item]] = defaultdict(list)
    weighed: list[Item] = []
    for item in items:
        if item.weighed:
            weighed.append(item)
        elif item.quantity >= 1000:
            count[(item.sku_id, item.unit_price_fen)].append(item)
    groups: list[_Group] = []
    for (sku_id, price), lines in sorted(count.items()):
        lines.sort(key=lambda i: i.key)
        groups.append(
            _Group(
                index=len(groups),
                sku_id=sku_id,
                price=price,
                units=sum(i.units for i in lines),
                weighed=False,
                item=lines[0],
                lines=[(i.key, i.units) for i in lines],
            )
        )
    for item in sorted(weighed, key=lambda i: (i.sku_id, i.unit_price_fen, i.quantity, i.key)):
        groups.append(
            _Group(
                index=len(groups),
                sku_id=item.sku_id,
                price=item.gross_fen,
                units=1,
                weighed=True,
                item=item,
                lines=[(item.key, 1)],
            )
        )
    return [g for g in groups if g.price > 0]


def _rule_order(rules: Sequence[Rule]) -> list[Rule]:
    return sorted(rules, key=lambda r: (-r.priority, r.id))


def _options(
    groups: list[_Group], rules: list[Rule], gift_prices: Mapping[int, int]
) -> list[_Option]:
    options: list[_Option] = []
    for rank, rule in enumerate(rules):
        kind = rule.kind
        if kind in UNIT_KINDS or kind == "nth_item":
            option = _Option(rule=rule, rank=rank, kind=kind)
            for g in groups:
                if not rule.targets.matches(g.item):
                    continue
                if kind == "nth_item" and (g.weighed or rule.nth < 2 or g.units < rule.nth):
                    continue
                d = unit_discount(
                    kind,
                    g.item,
                    percent=rule.percent,
                    amount_fen=rule.amount_fen,
                    price_fen=rule.price_fen,
                )
                if d > 0:
                    option.discount[g.index] = d
            if option.discount:
                options.append(option)
        elif kind == "buy_x_get_y":
            price = gift_prices.get(rule.gift_sku_id or 0, 0) if rule.gift_sku_id else 0
            if rule.buy <= 0 or rule.get <= 0 or price <= 0:
                continue
            total = sum(g.units for g in groups if not g.weighed and rule.targets.matches(g.item))
            triggers = total // rule.buy
            if rule.max_gifts is not None:
                triggers = min(triggers, -(-max(rule.max_gifts, 0) // rule.get))
            if triggers > 0:
                options.append(
                    _Option(
                        rule=rule, rank=rank, kind=kind, gift_price=price, max_triggers=triggers
                    )
                )
        elif kind == "bundle":
            if rule.price_fen is None or rule.price_fen < 0 or not rule.components:
                continue
            needs: dict[int, int] = defaultdict(int)
            for sku_id, units in rule.components:
                needs[sku_id] += units
            if any(u <= 0 for u in needs.values()):
                continue
            choices = [
                [g for g in groups if not g.weighed and g.sku_id == sku and g.units >= need]
                for sku, need in sorted(needs.items())
            ]
            for combo in itertools.product(*choices):
                gross = sum(g.price * needs[g.sku_id] for g in combo)
                if gross <= rule.price_fen:
                    continue
                options.append(
                    _Option(
                        rule=rule,
                        rank=rank,
                        kind=kind,
                        needs={g.index: needs[g.sku_id] for g in combo},
                        bundle_gross=gross,
                        max_triggers=min(g.units // needs[g.sku_id] for g in combo),
                    )
                )
    return options


def _valid_tiers(rule: Rule) -> list[tuple[int, int]]:
    """A threshold's tiers that save something, by spend."""
    return sorted((spend, save) for spend, save in rule.tiers if save > 0 and spend >= 0)


def _thresholds(groups: list[_Group], rules: list[Rule]) -> list[_Threshold]:
    result = []
    for rank, rule in enumerate(rules):
        if rule.kind != THRESHOLD:
            continue
        tiers = _valid_tiers(rule)
        if not tiers or not any(rule.targets.matches(g.item) for g in groups):
            continue
        if rule.repeat:
            spend, save = tiers[0]
            if spend <= 0:
                continue
            eligible = sum(g.price * g.units for g in groups if rule.targets.matches(g.item))
            most = eligible // max(spend, save)
            if rule.max_repeats is not None:
                most = min(most, rule.max_repeats)
            if most > 0:
                result.append(_Threshold(rule=rule, rank=rank, tiers=[tiers[0]], max_repeats=most))
        else:
            # The best tier reached wins (tiers[i] pays when the spend reaches it); tiers
            # the eligible goods cannot reach are left out.
            eligible = sum(g.price * g.units for g in groups if rule.targets.matches(g.item))
            reachable = [(spend, save) for spend, save in tiers if max(spend, save) <= eligible]
            if reachable:
                result.append(_Threshold(rule=rule, rank=rank, tiers=reachable))
    return result


# -- building and solving -----------------------------------------------------------------
@dataclass
class _Built:
    model: _Model
    x: dict[tuple[int, int, int], int]
    k: dict[tuple[int, int, int], int]
    n: dict[int, int]
    g: dict[int, int]
    y: dict[tuple[int, int], int]
    m: dict[int, int]
    ranked: int  # how many rules can save money (phase 2 breaks ties only if 2+)


def _build(
    groups: list[_Group], options: list[_Option], thresholds: list[_Threshold], n_rules: int
) -> _Built:
    model = _Model()
    x: dict[tuple[int, int, int], int] = {}
    k: dict[tuple[int, int, int], int] = {}
    n: dict[int, int] = {}
    gifts: dict[int, int] = {}
    y: dict[tuple[int, int], int] = {}
    m: dict[int, int] = {}

    def weight(rank: int) -> int:
        return n_rules - rank

    group_options = [[a for a, o in enumerate(options) if o.matches(g)] for g in groups]
    group_thresholds = [
        [b for b, t in enumerate(thresholds) if t.rule.targets.matches(g.item)] for g in groups
    ]
    threshold_terms: list[list[tuple[int, float]]] = [[] for _ in thresholds]
    by_option: dict[tuple[int, int], list[int]] = defaultdict(list)  # (s, a) -> x columns
    k_by_option: dict[tuple[int, int], list[int]] = defaultdict(list)
    option_terms: list[list[tuple[int, float]]] = [[] for _ in options]

    for g in groups:
        s = g.index
        cols = []
        for a in [NONE, *group_options[s]]:
            option = options[a] if a != NONE else None
            for b in [NONE, *group_thresholds[s]]:
                if (
                    option is not None
                    and b != NONE
                    and (option.rule.exclusive or thresholds[b].rule.exclusive)
                ):
                    continue
                d = option.discount.get(s, 0) if option and option.kind in UNIT_KINDS else 0
                col = model.var(
                    g.units,
                    cost=d,
                    tie=d * weight(option.rank) if option else 0,
                    start=g.units if a == NONE and b == NONE else 0,
                )
                x[(s, a, b)] = col
                by_option[(s, a)].append(col)
                cols.append(col)
                if option is not None:
                    option_terms[a].append((col, 1.0))
                if b != NONE:
                    share = option.contribution(g) if option else Fraction(g.price)
                    threshold_terms[b].append((col, float(share)))
                if option is not None and option.kind == "nth_item":
                    dn = option.discount[s]
                    kc = model.var(
                        g.units // option.rule.nth, cost=dn, tie=dn * weight(option.rank)
                    )
                    k[(s, a, b)] = kc
                    k_by_option[(s, a)].append(kc)
                    model.row([(kc, 1.0), (col, -1.0)], -math.inf, 0.0)
                    if b != NONE:
                        threshold_terms[b].append((kc, float(-dn)))
        model.row([(c, 1.0) for c in cols], g.units, g.units)
        # nth_item: the units claimed are whole sets.
        for a in group_options[s]:
            option = options[a]
            if option.kind != "nth_item":
                continue
            terms = [(col, 1.0) for col in by_option[(s, a)]]
            terms += [(col, -float(option.rule.nth)) for col in k_by_option[(s, a)]]
            model.row(terms, 0.0, 0.0)

    for a, option in enumerate(options):
        rule = option.rule
        if option.kind == "buy_x_get_y":
            nc = model.var(option.max_triggers)
            value = option.gift_price
            gc = model.var(
                option.max_triggers * rule.get
                if rule.max_gifts is None
                else min(rule.max_gifts, option.max_triggers * rule.get),
                cost=value,
                tie=value * weight(option.rank),
            )
            n[a], gifts[a] = nc, gc
            model.row([*option_terms[a], (nc, -float(rule.buy))], 0.0, 0.0)
            model.row([(gc, 1.0), (nc, -float(rule.get))], -math.inf, 0.0)
        elif option.kind == "bundle":
            saving = option.bundle_gross - (rule.price_fen or 0)
            nc = model.var(option.max_triggers, cost=saving, tie=saving * weight(option.rank))
            n[a] = nc
            for s, need in option.needs.items():
                terms = [(col, 1.0) for col in by_option[(s, a)]]
                model.row([*terms, (nc, -float(need))], 0.0, 0.0)

    for b, threshold in enumerate(thresholds):
        w = weight(threshold.rank)
        if threshold.rule.repeat:
            spend, save = threshold.tiers[0]
            mc = model.var(threshold.max_repeats, cost=save, tie=save * w)
            m[b] = mc
            model.row([*threshold_terms[b], (mc, -float(max(spend, save)))], 0.0, math.inf)
        else:
            tier_cols = []
            for t, (spend, save) in enumerate(threshold.tiers):
                yc = model.var(1, cost=save, tie=save * w)
                y[(b, t)] = yc
                tier_cols.append((yc, -float(max(spend, save))))
            model.row([(c, 1.0) for c, _ in tier_cols], -math.inf, 1.0)
            model.row([*threshold_terms[b], *tier_cols], 0.0, math.inf)
    ranked = len({o.rule.id for o in options} | {t.rule.id for t in thresholds})
    return _Built(model=model, x=x, k=k, n=n, g=gifts, y=y, m=m, ranked=ranked)


def _solve(
    built: _Built, time_limit_s: float, check: Callable[[list[float]], bool]
) -> tuple[list[float], bool]:
    """Column values of the best solution found, and whether it is proven optimal
    (phase 1 optimal: the saving is the maximum; phase 2 only breaks ties).

    Every answer HiGHS gives is checked: the objective recomputed from the column values
    must match, and `check` (the exact re-check in integers and fractions) must accept the
    solution. If not, the phase is solved again with presolve off; if that fails too the
    basket is priced without promotions (optimal=False)."""
    import highspy

    model = built.model
    num_cols = len(model.cost)
    if num_cols == 0:
        return [], True
    started = time.perf_counter()
    deadline = started + max(time_limit_s, 0.001)
    start = [float(v) for v in model.start]
    h = _load(built)
    values, status, ok = _run(h, model.cost, deadline, check)
    if not ok:
        h = _load(built, presolve=False)
        retry, status, ok = _run(h, model.cost, max(deadline, time.perf_counter() + 0.05), check)
        if ok or values is None:
            values = retry
    if not ok:
        return (values if values is not None else start), False
    assert values is not None
    if status != highspy.HighsModelStatus.kOptimal:
        return values, False
    best = round(_dot(model.cost, values))
    if built.ranked < 2:
        return values, True
    # Phase 2: keep the saving, prefer the higher-priority rules.
    nz = [i for i, c in enumerate(model.cost) if c != 0]
    h.addRow(
        best - 0.5,
        highspy.kHighsInf,
        len(nz),
        np.array(nz, dtype=np.int32),
        np.array([model.cost[i] for i in nz], dtype=np.float64),
    )
    h.changeColsCost(
        num_cols, np.arange(num_cols, dtype=np.int32), np.array(model.tie, dtype=np.float64)
    )
    h.setSolution(num_cols, np.arange(num_cols, dtype=np.int32), np.array(values))
    # The tie-break gets at most as long again as phase 1 took (and 20 ms at least).
    now = time.perf_counter()
    tie_deadline = min(max(deadline, now + 0.02), now + max(now - started, 0.02))
    second, status, ok = _run(h, model.tie, tie_deadline, check)
    # Only a finished tie-break is used: a time-limited one would depend on the machine.
    if (
        not ok
        or second is None
        or status != highspy.HighsModelStatus.kOptimal
        or round(_dot(model.cost, second)) != best
    ):
        return values, True
    return second, True


def _dot(costs: Sequence[float], values: Sequence[float]) -> float:
    return sum(c * v for c, v in zip(costs, values, strict=True))


def _load(built: _Built, *, presolve: bool = True) -> Any:
    import highspy

    model = built.model
    num_cols = len(model.cost)
    h = _new_highs()
    if not presolve:
        h.setOptionValue("presolve", "off")
    inf = highspy.kHighsInf
    h.addCols(
        num_cols,
        np.array(model.cost, dtype=np.float64),
        np.zeros(num_cols),
        np.array(model.upper, dtype=np.float64),
        0,
        np.zeros(num_cols, dtype=np.int32),
        np.zeros(0, dtype=np.int32),
        np.zeros(0, dtype=np.float64),
    )
    h.changeColsIntegrality(
        num_cols,
        np.arange(num_cols, dtype=np.int32),
        np.full(num_cols, int(highspy.HighsVarType.kInteger), dtype=np.uint8),
    )
    num_rows = len(model.row_lower)
    if num_rows:
        h.addRows(
            num_rows,
            np.array([lo if lo != -math.inf else -inf for lo in model.row_lower]),
            np.array([up if up != math.inf else inf for up in model.row_upper]),
            len(model.row_index),
            np.array(model.row_starts, dtype=np.int32),
            np.array(model.row_index, dtype=np.int32),
            np.array(model.row_value, dtype=np.float64),
        )
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    return h


def _run(
    h: Any, costs: Sequence[float], deadline: float, check: Callable[[list[float]], bool]
) -> tuple[list[float] | None, Any, bool]:
    """Solve until the deadline: the solution found (None if none, or if its objective
    does not match its column values), the model status, and whether the solution
    passed the exact check."""
    import highspy

    h.setOptionValue("time_limit", max(deadline - time.perf_counter(), 0.001))
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    if info.primal_solution_status != highspy.SolutionStatus.kSolutionStatusFeasible:
        return None, status, False
    values = list(h.getSolution().col_value)
    if abs(_dot(costs, values) - info.objective_function_value) > 0.5:
        return None, status, False
    return values, status, check(values)


def _extract(built: _Built, values: list[float]) -> _Solution:
    def val(col: int) -> int:
        return round(values[col]) if values else 0

    tier: dict[int, int] = {}
    for (b, t), col in built.y.items():
        if val(col) == 1:
            tier[b] = t
    for b, col in built.m.items():
        if val(col) > 0:
            tier[b] = val(col)
    return _Solution(
        x={key: v for key, col in built.x.items() if (v := val(col)) > 0},
        k={key: v for key, col in built.k.items() if (v := val(col)) > 0},
        n={a: v for a, col in built.n.items() if (v := val(col)) > 0},
        g={a: v for a, col in built.g.items() if (v := val(col)) > 0},
        tier=tier,
    )


def _contribution(b: int, sol: _Solution, groups: list[_Group], options: list[_Option]) -> Fraction:
    total = Fraction(0)
    for (s, a, bb), units in sol.x.items():
        if bb != b:
            continue
        g = groups[s]
        total += units * (options[a].contribution(g) if a != NONE else Fraction(g.price))
        if a != NONE and options[a].kind == "nth_item":
            total -= sol.k.get((s, a, b), 0) * options[a].discount[s]
    return total


def _feasible(
    sol: _Solution, groups: list[_Group], options: list[_Option], thresholds: list[_Threshold]
) -> bool:
    """Exact check of the rounded solution (HiGHS works in floating point)."""
    placed: dict[int, int] = defaultdict(int)
    claimed: dict[tuple[int, int], int] = defaultdict(int)
    for (s, a, b), units in sol.x.items():
        placed[s] += units
        if a != NONE:
            claimed[(s, a)] += units
            if not options[a].matches(groups[s]):
                return False
            if b != NONE and (options[a].rule.exclusive or thresholds[b].rule.exclusive):
                return False
        if b != NONE and not thresholds[b].rule.targets.matches(groups[s].item):
            return False
    if any(placed[g.index] != g.units for g in groups):
        return False
    for key, kv in sol.k.items():
        if kv > sol.x.get(key, 0):
            return False
    for a, option in enumerate(options):
        if option.kind == "nth_item":
            for s in option.discount:
                discounted = sum(v for (ss, aa, _), v in sol.k.items() if ss == s and aa == a)
                if claimed[(s, a)] != option.rule.nth * discounted:
                    return False
        elif option.kind == "buy_x_get_y":
            units = sum(v for (_, aa), v in claimed.items() if aa == a)
            triggers = sol.n.get(a, 0)
            gifts = sol.g.get(a, 0)
            if units != option.rule.buy * triggers or gifts > option.rule.get * triggers:
                return False
            if option.rule.max_gifts is not None and gifts > option.rule.max_gifts:
                return False
        elif option.kind == "bundle":
            bundles = sol.n.get(a, 0)
            if any(claimed[(s, a)] != need * bundles for s, need in option.needs.items()):
                return False
    for b, t in list(sol.tier.items()):
        threshold = thresholds[b]
        contribution = _contribution(b, sol, groups, options)
        if threshold.rule.repeat:
            spend, save = threshold.tiers[0]
            if contribution < max(spend, save) * t:
                return False
        elif contribution < max(threshold.tiers[t]):
            return False
    return True


def _repair(
    sol: _Solution, groups: list[_Group], options: list[_Option], thresholds: list[_Threshold]
) -> None:
    """Give each threshold the best tier its units reach exactly (HiGHS compares in
    floating point; a bundle's share makes a unit's count a fraction)."""
    for b, threshold in enumerate(thresholds):
        contribution = _contribution(b, sol, groups, options)
        if threshold.rule.repeat:
            spend, save = threshold.tiers[0]
            times = min(int(contribution // max(spend, save)), threshold.max_repeats)
            sol.tier[b] = times
        else:
            reached = [
                (save, -t)
                for t, (spend, save) in enumerate(threshold.tiers)
                if contribution >= max(spend, save)
            ]
            sol.tier[b] = -max(reached)[1] if reached else -1
        if sol.tier[b] <= 0 and not (sol.tier[b] == 0 and not threshold.rule.repeat):
            del sol.tier[b]


def _normalise(
    sol: _Solution, groups: list[_Group], options: list[_Option], thresholds: list[_Threshold]
) -> None:
    """Units under a threshold that saves nothing count towards none; units outside every
    active threshold count towards the first (by priority) active one they may join.
    Neither changes any amount: only which lines share a threshold's saving."""
    moved: dict[tuple[int, int, int], int] = defaultdict(int)
    moved_k: dict[tuple[int, int, int], int] = defaultdict(int)
    for (s, a, b), units in sol.x.items():
        target = b if b == NONE or b in sol.tier else NONE
        if target == NONE:
            group = groups[s]
            option = options[a] if a != NONE else None
            for bb in sorted(sol.tier, key=lambda i: thresholds[i].rank):
                rule = thresholds[bb].rule
                if not rule.targets.matches(group.item):
                    continue
                if option is not None and (option.rule.exclusive or rule.exclusive):
                    continue
                target = bb
                break
        moved[(s, a, target)] += units
        moved_k[(s, a, target)] += sol.k.get((s, a, b), 0)
    sol.x = dict(moved)
    sol.k = {key: v for key, v in moved_k.items() if v > 0}


# -- allocation -------------------------------------------------------------------------
@dataclass
class _Piece:
    key: int  # line key
    group: int
    a: int
    b: int
    units: int
    gross: int
    item_discount: int = 0  # unit kinds and nth (exact per piece)


def _pieces(sol: _Solution, groups: list[_Group]) -> list[_Piece]:
    by_group: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for (s, a, b), units in sol.x.items():
        by_group[s].append((a, b, units))
    pieces: list[_Piece] = []
    for s, chunks in sorted(by_group.items()):
        group = groups[s]
        # Discounted units first, on the first lines; then by option and threshold.
        chunks.sort(key=lambda c: (c[0] == NONE, c[0], c[1] == NONE, c[1]))
        lines = iter(group.lines)
        line_key, left = next(lines)
        for a, b, units in chunks:
            while units > 0:
                if left == 0:
                    line_key, left = next(lines)
                take = min(units, left)
                gross = group.price * take
                pieces.append(_Piece(key=line_key, group=s, a=a, b=b, units=take, gross=gross))
                units -= take
                left -= take
    return pieces


def price_basket(
    items: Sequence[Item],
    rules: Sequence[Rule],
    gift_prices: Mapping[int, int],
    *,
    time_limit_s: float = 0.5,
) -> Quote:
    """Price a basket: the best legal combination of `rules` for the shopper, allocated to
    lines (see the module docstring and types.py for the semantics)."""
    started = time.perf_counter()
    keys = [item.key for item in items]
    if len(set(keys)) != len(keys):
        raise ValueError("line keys must be unique")
    if any(item.quantity <= 0 or item.unit_price_fen < 0 for item in items):
        raise ValueError("quantities must be positive and prices not negative")
    ordered = _rule_order([r for r in rules if r.kind in ITEM_KINDS or r.kind == THRESHOLD])
    groups = _groups(items)
    options = _options(groups, ordered, gift_prices)
    thresholds = _thresholds(groups, ordered)
    optimal = True
    if options or thresholds:
        built = _build(groups, options, thresholds, len(ordered))

        def check(values: list[float]) -> bool:
            return _feasible(_extract(built, values), groups, options, thresholds)

        values, optimal = _solve(built, time_limit_s, check)
        sol = _extract(built, values)
        if not optimal and not _feasible(sol, groups, options, thresholds):
            _repair(sol, groups, options, thresholds)
            if not _feasible(sol, groups, options, thresholds):
                sol = _Solution(
                    x={(g.index, NONE, NONE): g.units for g in groups}, k={}, n={}, g={}, tier={}
                )
    else:
        sol = _Solution(
            x={(g.index, NONE, NONE): g.units for g in groups}, k={}, n={}, g={}, tier={}
        )
    _normalise(sol, groups, options, thresholds)
    quote = _quote(items, rules, gift_prices, groups, options, thresholds, sol, optimal)
    return _with_time(quote, (time.perf_counter() - started) * 1000)


def _with_time(quote: Quote, solve_ms: float) -> Quote:
    from dataclasses import replace

    return replace(quote, solve_ms=round(solve_ms, 3))


def _quote(
    items: Sequence[Item],
    rules: Sequence[Rule],
    gift_prices: Mapping[int, int],
    groups: list[_Group],
    options: list[_Option],
    thresholds: list[_Threshold],
    sol: _Solution,
    optimal: bool,
) -> Quote:
    by_key = {item.key: item for item in items}
    pieces = _pieces(sol, groups)
    line_discounts: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    rule_lines: dict[int, set[int]] = defaultdict(set)  # rule id -> lines it used
    rule_units: dict[int, int] = defaultdict(int)  # rule id -> units discounted / bundles...
    # Item-level discounts.
    for piece in pieces:
        if piece.a == NONE:
            continue
        option = options[piece.a]
        rule_lines[option.rule.id].add(piece.key)
        if option.kind in UNIT_KINDS:
            piece.item_discount = option.discount[piece.group] * piece.units
            rule_units[option.rule.id] += piece.units
    for (s, a, b), kv in sorted(sol.k.items()):
        option = options[a]
        chunk = [p for p in pieces if p.group == s and p.a == a and p.b == b]
        d = option.discount[s]
        shares = largest_remainder(
            kv * d,
            {p.key: p.units for p in chunk},
            {p.key: d * p.units for p in chunk},
        )
        for p in chunk:
            p.item_discount = shares[p.key]
        rule_units[option.rule.id] += kv
    for piece in pieces:
        if piece.item_discount:
            line_discounts[piece.key][options[piece.a].rule.id] += piece.item_discount
    for a, option in enumerate(options):
        if option.kind != "bundle" or not sol.n.get(a):
            continue
        bundles = sol.n[a]
        saving = bundles * (option.bundle_gross - (option.rule.price_fen or 0))
        weights: dict[int, int] = defaultdict(int)
        for p in pieces:
            if p.a == a:
                weights[p.key] += p.gross
        shares = largest_remainder(saving, weights, dict(weights))
        for key, share in shares.items():
            line_discounts[key][option.rule.id] += share
        rule_units[option.rule.id] += bundles
    # Threshold savings, by priority, on what the lines still owe.
    threshold_spend: dict[int, Fraction] = {}
    for b in sorted(sol.tier, key=lambda i: thresholds[i].rank):
        threshold = thresholds[b]
        rule = threshold.rule
        t = sol.tier[b]
        save = threshold.tiers[0][1] * t if rule.repeat else threshold.tiers[t][1]
        contributions: dict[int, Fraction] = defaultdict(Fraction)
        for p in pieces:
            if p.b != b:
                continue
            if p.a == NONE:
                contributions[p.key] += p.gross
            else:
                option = options[p.a]
                if option.kind == "nth_item":
                    contributions[p.key] += p.gross - p.item_discount
                else:
                    contributions[p.key] += p.units * option.contribution(groups[p.group])
        caps = {
            key: by_key[key].gross_fen - sum(line_discounts[key].values()) for key in contributions
        }
        shares = largest_remainder(save, contributions, caps)
        for key, share in shares.items():
            if share:
                line_discounts[key][rule.id] += share
        rule_lines[rule.id].update(contributions)
        threshold_spend[rule.id] = sum(contributions.values(), Fraction(0))
        rule_units[rule.id] = t if rule.repeat else _valid_tiers(rule).index(threshold.tiers[t]) + 1

    lines: list[PricedLine] = []
    multipliers = _points(items, rules)
    for item in items:
        discounts = tuple(
            Discount(rule_id=rid, amount_fen=amount)
            for rid, amount in sorted(line_discounts[item.key].items())
            if amount > 0
        )
        gross = item.gross_fen
        lines.append(
            PricedLine(
                key=item.key,
                gross_fen=gross,
                discounts=discounts,
                net_fen=gross - sum(d.amount_fen for d in discounts),
                points_multiplier=multipliers[item.key][0],
            )
        )
    amounts: dict[int, int] = defaultdict(int)
    for line in lines:
        for line_share in line.discounts:
            amounts[line_share.rule_id] += line_share.amount_fen

    gifts: list[Gift] = []
    applied: list[AppliedRule] = []
    rule_by_id = {r.id: r for r in rules}
    gift_count: dict[int, int] = defaultdict(int)
    triggers: dict[int, int] = defaultdict(int)
    bought: dict[int, int] = defaultdict(int)
    for a, option in enumerate(options):
        if option.kind == "buy_x_get_y" and sol.g.get(a):
            gift_count[option.rule.id] += sol.g[a]
            triggers[option.rule.id] += sol.n.get(a, 0)
            bought[option.rule.id] += option.rule.buy * sol.n.get(a, 0)
    for rule in _rule_order(list(rule_by_id.values())):
        rid = rule.id
        if rule.kind == POINTS_MULTIPLIER:
            won = sorted(k for k, (_, winner) in multipliers.items() if winner == rid)
            if not won:
                continue
            text, template, args = render(
                "points_multiplier",
                {
                    "name": rule.name,
                    "multiplier": number(rule.multiplier or 0),  # type: ignore[arg-type]
                    "lines": str(len(won)),
                },
            )
            applied.append(_applied(rule, 0, 0, len(won), tuple(won), text, template, args))
            continue
        gift_value = 0
        if gift_count.get(rid):
            price = gift_prices[rule.gift_sku_id or 0]
            gift_value = gift_count[rid] * price
            gifts.append(
                Gift(
                    rule_id=rid,
                    sku_id=rule.gift_sku_id or 0,
                    quantity=gift_count[rid] * 1000,
                    value_fen=gift_value,
                )
            )
        amount = amounts.get(rid, 0)
        if amount <= 0 and gift_value <= 0:
            continue
        used = tuple(sorted(rule_lines[rid]))
        times = triggers[rid] if rule.kind == "buy_x_get_y" else rule_units[rid]
        text, template, args = _explain(
            rule,
            amount,
            gift_value,
            times,
            gift_count[rid],
            bought[rid],
            threshold_spend,
            by_key,
            used,
        )
        applied.append(_applied(rule, amount, gift_value, times, used, text, template, args))
    subtotal = sum(line.gross_fen for line in lines)
    discount = sum(amounts.values())
    return Quote(
        lines=tuple(lines),
        gifts=tuple(gifts),
        applied=tuple(applied),
        subtotal_fen=subtotal,
        discount_fen=discount,
        total_fen=subtotal - discount,
        gift_value_fen=sum(g.value_fen for g in gifts),
        optimal=optimal,
        solve_ms=0.0,
    )


def _applied(
    rule: Rule,
    amount: int,
    gift_value: int,
    times: int,
    line_keys: tuple[int, ...],
    text: str,
    template: str,
    args: tuple[tuple[str, str], ...],
) -> AppliedRule:
    return AppliedRule(
        rule_id=rule.id,
        code=rule.code,
        name=rule.name,
        kind=rule.kind,
        amount_fen=amount,
        gift_value_fen=gift_value,
        times=times,
        line_keys=line_keys,
        explanation=text,
        explanation_template=template,
        explanation_args=args,
    )


def _explain(
    rule: Rule,
    amount: int,
    gift_value: int,
    times: int,
    gifts: int,
    bought: int,
    spend: Mapping[int, Fraction],
    by_key: Mapping[int, Item],
    used: tuple[int, ...],
) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    args = {"name": rule.name, "amount": yuan(amount), "units": str(times)}
    kind = rule.kind
    if kind == "percent_off":
        args["percent"] = number(rule.percent or 0)  # type: ignore[arg-type]
        return render(kind, args)
    if kind in ("amount_off", "special_price"):
        weighed = bool(used) and all(by_key[k].weighed for k in used)
        if kind == "amount_off":
            args["off"] = yuan(rule.amount_fen or 0)
        else:
            args["price"] = yuan(rule.price_fen or 0)
        return render(kind + ("_weighed" if weighed else ""), args)
    if kind == "nth_item":
        args["nth"] = str(rule.nth)
        args["percent"] = number(rule.percent or 0)  # type: ignore[arg-type]
        return render(kind, args)
    if kind == "buy_x_get_y":
        return render(
            kind,
            {
                "name": rule.name,
                "buy": str(rule.buy),
                "get": str(rule.get),
                "bought": str(bought),
                "gifts": str(gifts),
                "value": yuan(gift_value),
            },
        )
    if kind == "bundle":
        return render(
            kind,
            {
                "name": rule.name,
                "bundles": str(times),
                "price": yuan(rule.price_fen or 0),
                "amount": yuan(amount),
            },
        )
    # threshold
    total = spend.get(rule.id, Fraction(0))
    spent = yuan(total.numerator // total.denominator)
    tiers = _valid_tiers(rule)
    if rule.repeat:
        return render(
            "threshold_repeat",
            {
                "name": rule.name,
                "spend": spent,
                "times": str(times),
                "tier": yuan(tiers[0][0]),
                "amount": yuan(amount),
            },
        )
    tier = tiers[times - 1]
    return render(
        "threshold",
        {"name": rule.name, "spend": spent, "tier": yuan(tier[0]), "amount": yuan(amount)},
    )


def _points(items: Sequence[Item], rules: Sequence[Rule]) -> dict[int, tuple[Any, int | None]]:
    from decimal import Decimal

    points = [
        r for r in _rule_order(rules) if r.kind == POINTS_MULTIPLIER and r.multiplier is not None
    ]
    result: dict[int, tuple[Any, int | None]] = {}
    for item in items:
        best: tuple[Decimal, int | None] = (Decimal(1), None)
        found = False
        for rule in points:  # by priority: the first of equal multipliers wins
            assert rule.multiplier is not None
            if rule.targets.matches(item) and (not found or rule.multiplier > best[0]):
                best = (rule.multiplier, rule.id)
                found = True
        result[item.key] = best
    return result
