"""订单自动分发: choose the site(s) that ship an order, reserve the stock there, and write
the shipments, pick tasks and the decision (candidates, scores, plan) in one transaction.

`source_remainder` sources whatever of an order is neither allocated nor shipped: at intake,
after payment, on a manual re-source, after a short pick, and when backorders are retried.
Candidates are the enabled ship-from sites with available-to-promise stock (reservations
and expired lots excluded), the best `max_candidates` of them by coverage then distance;
the engine (`fulfilment.engine.sourcing.solve`) fills as much as it can and then minimises
shipments, kilometres and shipping cost under the policy's weights.

The reservation is all-or-nothing (`inventory.reserve_lines`). When a concurrent order took
the stock between reading ATP and reserving, the posting refuses; we read ATP again and
re-solve, a bounded number of times, and whatever still cannot be reserved is backordered.
Stock is never promised twice.

The module also keeps the sourcing settings (the policy row, ship-from sites).

Sourcing reserves on behalf of the order, not of the person: the caller's permission is
checked for the use case that triggers it (intake, order care, a short pick), and the
stock postings run as the fulfilment system actor (`SYSTEM`; audit rows without a user,
the timeline names the person).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from chainstore.core import audit
from chainstore.core.errors import (
    InsufficientStock,
    InvalidState,
    ValidationFailed,
)
from chainstore.core.numbers import assign, provisional
from chainstore.core.permissions import ensure_can
from chainstore.core.quantities import milli_to_qty
from chainstore.fulfilment import geo
from chainstore.fulfilment.engine import sourcing as engine
from chainstore.fulfilment.models import (
    CustomerOrder,
    EventKind,
    OrderLine,
    OrderStatus,
    PickTask,
    ShipFromSite,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
    SourcingDecision,
    SourcingPolicy,
    Strategy,
)
from chainstore.fulfilment.services.events import add_event
from chainstore.fulfilment.services.status import refresh_order_status
from chainstore.inventory.models import Reservation
from chainstore.inventory.services import (
    ReserveLine,
    available_to_promise,
    reserve_lines,
    site_today,
)
from chainstore.sites.models import Site

RESERVE_ATTEMPTS = 5
# Which permission a sourcing trigger needs of the person (or job) behind it.
_TRIGGER_PERMISSION = {"intake": "orders.intake", "short_pick": "fulfilment.pick"}


class SystemActor:
    """The fulfilment jobs themselves (payment timeouts, backorder retries, the stock
    postings of sourcing). Behaves as an authenticated admin for `ensure_can`, has no
    database row, so audit rows and timeline events record no user. Only code passes it;
    no request can produce it."""

    pk = None
    id = None
    is_authenticated = True
    is_superuser = True
    is_active = True
    username = "system"
    profile = None

    def get_username(self) -> str:
        return self.username

    def __str__(self) -> str:
        return self.username


SYSTEM = SystemActor()


# -- policy ----------------------------------------------------------------------------
def current_policy() -> SourcingPolicy:
    """The chain's sourcing policy (the pk=1 row, created with the defaults on first use)."""
    policy, _created = SourcingPolicy.objects.get_or_create(pk=1)
    return policy


def policy_weights(policy: SourcingPolicy) -> engine.Weights:
    """The weights a policy means: its strategy's preset, or the stored ones for custom."""
    if policy.strategy != Strategy.CUSTOM and policy.strategy in engine.PRESETS:
        return engine.PRESETS[policy.strategy]
    return engine.Weights(
        distance=float(policy.weight_distance),
        shipments=float(policy.weight_shipments),
        cost=float(policy.weight_cost),
    )


# -- the use case ----------------------------------------------------------------------
@dataclass
class _Candidate:
    config: ShipFromSite
    distance_km: float
    located: bool  # both ends had coordinates (own or the city's centre)
    available: dict[int, int]  # sku id -> ATP, capped at the demand

    @property
    def site(self) -> Site:
        return self.config.site


@dataclass
class _Outcome:
    assignments: dict[int, dict[int, int]]
    unfilled: dict[int, int]
    objective: float = 0.0
    method: str = "none"
    optimal: bool = False
    elapsed_ms: float = 0.0
    scores: list[Any] = field(default_factory=list)
    attempts: int = 1


