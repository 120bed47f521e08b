"""The demo chain's transfers (调拨): approval rules, a dozen live transfers in every state
through the real transfer services, and a year of closed transfers for the cost report.

Approval rules (data, editable on the rules screen):
- "仓间调拨：仓库经理 → 总部" (priority 10): every warehouse-to-warehouse transfer, the
  source warehouse's manager (`wh_manager`) then HQ (`planner`);
- "调拨金额超过 ¥10,000：区域经理 → 总部" (priority 20): any transfer worth ¥10,000 or more,
  a store manager at the destination (named 区域经理, the regional manager) then HQ.
  The demo has one store manager (`store_manager`, S001), who stands in for the regional
  manager, so the live high-value transfers go to S001 and are requested by `wh_manager`
  (a push: nobody approves their own request).

Live transfers, CDC01 -> S001 unless said otherwise, in the order of their numbers:
a draft; a cancelled request; awaiting level 1 (区域经理); awaiting level 2 (总部); returned
for changes; rejected by HQ; approved by both (stock reserved); being picked; in transit
with simulated-carrier tracking events; received with one damaged unit still open;
received one short, settled by a carrier claim, closed; received in full, closed;
CDC01 -> RDC01 awaiting the warehouse manager.

History: a year of closed transfers from each store's warehouse to every store (about two a
week a store), written as bulk rows **as records only**: the demo history (`history.py`)
already moved that stock warehouse -> store as replenishment operations without transfer
documents, so these rows post no stock moves; they carry plausible shipped quantities,
source costs and freight (¥40 a shipment + ¥0.35 a kg, handling ¥0.10 a unit, allocated by
weight), which is what the cost report reads.

Deterministic for a seed: every choice comes from `rng`, dates are anchored on now.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from chainstore.catalog.models import Sku
from chainstore.core.quantities import value_fen
from chainstore.demo.master import Chain
from chainstore.integrations.carriers.simulated import SimulatedCarrier
from chainstore.inventory.models import SiteSku
from chainstore.inventory.services import available_to_promise
from chainstore.transfers.models import (
    Resolution,
    Transfer,
    TransferKind,
    TransferLine,
    TransferStatus,
)
from chainstore.transfers.services import approvals, execution, receiving, requests
from chainstore.transfers.services.rules import LevelInput, RuleInput, create_rule
from chainstore.transfers.services.tracking import record_transfer_tracking

U = 1000
HIGH_VALUE_FEN = 1_000_000  # ¥10,000
HISTORY_PER_STORE_WEEK = 2


def build_demo_transfers(
    chain: Chain, *, rng: random.Random, on_step: Callable[[int], None] = lambda n: None
) -> dict[str, int]:
    """Rules, history and live transfers (see the module docstring). `on_step` advances
    once for the rules, once for the history and once per live transfer (15 in all)."""
    _rules(chain)
    on_step(1)
    history = _history(chain, rng)
    on_step(1)
    live = _Live(chain, rng, on_step).run()
    return {"transfers": live, "history": history}


def _rules(chain: Chain) -> None:
    admin = chain.users["admin"]
    create_rule(
        actor=admin,
        data=RuleInput(
            name="仓间调拨：仓库经理 → 总部",
            priority=10,
            kinds=[TransferKind.WAREHOUSE_TO_WAREHOUSE],
            levels=[
                LevelInput(role="warehouse_manager", scope="source", name="仓库经理"),
                LevelInput(role="hq_planner", scope="chain", name="总部"),
            ],
        ),
    )
    create_rule(
        actor=admin,
        data=RuleInput(
            name="调拨金额超过 ¥10,000：区域经理 → 总部",
            priority=20,
            min_value_fen=HIGH_VALUE_FEN,
            levels=[
                LevelInput(role="store_manager", scope="destination", name="区域经理"),
                LevelInput(role="hq_planner", scope="chain", name="总部"),
            ],
        ),
    )


# -- live transfers through the services -------------------------------------------------------
class _Live:
    def __init__(self, chain: Chain, rng: random.Random, on_step: Callable[[int], None]) -> None:
        self.rng = rng
        self.on_step = on_step
        self.users = chain.users
        self.cdc, self.rdc = chain.cdc, chain.rdc
        self.store = chain.stores[0].site
        self.keys = 0
        self.skus = Sku.objects.in_bulk([s.id for s in chain.skus])
        atp = available_to_promise(
            site_ids=[self.cdc.pk], sku_ids=list(self.skus), today=timezone.localdate()
        )
        self.available = {sku_id: q for (_site, sku_id), q in atp.items()}
        # What the CDC can give (most available first), for the transfers that ship.
        self.stocked = sorted(
            (k for k, q in self.available.items() if q >= 8 * U),
            key=lambda k: (-self.available[k], self.skus[k].code),
        )
        self.costs = dict(
            SiteSku.objects.filter(site=self.cdc, avg_cost_micros__gt=0).values_list(
                "sku_id", "avg_cost_micros"
            )
        )

    def key(self, what: str) -> str:
        self.keys += 1
        return f"demo-transfer-{what}-{self.keys}"

    def run(self) -> int:
        sm = self.users["store_manager"]
        steps: list[Callable[[], Any]] = [
            lambda: self.small(sm, submit=False, reason="周末促销备货"),
            self.cancelled,
            lambda: self.high(levels=0, reason="新品铺货"),
            lambda: self.high(levels=1, reason="中秋礼盒备货"),
            self.returned,
            self.rejected,
            lambda: self.high(levels=2, reason="开业周年庆备货"),
            self.picking,
            lambda: self.shipped(events=3),
            self.received_damaged,
            self.received_short,
            self.received_in_full,
            self.warehouse_to_warehouse,
        ]
        for step in steps:
            step()
            self.on_step(1)
        return len(steps)

    # -- requests and decisions
    def lines(self, count: int) -> list[tuple[Sku, int]]:
        """`count` SKUs the CDC holds, a few units each (a small transfer: no rule)."""
        pool = self.stocked[: max(12, count)]
        chosen = sorted(self.rng.sample(pool, min(count, len(pool))))
        return [
            (self.skus[k], max(1, min(self.available[k] // U // 8, self.rng.randint(3, 12))) * U)
            for k in chosen
        ]

    def small(self, actor: Any, *, submit: bool = True, reason: str = "门店补货") -> Transfer:
        return requests.create_transfer(
            source=self.cdc,
            destination=self.store,
            lines=self.lines(self.rng.randint(2, 3)),
            actor=actor,
            reason=reason,
            needed_by=timezone.localdate() + dt.timedelta(days=self.rng.randint(2, 5)),
            submit=submit,
        )

    def high(self, *, levels: int, reason: str) -> Transfer:
        """A push from the CDC worth about ¥12,000 at its cost, approved by `levels` levels
        (区域经理 `store_manager`, then 总部 `planner`)."""
        costly = sorted(self.costs, key=lambda k: (-self.costs[k], self.skus[k].code))[:3]
        share_fen = HIGH_VALUE_FEN * 12 // 10 // len(costly)
        transfer = requests.create_transfer(
            source=self.cdc,
            destination=self.store,
            lines=[
                (self.skus[k], (-(-share_fen * 10_000 // self.costs[k]) + 1) * U) for k in costly
            ],
            actor=self.users["wh_manager"],
            reason=reason,
            submit=True,
        )
        deciders = [
            (self.users["store_manager"], "同意，门店库容足够"),
            (self.users["planner"], "同意"),
        ]
        for actor, comment in deciders[:levels]:
            approvals.approve(transfer, actor, comment)
        return transfer

    def cancelled(self) -> Transfer:
        transfer = self.small(self.users["store_manager"], submit=False, reason="临时补货")
        return requests.cancel_transfer(
            transfer, actor=self.users["store_manager"], reason="门店已从邻店借调"
        )

    def returned(self) -> Transfer:
        transfer = self.high(levels=0, reason="国庆备货")
        approvals.return_for_changes(transfer, self.users["store_manager"], "数量过大，请减半")
        return transfer

    def rejected(self) -> Transfer:
        transfer = self.high(levels=1, reason="双十一备货")
        approvals.reject(transfer, self.users["planner"], "本月调拨预算已用完，下月再议")
        return transfer

    def warehouse_to_warehouse(self) -> Transfer:
        return requests.create_transfer(
            source=self.cdc,
            destination=self.rdc,
            lines=self.lines(3),
            actor=self.users["admin"],
            reason="区域仓库存平衡",
            submit=True,
        )

    # -- execution
    def approved(self) -> Transfer:
        """A small replenishment by the store (no rule matches: approved on submit)."""
        return self.small(self.users["store_manager"])

    def pick(self, transfer: Transfer, *, leave_last: bool = False) -> None:
        parts = execution.pick_list(transfer)
        for part in parts[:-1] if leave_last and len(parts) > 1 else parts:
            execution.pick(
                transfer_lot=part,
                actor=self.users["wh_operator"],
                bin_scan=part.location.code,
                item_scan=part.line.sku.barcodes.order_by("-is_primary", "id")[0].code,
                lot_scan=part.lot.number if part.lot else None,
                quantity=part.quantity - part.picked,
                idempotency_key=self.key("pick"),
            )

    def picking(self) -> Transfer:
        transfer = self.approved()
        self.pick(transfer, leave_last=True)
        return transfer

    def shipped(self, *, events: int | None) -> Transfer:
        """Picked and shipped with the simulated carrier; the first `events` tracking events
        of its journey recorded (None: all, delivered)."""
        transfer = self.approved()
        self.pick(transfer)
        transfer = execution.ship(
            transfer=transfer,
            actor=self.users["wh_operator"],
            carrier="sim",
            freight_fen=self.rng.randint(60, 160) * 100,
            handling_fen=self.rng.randint(10, 40) * 100,
            cost_basis=self.rng.choice(["weight", "volume", "value"]),
            idempotency_key=self.key("ship"),
        )
        assert transfer.tracking_number and transfer.shipped_at
        journey = SimulatedCarrier().simulate_events(
            transfer.tracking_number,
            (self.cdc.latitude, self.cdc.longitude, self.cdc.city),
            (self.store.latitude, self.store.longitude, self.store.city),
            transfer.shipped_at,
        )
        now = timezone.now()
        # the demo's journeys happen at once: planned times in the future are brought back
        updates = journey[:events] if events else journey
        record_transfer_tracking("sim", [_at_most(u, now) for u in updates])
        return transfer

    def receive(self, transfer: Transfer, short: int = 0, damaged: int = 0) -> Any:
        """Receive the first line `short` units short and `damaged` units damaged."""
        lines = list(transfer.lines.order_by("id"))
        return receiving.receive(
            transfer=transfer,
            actor=self.users["store_manager"],
            lines=[
                receiving.ReceiveLine(
                    line=ln,
                    received=ln.shipped - (short + damaged if i == 0 else 0),
                    damaged=damaged if i == 0 else 0,
                )
                for i, ln in enumerate(lines)
            ],
            idempotency_key=self.key("receive"),
        )

    def received_damaged(self) -> Transfer:
        return self.receive(self.shipped(events=None), damaged=U).transfer

    def received_short(self) -> Transfer:
        result = self.receive(self.shipped(events=None), short=2 * U)
        for discrepancy in result.discrepancies:
            receiving.resolve(
                discrepancy=discrepancy,
                actor=self.users["store_manager"],
                resolution=Resolution.CARRIER_CLAIM,
                claim_fen=self.rng.randint(20, 60) * 100,
                note="外箱破损，承运商确认短少",
            )
        return result.transfer

    def received_in_full(self) -> Transfer:
        return self.receive(self.shipped(events=None)).transfer


def _at_most(update: Any, now: dt.datetime) -> Any:
    return update if update.at <= now else dataclasses.replace(update, at=now)


# -- a year of closed transfers (records only) -------------------------------------------------
def _history(chain: Chain, rng: random.Random) -> int:
    """About two closed transfers a week to every store from its warehouse over the last
    year, four to eight lines each, bulk-written; returns how many."""
    now = timezone.now()
    weights = dict(
        Sku.objects.filter(pk__in=[s.id for s in chain.skus]).values_list("id", "weight_g")
    )
    admin = chain.users["admin"]
    plans: list[tuple[Transfer, list[TransferLine]]] = []
    for store in chain.stores:
        for _ in range(52 * HISTORY_PER_STORE_WEEK):
            shipped_at = (
                now - dt.timedelta(days=2) - dt.timedelta(seconds=rng.randrange(363 * 86_400))
            )
            lines = _history_lines(chain, store.assortment, weights, rng)
            kilos = sum(ln.shipped * (weights.get(ln.sku_id) or 500) for ln in lines) // 1_000_000
            freight = 4_000 + kilos * 35
            handling = sum(ln.shipped for ln in lines) // U * 10
            _allocate(lines, freight + handling, weights)
            arrived = shipped_at + dt.timedelta(hours=rng.randint(6, 30))
            plans.append(
                (
                    Transfer(
                        kind=TransferKind.REPLENISHMENT,
                        status=TransferStatus.CLOSED,
                        source=store.warehouse,
                        destination=store.site,
                        reason="定期补货",
                        requested_by=admin,
                        value_fen=sum(value_fen(ln.shipped, ln.unit_cost_micros) for ln in lines),
                        submitted_at=shipped_at - dt.timedelta(hours=20),
                        approved_at=shipped_at - dt.timedelta(hours=18),
                        shipped_at=shipped_at,
                        received_at=arrived,
                        closed_at=arrived,
                        carrier="sim",
                        freight_fen=freight,
                        handling_fen=handling,
                    ),
                    lines,
                )
            )
    plans.sort(key=lambda p: p[0].shipped_at or now)  # ids follow time
    for n, (transfer, _lines) in enumerate(plans, start=1):
        # All digits, like live numbers (TR + date + id), so every page and URL takes them.
        transfer.number = f"TR{timezone.localtime(transfer.shipped_at):%Y%m%d}{n:07d}"
    Transfer.objects.bulk_create([t for t, _l in plans], batch_size=1_000)
    ids = dict(
        Transfer.objects.filter(number__in=[t.number for t, _l in plans]).values_list(
            "number", "id"
        )
    )
    rows = []
    for transfer, lines in plans:
        for ln in lines:
            ln.transfer_id = ids[transfer.number]
            rows.append(ln)
    TransferLine.objects.bulk_create(rows, batch_size=2_000)
    return len(plans)


def _history_lines(
    chain: Chain, assortment: list[int], weights: dict[int, int | None], rng: random.Random
) -> list[TransferLine]:
    chosen = sorted(rng.sample(assortment, min(len(assortment), rng.randint(4, 8))))
    lines = []
    for k in chosen:
        sku = chain.skus[k]
        q = rng.randint(6, 48) * U
        cost = sku.cost_micros * rng.randint(97, 103) // 100
        lines.append(
            TransferLine(sku_id=sku.id, quantity=q, shipped=q, received=q, unit_cost_micros=cost)
        )
    return lines


def _allocate(lines: list[TransferLine], total_fen: int, weights: dict[int, int | None]) -> None:
    """Share `total_fen` by weight (largest remainders get the odd fen)."""
    basis = [ln.shipped * (weights.get(ln.sku_id) or 500) for ln in lines]
    whole = sum(basis)
    shares = [total_fen * b // whole for b in basis]
    order = sorted(range(len(lines)), key=lambda i: -(total_fen * basis[i] % whole))
    for i in order[: total_fen - sum(shares)]:
        shares[i] += 1
    for ln, share in zip(lines, shares, strict=True):
        ln.allocated_cost_fen = share
