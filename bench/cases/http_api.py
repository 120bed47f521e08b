"""(b) Stock issues through HTTP: waitress in a subprocess, httpx clients with a bearer token,
1 and 4 concurrent clients. Every error counts (there must be none, on SQLite too)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

import httpx
from django.db import connection

from bench.world import make_world, summary
from chainstore.accounts.services import issue_token


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server exited early")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


def _clients(
    base: str, token: str, store: str, skus: list[str], clients: int, per_client: int
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def worker(n: int) -> None:
        mine, failed = [], []
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            barrier.wait()
            for i in range(per_client):
                body = {"site": store, "sku": skus[(n * per_client + i) % len(skus)]}
                t0 = time.perf_counter()
                try:
                    r = http.post(
                        "/api/v1/inventory/issues",
                        json={**body, "quantity": "1"},
                        headers={"Idempotency-Key": uuid.uuid4().hex},
                    )
                    if r.status_code == 201:
                        mine.append(time.perf_counter() - t0)
                    else:
                        failed.append(f"{r.status_code} {r.text[:100]}")
                except httpx.HTTPError as exc:
                    failed.append(repr(exc)[:100])
        with lock:
            latencies.extend(mine)
            errors.extend(failed)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - started
    row = summary(latencies, wall, errors=len(errors))
    row["note"] = errors[0] if errors else ""
    return row


def run(quick: bool) -> list[dict[str, Any]]:
    per_client = 60 if quick else 500
    world = make_world(skus=50)
    _token, secret = issue_token(user=world.admin, name="bench")
    skus = [s.code for s in world.skus]
    connection.close()
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "chainstore.cli", "serve", "--port", str(port), "--threads", "8"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "chainstore.config.settings"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    rows = []
    try:
        _wait(port, server)
        base = f"http://127.0.0.1:{port}"
        _clients(base, secret, world.store.code, skus, 1, 10)  # warm-up
        for clients in (1, 4):
            row = _clients(base, secret, world.store.code, skus, clients, per_client)
            rows.append({"variant": f"{clients} client(s) x {per_client} issues", **row})
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    return rows