def source_remainder(order: CustomerOrder, *, actor: Any, trigger: str) -> SourcingDecision | None:
    """Source, reserve and ship-plan what of `order` is neither allocated nor shipped.
    Returns the decision, or None when nothing is left to source (or the order is closed).
    Runs in the caller's transaction when there is one (intake: the order and its stock
    commit together)."""
    ensure_can(actor, _TRIGGER_PERMISSION.get(trigger, "orders.manage"))
    with transaction.atomic():
        order = (
            CustomerOrder.objects.select_for_update(of=("self",))
            .select_related("channel")
            .get(pk=order.pk)
        )
        if order.status == OrderStatus.CANCELLED:
            return None
        lines = list(order.lines.select_related("sku").order_by("line_no"))
        demand = _remainder(lines)
        if not demand:
            return None
        policy = current_policy()
        weights = policy_weights(policy)
        destination, basis = _destination(order)
        outcome, candidates, reservations = _plan_and_reserve(
            order, lines, demand, policy, weights, destination
        )
        shipments = _write_shipments(order, lines, outcome, candidates, reservations)
        decision = _record_decision(
            order, trigger, policy, weights, outcome, candidates, shipments, basis
        )
        _write_events(order, actor, decision, shipments, outcome, basis)
        refresh_order_status(order)
        return decision


def sourceable(order: CustomerOrder) -> bool:
    """Whether any enabled site now has some of what the order still waits for (a cheap
    check before a backorder retry, so idle retries record no decision)."""
    demand = _remainder(list(order.lines.all()))
    return bool(demand) and bool(_candidates(demand, current_policy(), None))


def _remainder(lines: list[OrderLine]) -> dict[int, int]:
    """Per SKU, what the lines still need (neither allocated nor shipped)."""
    demand: dict[int, int] = defaultdict(int)
    for ln in lines:
        if ln.backordered > 0:
            demand[ln.sku_id] += ln.backordered
    return dict(demand)


def _plan_and_reserve(
    order: CustomerOrder,
    lines: list[OrderLine],
    demand: dict[int, int],
    policy: SourcingPolicy,
    weights: engine.Weights,
    destination: tuple[float, float] | None,
) -> tuple[_Outcome, list[_Candidate], list[Reservation]]:
    """Read ATP, solve, reserve; on a lost race read again (bounded). Whatever still cannot
    be reserved after the last attempt is left unfilled (backorder), never oversold."""
    weight_g = {ln.sku_id: ln.sku.weight_g or 0 for ln in lines}
    expires_at = order.pay_by if order.paid_at is None else None
    candidates: list[_Candidate] = []
    for attempt in range(1, RESERVE_ATTEMPTS + 1):
        candidates = _candidates(demand, policy, destination)
        outcome = _solve(demand, weight_g, candidates, weights, policy)
        outcome.attempts = attempt
        wanted = [
            ReserveLine(site=c.site, sku=_sku(lines, sku_id), quantity=quantity)
            for c in candidates
            for sku_id, quantity in sorted(outcome.assignments.get(c.site.pk, {}).items())
            if quantity > 0
        ]
        if not wanted:
            return outcome, candidates, []
        try:
            with transaction.atomic():
                reservations = reserve_lines(
                    lines=wanted, actor=SYSTEM, reference=order.number, expires_at=expires_at
                )
        except InsufficientStock:
            continue  # a concurrent order took it first: read what is left and solve again
        return outcome, candidates, reservations
    return (
        _Outcome(assignments={}, unfilled=dict(demand), method="contention", attempts=attempt),
        candidates,
        [],
    )


def _sku(lines: list[OrderLine], sku_id: int) -> Any:
    return next(ln.sku for ln in lines if ln.sku_id == sku_id)


