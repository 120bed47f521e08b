"""(f) Store POS over HTTP: checkouts per second for a 3-line basket with one promotion
(满100减20 on every SKU) and a member, with 1, 4 and 16 tills paying at once; then offline
batch sync (50 sales x 3 lines per request) in sale lines per second. waitress in a
subprocess, httpx clients with a bearer token; every non-2xx answer counts as an error."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

import httpx
from django.db import connection
from django.utils import timezone

from bench.cases.http_api import _free_port, _wait
from bench.world import make_world, summary
from chainstore.accounts.services import issue_token
from chainstore.pos.models import Member, MemberTier, Promotion, PromotionKind, Till
from chainstore.pos.services.shifts import open_shift

TILLS = 16


def _setup() -> tuple[str, str, list[str], list[str]]:
    world = make_world(skus=60)
    _token, secret = issue_token(user=world.admin, name="bench")
    tier = MemberTier.objects.create(code="gold", name="金卡", rank=2, points_per_yuan=2)
    Member.objects.create(card_number="880000000001", phone="13800138000", tier=tier)
    Promotion.objects.create(
        code="MJ",
        name="满100减20",
        kind=PromotionKind.THRESHOLD,
        params={"tiers": [["100.00", "20.00"]]},
    )
    tills = []
    for n in range(1, TILLS + 1):
        till = Till.objects.create(site=world.store, code=f"T{n:02d}")
        open_shift(store=world.store, till=till, opening_float_fen=0, actor=world.admin)
        tills.append(till.code)
    return secret, world.store.code, [s.code for s in world.skus], tills


def _basket(skus: list[str], n: int) -> list[dict[str, str]]:
    # 3 lines, 4 units at 5.00: 20.00 — below the tier; 8 units of the first: 40 + 10 + 10.
    return [
        {"sku": skus[n % len(skus)], "quantity": "8"},
        {"sku": skus[(n + 7) % len(skus)], "quantity": "2"},
        {"sku": skus[(n + 13) % len(skus)], "quantity": "12"},
    ]


def _sale_body(store: str, till: str, skus: list[str], n: int) -> dict[str, Any]:
    # 8 + 2 + 12 units x 5.00 = 110.00, minus 满100减20 = 90.00 paid in cash.
    return {
        "store": store,
        "till": till,
        "member": "13800138000",
        "lines": _basket(skus, n),
        "tenders": [{"kind": "cash", "amount": "90.00", "tendered": "100.00"}],
        "expected_total": "90.00",
    }


def _tills(
    base: str, token: str, store: str, skus: list[str], tills: list[str], per_till: int
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(tills))

    def worker(k: int, till: str) -> None:
        mine, failed = [], []
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120
        ) as http:
            barrier.wait()
            for i in range(per_till):
                body = _sale_body(store, till, skus, k * per_till + i)
                t0 = time.perf_counter()
                try:
                    r = http.post(
                        "/api/v1/pos/sales",
                        json=body,
                        headers={"Idempotency-Key": uuid.uuid4().hex},
                    )
                    if r.status_code == 201:
                        mine.append(time.perf_counter() - t0)
                    else:
                        failed.append(f"{r.status_code} {r.text[:120]}")
                except httpx.HTTPError as exc:
                    failed.append(repr(exc)[:120])
        with lock:
            latencies.extend(mine)
            errors.extend(failed)

    pool = [threading.Thread(target=worker, args=(k, t)) for k, t in enumerate(tills)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    row = summary(latencies, time.perf_counter() - started, errors=len(errors))
    row["note"] = errors[0] if errors else ""
    return row


def _batches(base: str, token: str, store: str, skus: list[str], batches: int) -> dict[str, Any]:
    latencies, errors = [], []
    lines = 0
    started = time.perf_counter()
    with httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=300
    ) as http:
        for b in range(batches):
            sales = []
            for i in range(50):
                body = _sale_body(store, "T01", skus, b * 50 + i)
                for key in ("store", "till", "expected_total"):  # given once per batch
                    body.pop(key)
                key = f"bench-{b}-{i}-{uuid.uuid4().hex[:8]}"
                sales.append(
                    {**body, "idempotency_key": key, "sold_at": timezone.now().isoformat()}
                )
            t0 = time.perf_counter()
            r = http.post(
                "/api/v1/pos/batches", json={"store": store, "till": "T01", "sales": sales}
            )
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200:
                errors.append(f"{r.status_code} {r.text[-200:]}")
                continue
            results = r.json()["results"]
            bad = [x for x in results if x["status"] != "created"]
            errors.extend(str(x.get("error"))[:120] for x in bad)
            lines += 3 * (len(results) - len(bad))
    wall = time.perf_counter() - started
    row = summary(latencies, wall, errors=len(errors))
    row["note"] = (errors[0] if errors else "") + f" sale lines/s: {lines / wall:.0f}"
    row["lines_per_s"] = round(lines / wall, 1)
    return row


def run(quick: bool) -> list[dict[str, Any]]:
    per_till_total = 48 if quick else 480  # checkouts per run, spread over the tills
    secret, store, skus, tills = _setup()
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
        _tills(base, secret, store, skus, tills[:1], 5)  # warm-up
        for count in (1, 4, 16):
            per_till = max(1, per_till_total // count)
            row = _tills(base, secret, store, skus, tills[:count], per_till)
            rows.append({"variant": f"{count} till(s) x {per_till} checkouts", **row})
        batches = 2 if quick else 10
        row = _batches(base, secret, store, skus, batches)
        rows.append({"variant": f"batch sync: {batches} x 50 sales x 3 lines", **row})
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    return rows
