"""(g) Online orders over HTTP: orders per second through `POST /api/v1/fulfilment/orders`
(validation, intake, sourcing over four ship-from sites, reservation, shipments and pick
tasks, all in one transaction) with 1, 4 and 16 channel clients posting at once; waitress
in a subprocess, httpx clients with an integrator's bearer token; every non-201 counts as
an error.

Every order has 3 lines. Four ship-from sites (two warehouses, two stores, in four cities)
hold 40 SKUs in a storage bin. Each run has its own five "hot" SKUs, scarce at every site
(2 units per site when quick, 20 otherwise), and one of them is on half of its orders, so
concurrent orders race for the same last units, lose reservations to each other (the
sourcing re-reads and re-solves) and the later ones are backordered. At the end nothing may
be oversold: every balance's reserved quantity within its stock, the allocated order lines
equal to the open reservations, and `verify_ledger()` clean; any violation is reported in
`oversold` (bench.run then fails)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from collections import defaultdict
from decimal import Decimal
from typing import Any

import httpx
from django.db import connection
from django.db.models import F, Sum

from bench.cases.http_api import _free_port, _wait
from bench.world import analyze, make_world, summary
from chainstore.accounts.services import create_user, issue_token
from chainstore.catalog.models import Sku
from chainstore.fulfilment.models import CustomerOrder, OrderLine, OrderStatus, SourcingDecision
from chainstore.fulfilment.services.intake import save_channel
from chainstore.fulfilment.services.sourcing import configure_ship_from
from chainstore.inventory.models import Balance, Reservation, ReservationStatus
from chainstore.inventory.services import ReceiptLine, receive
from chainstore.inventory.verify import verify_ledger
from chainstore.sites.models import Site
from chainstore.sites.services import create_bin, create_site, update_site

SKUS = 40
RUNS = (1, 4, 16)  # concurrent clients
HOT = 5  # scarce SKUs per run: skus[r * HOT:(r + 1) * HOT] for run r; the rest plentiful
PLENTY_UNITS = 100_000
# Customers' cities (the sites are in the first four).
CITIES = [
    ("上海", Decimal("31.2304"), Decimal("121.4737")),
    ("杭州", Decimal("30.2741"), Decimal("120.1551")),
    ("南京", Decimal("32.0603"), Decimal("118.7969")),
    ("苏州", Decimal("31.2990"), Decimal("120.5853")),
    ("北京", Decimal("39.9042"), Decimal("116.4074")),
    ("武汉", Decimal("30.5928"), Decimal("114.3055")),
]


def _setup(hot_units: int) -> tuple[str, list[str]]:
    """Four ship-from sites with stock in a bin, a channel and an integrator's token."""
    world = make_world(skus=SKUS, stock_units=0)
    admin = world.admin
    Sku.objects.update(weight_g=450)
    _city, lat, lon = CITIES[0]
    update_site(site=world.warehouse, actor=admin, city="上海", latitude=lat, longitude=lon)
    update_site(
        site=world.store,
        actor=admin,
        city="上海",
        latitude=Decimal("31.1887"),
        longitude=Decimal("121.4366"),
    )
    sites: list[Site] = [world.warehouse, world.store]
    for code, kind, (city, lat, lon) in (("RDC01", "rdc", CITIES[1]), ("S002", "store", CITIES[2])):
        sites.append(
            create_site(
                code=code,
                name=f"{city}{'区域仓' if kind == 'rdc' else '门店'}",
                kind=kind,
                actor=admin,
                city=city,
                latitude=lat,
                longitude=lon,
            )
        )
    for n, site in enumerate(sites):
        shelf = create_bin(site=site, code="A-01-01", actor=admin)
        receive(
            site=site,
            actor=admin,
            lines=[
                ReceiptLine(
                    sku=sku,
                    quantity=(hot_units if i < HOT * len(RUNS) else PLENTY_UNITS) * 1000,
                    location=shelf,
                )
                for i, sku in enumerate(world.skus)
            ],
        )
        store = site.kind == "store"
        configure_ship_from(
            site=site,
            actor=admin,
            enabled=True,
            base_cost_fen=1000 + 200 * n if store else 600 + 100 * n,
            per_kg_cost_fen=200 if store else 120,
            priority=10 if store else 0,
        )
    save_channel(code="TM01", actor=admin, name="天猫旗舰店", platform="tmall")
    integrator = create_user(username="shop_api", password="bench-123456", role="integrator")
    _token, secret = issue_token(user=integrator, name="bench")
    analyze()
    return secret, [s.code for s in world.skus]