def _destination(order: CustomerOrder) -> tuple[tuple[float, float] | None, dict[str, str]]:
    """Where the parcel goes, and on what the distances rest: `{"basis": "address"}` (the
    order's coordinates), `{"basis": "city", "place": ...}` (a city's centre) or
    `{"basis": "unknown"}` (distances count as 0)."""
    if order.latitude is not None and order.longitude is not None:
        return (float(order.latitude), float(order.longitude)), {"basis": "address"}
    for place in (order.city, order.province):
        centre = geo.city_centroid(place) if place else None
        if centre is not None:
            return (float(centre[0]), float(centre[1])), {"basis": "city", "place": place}
    return None, {"basis": "unknown"}


def _site_point(site: Site) -> tuple[float, float] | None:
    if site.latitude is not None and site.longitude is not None:
        return float(site.latitude), float(site.longitude)
    centre = geo.city_centroid(site.city) if site.city else None
    return (float(centre[0]), float(centre[1])) if centre is not None else None


def _candidates(
    demand: dict[int, int], policy: SourcingPolicy, destination: tuple[float, float] | None
) -> list[_Candidate]:
    """Enabled, active ship-from sites holding any of the demand, best `max_candidates`
    first by coverage (SKUs fully covered, then units) and distance."""
    configs = list(
        ShipFromSite.objects.filter(enabled=True, site__is_active=True).select_related("site")
    )
    by_today: dict[dt.date, list[int]] = defaultdict(list)
    for config in configs:
        by_today[site_today(config.site)].append(config.site_id)
    atp: dict[tuple[int, int], int] = {}
    for today, site_ids in by_today.items():
        atp.update(available_to_promise(site_ids=site_ids, sku_ids=sorted(demand), today=today))
    found: list[_Candidate] = []
    for config in configs:
        available = {
            sku_id: min(atp.get((config.site_id, sku_id), 0), need)
            for sku_id, need in demand.items()
            if atp.get((config.site_id, sku_id), 0) > 0
        }
        if not available:
            continue
        origin = _site_point(config.site)
        if origin is None or destination is None:
            distance, located = 0.0, False
        else:
            distance, located = geo.distance_km(*origin, *destination), True
        found.append(_Candidate(config, float(distance), located, available))

    def rank(c: _Candidate) -> tuple[int, int, float, int, int]:
        full = sum(1 for sku_id, q in c.available.items() if q >= demand[sku_id])
        return (-full, -sum(c.available.values()), c.distance_km, c.config.priority, c.site.pk)

    found.sort(key=rank)
    return found[: max(policy.max_candidates, 1)]


def _solve(
    demand: dict[int, int],
    weight_g: dict[int, int],
    candidates: list[_Candidate],
    weights: engine.Weights,
    policy: SourcingPolicy,
) -> _Outcome:
    if not candidates:
        return _Outcome(assignments={}, unfilled=dict(demand), method="no_stock", optimal=True)
    plan = engine.solve(
        [engine.Demand(sku_id, q, weight_g.get(sku_id, 0)) for sku_id, q in sorted(demand.items())],
        [
            engine.Candidate(
                site_id=c.site.pk,
                distance_km=c.distance_km,
                base_cost_fen=c.config.base_cost_fen,
                per_kg_cost_fen=c.config.per_kg_cost_fen,
                available=c.available,
                priority=c.config.priority,
                label=c.site.code,
            )
            for c in candidates
        ],
        weights,
        max_shipments=policy.max_shipments if policy.allow_split else 1,
        time_budget_ms=policy.time_budget_ms,
    )
    return _Outcome(
        assignments={
            int(site_id): {sku_id: q for sku_id, q in skus.items() if q > 0}
            for site_id, skus in plan.assignments.items()
            if any(q > 0 for q in skus.values())
        },
        unfilled={sku_id: q for sku_id, q in plan.unfilled.items() if q > 0},
        objective=float(plan.objective),
        method=plan.method,
        optimal=bool(plan.optimal),
        elapsed_ms=float(plan.elapsed_ms),
        scores=list(plan.candidates),
    )


