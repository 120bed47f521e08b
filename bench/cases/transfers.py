"""(k) Transfers: (a) transfers per second end to end through the service layer, (b) the
transfer cost report on a year of transfers.

(a) One transfer = create and submit (a rule with two levels: the store's regional manager,
then HQ) -> approve x2 (the last approval reserves FEFO at the warehouse) -> pick every
reserved part by scan -> ship with the simulated carrier (label, OUTBOUND -> TRANSIT,
freight + handling allocated by weight) -> receive one unit short -> resolve the shortage
with a carrier claim (closes the transfer). Two lines per transfer, one warehouse, one
store, run one after the other; the latency is the whole chain of nine service calls. At the
end `verify_ledger()` must be clean (reported in `oversold`, which fails bench.run).

(b) A year of shipped transfers (quick: 3,000, full: 20,000, four lines each) from two
warehouses to 20 stores, written with bulk inserts (the report reads only the transfer and
line rows), then `transfer_cost_report` over the twelve months for all sites and for one
store.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
import uuid
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.world import World, analyze, make_world, summary
from chainstore.accounts.services import create_user
from chainstore.catalog.models import Sku
from chainstore.inventory.services import ReceiptLine, receive
from chainstore.inventory.verify import verify_ledger
from chainstore.sites.models import Site
from chainstore.sites.services import create_bin, create_site
from chainstore.transfers.models import (
    Discrepancy,
    Resolution,
    Transfer,
    TransferKind,
    TransferLine,
    TransferStatus,
)
from chainstore.transfers.services import approvals, execution, receiving, requests
from chainstore.transfers.services.costs import month_range, transfer_cost_report
from chainstore.transfers.services.rules import LevelInput, RuleInput, create_rule

U = 1000


def run(quick: bool) -> list[dict[str, Any]]:
    world = make_world(skus=60, stock_units=0)
    return [
        _end_to_end(world, 20 if quick else 150),
        *_cost_report(world, 3_000 if quick else 20_000, quick),
    ]


# -- (a) end to end ----------------------------------------------------------------------------
def _end_to_end(world: World, n: int) -> dict[str, Any]:
    admin, store, warehouse, skus = world.admin, world.store, world.warehouse, world.skus[:10]
    Sku.objects.update(weight_g=450, volume_cm3=600)
    shelf = create_bin(site=warehouse, code="A-01-01", actor=admin)
    receive(
        site=warehouse,
        actor=admin,
        lines=[ReceiptLine(sku=s, quantity=100_000 * U, location=shelf) for s in skus],
    )
    users = {
        name: create_user(
            username=f"bench_{name}", password="bench-123456", role=role, site_ids=sites
        )
        for name, role, sites in (
            ("requester", "store_manager", [store.pk]),
            ("regional", "store_manager", [store.pk]),
            ("hq", "hq_planner", []),
            ("operator", "warehouse_operator", [warehouse.pk]),
        )
    }
    create_rule(
        actor=admin,
        data=RuleInput(
            name="全部调拨：区域经理 → 总部",
            levels=[
                LevelInput(role="store_manager", scope="destination", name="区域经理"),
                LevelInput(role="hq_planner", scope="chain", name="总部"),
            ],
        ),
    )
    analyze()
    latencies = []
    steps = _Steps()
    started = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        _one_transfer(i, users, warehouse, store, skus, steps)
        latencies.append(time.perf_counter() - t0)
    wall = time.perf_counter() - started
    # One more, untimed, to count the SQL statements of each step.
    counted = _Steps(count_queries=True)
    with CaptureQueriesContext(connection):
        _one_transfer(n, users, warehouse, store, skus, counted)
    problems = verify_ledger()
    closed = Transfer.objects.filter(status=TransferStatus.CLOSED).count()
    row = {"variant": "end_to_end (9 service calls)", **summary(latencies, wall)}
    row["note"] = f"closed={closed}/{n + 1} p50 {steps.medians()}; queries {counted.queries()}"
    if problems or closed != n + 1:
        row["oversold"] = f"verify_ledger: {problems[:3]}; closed {closed} of {n}"
    return row


class _Steps:
    """Time spent per step, over all transfers (the note shows each step's median)."""

    def __init__(self, *, count_queries: bool = False) -> None:
        self.times: dict[str, list[float]] = {}
        self.counts: dict[str, int] = {}
        self.count_queries = count_queries
        self.t0 = 0.0
        self.q0 = 0

    def start(self) -> None:
        self.t0 = time.perf_counter()
        self.q0 = len(connection.queries)

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.times.setdefault(name, []).append(now - self.t0)
        self.t0 = now
        if self.count_queries:
            self.counts[name] = len(connection.queries) - self.q0
            self.q0 = len(connection.queries)

    def queries(self) -> str:
        return " ".join(f"{name}={n}" for name, n in self.counts.items())

    def medians(self) -> str:
        return " ".join(
            f"{name}={statistics.median(values) * 1000:.0f}ms"
            for name, values in self.times.items()
        )


def _one_transfer(
    i: int, users: dict[str, Any], warehouse: Site, store: Site, skus: list, steps: _Steps
) -> None:
    first, second = skus[i % len(skus)], skus[(i + 1) % len(skus)]
    steps.start()
    transfer = requests.create_transfer(
        source=warehouse,
        destination=store,
        lines=[(first, 6 * U), (second, 4 * U)],
        actor=users["requester"],
        reason="补货",
        submit=True,
    )
    steps.done("create+submit")
    approvals.approve(transfer, users["regional"], "同意")
    steps.done("approve1")
    approvals.approve(transfer, users["hq"], "")
    steps.done("approve2+reserve")
    for part in execution.pick_list(transfer):
        execution.pick(
            transfer_lot=part,
            actor=users["operator"],
            bin_scan=part.location.code,
            item_scan=part.line.sku.barcodes.order_by("-is_primary", "id")[0].code,
            quantity=part.quantity - part.picked,
            idempotency_key=uuid.uuid4().hex,
        )
    steps.done("pick")
    transfer = execution.ship(
        transfer=transfer,
        actor=users["operator"],
        freight_fen=1_800,
        handling_fen=400,
        cost_basis="weight",
        idempotency_key=uuid.uuid4().hex,
    )
    steps.done("ship")
    lines = list(transfer.lines.order_by("id"))
    result = receiving.receive(
        transfer=transfer,
        actor=users["requester"],
        lines=[
            receiving.ReceiveLine(line=ln, received=ln.shipped - (U if j == 0 else 0))
            for j, ln in enumerate(lines)
        ],
        idempotency_key=uuid.uuid4().hex,
    )
    steps.done("receive")
    for discrepancy in result.discrepancies or Discrepancy.objects.filter(
        line__transfer=transfer, resolution=""
    ):
        receiving.resolve(
            discrepancy=discrepancy,
            actor=users["regional"],
            resolution=Resolution.CARRIER_CLAIM,
            claim_fen=500,
            note="外箱破损",
        )
    steps.done("resolve")


# -- (b) the cost report on a year -------------------------------------------------------------
def _cost_report(world: World, transfers: int, quick: bool) -> list[dict[str, Any]]:
    admin = world.admin
    stores = [world.store] + [
        create_site(code=f"S{i:03d}", name=f"压测门店{i}", kind="store", actor=admin)
        for i in range(2, 21)
    ]
    sources = [
        world.warehouse,
        create_site(code="RDC01", name="压测区域仓", kind="rdc", actor=admin),
    ]
    lines = _bulk_year(transfers, admin, sources, stores, world.skus)
    analyze()
    this_month = timezone.localdate().replace(day=1)
    months = month_range(dt.date(this_month.year - 1, this_month.month, 1), this_month)[1:]
    rows = []
    for variant, site in (
        ("cost_report_year_all_sites", None),
        ("cost_report_year_one_store", stores[0]),
    ):
        latencies = []
        started = time.perf_counter()
        report = None
        for _ in range(5 if quick else 20):
            t0 = time.perf_counter()
            report = transfer_cost_report(
                actor=admin, month_from=months[0], month_to=months[-1], site=site
            )
            latencies.append(time.perf_counter() - t0)
        wall = time.perf_counter() - started
        assert report is not None
        rows.append(
            {
                "variant": variant,
                **summary(latencies, wall),
                "note": f"transfers={report.total.transfers} (bulk {transfers} + (a)) "
                f"lines={lines} rows={len(report.rows)}",
            }
        )
    return rows


def _bulk_year(
    count: int, admin: Any, sources: list[Site], stores: list[Site], skus: list[Sku]
) -> int:
    """`count` closed transfers shipped over the last 365 days, four lines each, with
    plausible source costs and freight (30 yuan a shipment + 0.45 yuan a unit, handling
    5 yuan), the cost shared equally by the lines."""
    rng = random.Random(5)
    now = timezone.now()
    prefix = uuid.uuid4().hex[:6]
    plans = [[rng.randint(2, 60) * U for _ in range(4)] for _ in range(count)]
    rows = []
    for i, units in enumerate(plans):
        shipped_at = now - dt.timedelta(seconds=rng.randrange(365 * 86_400))
        rows.append(
            Transfer(
                number=f"TRB{prefix}{i:07d}",
                kind=TransferKind.REPLENISHMENT,
                status=TransferStatus.CLOSED,
                source=sources[i % len(sources)],
                destination=stores[rng.randrange(len(stores))],
                requested_by=admin,
                shipped_at=shipped_at,
                received_at=shipped_at + dt.timedelta(hours=20),
                closed_at=shipped_at + dt.timedelta(hours=20),
                carrier="sim",
                freight_fen=3_000 + sum(units) // U * 45,
                handling_fen=500,
            )
        )
    Transfer.objects.bulk_create(rows, batch_size=2_000)
    ids = (
        Transfer.objects.filter(number__startswith=f"TRB{prefix}")
        .order_by("id")
        .values_list("id", "freight_fen", "handling_fen")
    )
    lines: list[TransferLine] = []
    for (transfer_id, freight, handling), units in zip(ids, plans, strict=True):
        total = freight + handling
        for j, q in enumerate(units):
            lines.append(
                TransferLine(
                    transfer_id=transfer_id,
                    sku=skus[rng.randrange(len(skus))],
                    quantity=q,
                    shipped=q,
                    received=q,
                    unit_cost_micros=rng.randint(150, 12_000) * 10_000,
                    allocated_cost_fen=total // 4 + (total % 4 if j == 0 else 0),
                )
            )
        if len(lines) >= 8_000:
            TransferLine.objects.bulk_create(lines, batch_size=2_000)
            lines = []
    TransferLine.objects.bulk_create(lines, batch_size=2_000)
    return count * 4