def _body(n: int, skus: list[str], hot: list[str], rng: random.Random) -> dict[str, Any]:
    """3 lines of 1-3 units; on half the orders the first line is a scarce SKU."""
    city, lat, lon = CITIES[rng.randrange(len(CITIES))]
    codes = rng.sample(skus[HOT * len(RUNS) :], 3)
    if hot and rng.random() < 0.5:
        codes[0] = rng.choice(hot)
    return {
        "channel": "TM01",
        "channel_order_id": f"B{n:09d}",
        "paid": True,
        "customer": {"name": "压测顾客", "phone": "138****0000"},
        "address": {
            "city": city,
            "address": "测试路1号",
            "latitude": str(lat + Decimal(rng.randint(-500, 500)) / 10_000),
            "longitude": str(lon + Decimal(rng.randint(-500, 500)) / 10_000),
        },
        "lines": [
            {"sku": code, "quantity": str(rng.randint(1, 3)), "unit_price": "9.90"}
            for code in codes
        ],
    }


def _clients(
    base: str,
    token: str,
    skus: list[str],
    hot: list[str],
    clients: int,
    per_client: int,
    start: int,
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    statuses: dict[str, int] = defaultdict(int)
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def worker(k: int) -> None:
        rng = random.Random(start + k)
        mine, failed, seen = [], [], []
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120
        ) as http:
            barrier.wait()
            for i in range(per_client):
                body = _body(start + k * per_client + i, skus, hot, rng)
                t0 = time.perf_counter()
                try:
                    r = http.post("/api/v1/fulfilment/orders", json=body)
                    if r.status_code == 201:
                        mine.append(time.perf_counter() - t0)
                        seen.append(r.json()["status"])
                    else:
                        failed.append(f"{r.status_code} {r.text[:120]}")
                except httpx.HTTPError as exc:
                    failed.append(repr(exc)[:120])
        with lock:
            latencies.extend(mine)
            errors.extend(failed)
            for status in seen:
                statuses[status] += 1

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    row = summary(latencies, time.perf_counter() - started, errors=len(errors))
    row["note"] = errors[0] if errors else ""
    row["backordered"] = statuses.get(OrderStatus.BACKORDER, 0)
    return row


def _oversold() -> list[str]:
    """Every way stock could have been promised twice; empty when none."""
    problems = [f"ledger: {d}" for d in verify_ledger()]
    for b in Balance.objects.filter(reserved__gt=0).filter(reserved__gt=F("on_hand")):
        problems.append(
            f"reserved {b.reserved} > on hand {b.on_hand} at {b.location_id}/{b.sku_id}"
        )
    held = (
        Reservation.objects.filter(status=ReservationStatus.ACTIVE).aggregate(
            q=Sum("open_quantity")
        )["q"]
        or 0
    )
    allocated = OrderLine.objects.aggregate(q=Sum("allocated"))["q"] or 0
    if held != allocated:
        problems.append(f"open reservations {held} != allocated order lines {allocated}")
    return problems


def run(quick: bool) -> list[dict[str, Any]]:
    per_run = 48 if quick else 480  # orders per run, spread over the clients
    secret, skus = _setup(hot_units=2 if quick else 20)
    connection.close()
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "chainstore.cli", "serve", "--port", str(port), "--threads", "16"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "chainstore.config.settings"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    rows = []
    try:
        _wait(port, server)
        base = f"http://127.0.0.1:{port}"
        _clients(base, secret, skus, [], 1, 5, start=0)  # warm-up
        start = 1_000
        for r, count in enumerate(RUNS):
            per_client = max(1, per_run // count)
            hot = skus[r * HOT : (r + 1) * HOT]
            row = _clients(base, secret, skus, hot, count, per_client, start)
            start += 1_000_000
            rows.append({"variant": f"{count} client(s) x {per_client} orders (3 lines)", **row})
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    problems = _oversold()
    orders = CustomerOrder.objects.count()
    backordered = CustomerOrder.objects.filter(status=OrderStatus.BACKORDER).count()
    # Orders whose reservation lost a race and were sourced again from what was left.
    raced = SourcingDecision.objects.filter(summary__contains="re-solved").count()
    rows.append(
        {
            "variant": "oversell check",
            "ops": orders,
            "errors": len(problems),
            "oversold": len(problems),
            "note": problems[0][:200]
            if problems
            else f"{orders} orders, {backordered} backordered, {raced} re-solved after a lost "
            "race: reserved <= stock, allocated = reserved, ledger clean",
        }
    )
    connection.close()
    return rows