# -- writing the plan down ---------------------------------------------------------------
def _write_shipments(
    order: CustomerOrder,
    lines: list[OrderLine],
    outcome: _Outcome,
    candidates: list[_Candidate],
    reservations: list[Reservation],
) -> list[Shipment]:
    """One new shipment per chosen site; a SKU's quantity is spread over the order's lines
    of that SKU in line order; one pick task per reserved (bin, lot) part."""
    parts: dict[tuple[int, int], list[Reservation]] = defaultdict(list)
    for res in reservations:
        parts[(res.site_id, res.sku_id)].append(res)
    sites = {c.site.pk: c.site for c in candidates}
    need = {ln.pk: ln.backordered for ln in lines}
    carrier = order.carrier or order.channel.default_carrier
    shipments = []
    for site_id in sorted(outcome.assignments):
        shipment = Shipment.objects.create(
            number=provisional(),
            order=order,
            site=sites[site_id],
            status=ShipmentStatus.ALLOCATED,
            carrier=carrier,
        )
        assign(shipment, "SH")
        weights: list[int | None] = []
        for sku_id, quantity in sorted(outcome.assignments[site_id].items()):
            chunks = []
            for ln in lines:
                take = min(need[ln.pk], quantity) if ln.sku_id == sku_id else 0
                if take > 0:
                    chunks.append(_ship_line(shipment, ln, take))
                    weights.append(_weight_g(ln, take))
                    need[ln.pk] -= take
                    quantity -= take
            _tasks(chunks, parts[(site_id, sku_id)])
        if weights and None not in weights:
            shipment.expected_weight_g = sum(w for w in weights if w is not None)
            shipment.save(update_fields=["expected_weight_g"])
        shipments.append(shipment)
    return shipments


def _weight_g(line: OrderLine, quantity: int) -> int | None:
    """Expected weight of `quantity` of the line's SKU in grams (None when unknown)."""
    unit = line.sku.weight_g
    return None if unit is None else (unit * quantity + 500) // 1000


def _ship_line(shipment: Shipment, line: OrderLine, quantity: int) -> ShipmentLine:
    line.allocated += quantity
    line.save(update_fields=["allocated"])
    return ShipmentLine.objects.create(
        shipment=shipment, order_line=line, sku_id=line.sku_id, quantity=quantity
    )


def _tasks(chunks: list[ShipmentLine], parts: list[Reservation]) -> None:
    """Pair shipment lines with reservation parts (both in order), one task per overlap."""
    tasks = []
    room = [res.quantity for res in parts]
    i = 0
    for sl in chunks:
        due = sl.quantity
        while due > 0:
            res = parts[i]
            take = min(due, room[i])
            tasks.append(
                PickTask(
                    shipment_line=sl,
                    reservation=res,
                    location_id=res.location_id,
                    sku_id=res.sku_id,
                    lot_id=res.lot_id,
                    quantity=take,
                )
            )
            due -= take
            room[i] -= take
            if room[i] == 0:
                i += 1
    PickTask.objects.bulk_create(tasks)


def _record_decision(
    order: CustomerOrder,
    trigger: str,
    policy: SourcingPolicy,
    weights: engine.Weights,
    outcome: _Outcome,
    candidates: list[_Candidate],
    shipments: list[Shipment],
    basis: dict[str, str],
) -> SourcingDecision:
    codes = {ln.sku_id: ln.sku.code for ln in order.lines.select_related("sku")}
    scores = {s.site_id: s for s in outcome.scores}
    rows = []
    for c in candidates:
        score = scores.get(c.site.pk)
        rows.append(
            {
                "site_id": c.site.pk,
                "site": c.site.code,
                "name": c.site.name,
                "kind": c.site.kind,
                "distance_km": round(c.distance_km, 2),
                "located": c.located,
                "base_cost_fen": c.config.base_cost_fen,
                "per_kg_cost_fen": c.config.per_kg_cost_fen,
                "priority": c.config.priority,
                "available": {
                    codes[s]: str(milli_to_qty(q)) for s, q in sorted(c.available.items())
                },
                "fillable": str(milli_to_qty(sum(c.available.values()))),
                "covers": getattr(score, "covers", len(c.available)),
                "covers_all": getattr(score, "covers_all", False),
                "alone_score": getattr(score, "alone_score", None),
                "chosen": c.site.pk in outcome.assignments,
            }
        )
    plan = {
        str(site_id): {
            "site": next(c.site.code for c in candidates if c.site.pk == site_id),
            "lines": {codes[s]: str(milli_to_qty(q)) for s, q in sorted(skus.items())},
        }
        for site_id, skus in sorted(outcome.assignments.items())
    }
    unfilled = {codes[s]: str(milli_to_qty(q)) for s, q in sorted(outcome.unfilled.items())}
    summary = _summary(outcome, shipments, unfilled, candidates, basis)
    return SourcingDecision.objects.create(
        order=order,
        trigger=trigger[:20],
        strategy=policy.strategy,
        weights={
            "distance": weights.distance,
            "shipments": weights.shipments,
            "cost": weights.cost,
        },
        method=outcome.method[:20],
        optimal=outcome.optimal,
        objective=outcome.objective,
        elapsed_ms=outcome.elapsed_ms,
        candidates=rows,
        plan=plan,
        unfilled=unfilled,
        summary=summary[:500],
    )


def _summary(
    outcome: _Outcome,
    shipments: list[Shipment],
    unfilled: dict[str, str],
    candidates: list[_Candidate],
    basis: dict[str, str],
) -> str:
    """One line a person reads on the order: where it goes and why (English; the order
    page renders the same facts in the reader's language from the structured fields)."""
    parts = []
    if shipments:
        distance = {c.site.pk: c.distance_km for c in candidates}
        chosen = ", ".join(f"{s.site.code} ({distance[s.site_id]:.1f} km)" for s in shipments)
        parts.append(f"{len(shipments)} shipment(s) from {chosen}")
    else:
        parts.append("nothing could be reserved")
    parts.append(f"{len(candidates)} candidate site(s)")
    if unfilled:
        parts.append("backordered " + ", ".join(f"{k} x {v}" for k, v in unfilled.items()))
    parts.append(f"{outcome.method}{' optimal' if outcome.optimal else ''}")
    if outcome.attempts > 1:
        parts.append(f"re-solved {outcome.attempts - 1}x after concurrent orders")
    if basis["basis"] == "city":
        parts.append(f"destination: centre of {basis['place']}")
    elif basis["basis"] == "unknown":
        parts.append("destination has no coordinates: distances count as 0")
    return "; ".join(parts)


def _write_events(
    order: CustomerOrder,
    actor: Any,
    decision: SourcingDecision,
    shipments: list[Shipment],
    outcome: _Outcome,
    basis: dict[str, str],
) -> None:
    # Structured facts, so the timeline reads in each reader's language (the summary is
    # the English one-liner of the decision, kept for the record).
    distance = {row["site"]: row["distance_km"] for row in decision.candidates}
    add_event(
        order,
        EventKind.SOURCED,
        actor=actor,
        decision=decision.pk,
        trigger=decision.trigger,
        sites=[s.site.code for s in shipments],
        distance_km={s.site.code: round(distance[s.site.code], 1) for s in shipments},
        candidates=len(decision.candidates),
        unfilled=decision.unfilled,
        method=decision.method,
        optimal=decision.optimal,
        attempts=outcome.attempts,
        destination=basis,
        summary=decision.summary,
    )
    for shipment in shipments:
        tasks = PickTask.objects.filter(shipment_line__shipment=shipment).select_related(
            "sku", "lot", "location", "reservation"
        )
        add_event(
            order,
            EventKind.RESERVED,
            actor=actor,
            shipment=shipment,
            lines=[
                {
                    "sku": t.sku.code,
                    "name": t.sku.name,
                    "lot": t.lot.number if t.lot else None,
                    "bin": t.location.code,
                    "quantity": str(milli_to_qty(t.quantity)),
                }
                for t in tasks.order_by("id")
            ],
            expires_at=order.pay_by.isoformat() if order.paid_at is None and order.pay_by else None,
        )
    if decision.unfilled:
        add_event(
            order,
            EventKind.BACKORDERED,
            actor=actor,
            lines=[{"sku": sku, "quantity": q} for sku, q in decision.unfilled.items()],
        )


# -- settings ----------------------------------------------------------------------------
MAX_WEIGHT = Decimal(1_000_000)


def update_policy(
    *,
    actor: Any,
    strategy: str,
    weight_distance: Decimal,
    weight_shipments: Decimal,
    weight_cost: Decimal,
    max_candidates: int,
    max_shipments: int,
    allow_split: bool,
    time_budget_ms: int,
) -> SourcingPolicy:
    """Change the chain's sourcing policy (fulfilment.settings). The weights are used as
    stored only with strategy `custom`; the presets ignore them."""
    ensure_can(actor, "fulfilment.settings")
    if strategy not in Strategy.values:
        raise ValidationFailed(_("Unknown strategy."), code="invalid_strategy", field="strategy")
    for name, weight in (
        ("weight_distance", weight_distance),
        ("weight_shipments", weight_shipments),
        ("weight_cost", weight_cost),
    ):
        if not Decimal(0) <= weight <= MAX_WEIGHT or weight != weight.quantize(Decimal("0.0001")):
            raise ValidationFailed(
                _("Weights are 0 to 1,000,000 with at most 4 decimals."),
                code="invalid_weight",
                field=name,
            )
    for name, value, low, high in (
        ("max_candidates", max_candidates, 1, 20),
        ("max_shipments", max_shipments, 1, 10),
        ("time_budget_ms", time_budget_ms, 10, 10_000),
    ):
        if not low <= value <= high:
            raise ValidationFailed(
                _("%(field)s must be between %(low)d and %(high)d.")
                % {"field": name, "low": low, "high": high},
                code="out_of_range",
                field=name,
            )
    with transaction.atomic():
        current_policy()
        policy = SourcingPolicy.objects.select_for_update().get(pk=1)
        before = _policy_dict(policy)
        policy.strategy = strategy
        policy.weight_distance = weight_distance
        policy.weight_shipments = weight_shipments
        policy.weight_cost = weight_cost
        policy.max_candidates = max_candidates
        policy.max_shipments = max_shipments
        policy.allow_split = allow_split
        policy.time_budget_ms = time_budget_ms
        policy.save()
        audit.record(
            actor=actor,
            action="sourcing_policy.update",
            obj=policy,
            data={"before": before, "after": _policy_dict(policy)},
        )
    return policy


def _policy_dict(policy: SourcingPolicy) -> dict[str, Any]:
    return {
        "strategy": policy.strategy,
        "weights": [
            str(policy.weight_distance),
            str(policy.weight_shipments),
            str(policy.weight_cost),
        ],
        "max_candidates": policy.max_candidates,
        "max_shipments": policy.max_shipments,
        "allow_split": policy.allow_split,
        "time_budget_ms": policy.time_budget_ms,
    }


def configure_ship_from(
    *,
    site: Site,
    actor: Any,
    enabled: bool,
    base_cost_fen: int,
    per_kg_cost_fen: int,
    priority: int = 0,
    cutoff_time: dt.time | None = None,
) -> ShipFromSite:
    """Enable or disable a site for online orders and set its parcel costs
    (fulfilment.settings at the site). Disabling keeps what is already allocated there."""
    ensure_can(actor, "fulfilment.settings", sites=[site.pk])
    if base_cost_fen < 0 or per_kg_cost_fen < 0:
        raise ValidationFailed(_("Amounts cannot be negative."), code="negative_amount")
    if not -1000 <= priority <= 1000:
        raise ValidationFailed(
            _("Priority is -1000 to 1000."), code="out_of_range", field="priority"
        )
    if enabled and not site.is_active:
        raise InvalidState(_("The site is not active."), code="site_inactive", site=site.code)
    with transaction.atomic():
        config, created = ShipFromSite.objects.select_for_update().get_or_create(site=site)
        before = None if created else [config.enabled, config.base_cost_fen, config.per_kg_cost_fen]
        config.enabled = enabled
        config.base_cost_fen = base_cost_fen
        config.per_kg_cost_fen = per_kg_cost_fen
        config.priority = priority
        config.cutoff_time = cutoff_time
        config.save()
        audit.record(
            actor=actor,
            action="ship_from.update",
            obj=config,
            to_state="enabled" if enabled else "disabled",
            site_id=site.pk,
            data={"before": before, "after": [enabled, base_cost_fen, per_kg_cost_fen, priority]},
        )
    return config
