"""Run the benchmarks: `uv run python -m bench.run [--quick] [--only NAME] [--db sqlite|pg|both]`.

Each case runs in its own process against a scratch database: a SQLite file in a temp dir,
and the PostgreSQL database `chainstore_bench` (created and dropped here; skipped with a
message when PostgreSQL is unreachable). A migrated template is made once per backend and
copied for every case. Results: a table on the terminal and bench/results/<case>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.cases import CASES

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/chainstore_bench")
PG_DB = PG_URL.rsplit("/", 1)[1]
PG_TEMPLATE = PG_DB + "_template"
RESULTS = Path(__file__).resolve().parent / "results"
console = Console(width=max(170, Console().width))


def _pg(sql: list[str]) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
        for statement in sql:
            conn.execute(statement)  # type: ignore[arg-type]


def pg_available() -> str | None:
    try:
        _pg(["SELECT 1"])
    except Exception as exc:
        return str(exc).strip().splitlines()[0]
    return None


def _worker(case: str, env: dict[str, str], quick: bool) -> list[dict[str, Any]]:
    args = [sys.executable, "-m", "bench.worker", case] + (["--quick"] if quick else [])
    proc = subprocess.run(args, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return [{"variant": "FAILED", "note": " | ".join(tail)[:300]}]
    return json.loads(proc.stdout.strip().splitlines()[-1])


class Backend:
    def __init__(self, name: str, root: Path) -> None:
        self.name = name
        self.root = root

    def env(self, data_dir: Path, url: str) -> dict[str, str]:
        data_dir.mkdir(parents=True, exist_ok=True)
        return {
            **os.environ,
            "DATABASE_URL": url,
            "CHAINSTORE_DATA_DIR": str(data_dir),
            "DJANGO_SETTINGS_MODULE": "chainstore.config.settings",
            "LOG_LEVEL": "ERROR",
        }

    def prepare(self) -> None:
        if self.name == "sqlite":
            url = f"sqlite:///{self.root / 'template.sqlite3'}"
        else:
            _pg([f'DROP DATABASE IF EXISTS "{PG_TEMPLATE}"', f'CREATE DATABASE "{PG_TEMPLATE}"'])
            url = PG_URL.rsplit("/", 1)[0] + "/" + PG_TEMPLATE
        rows = _worker("migrate", self.env(self.root / "template", url), quick=True)
        if rows:
            raise RuntimeError(f"migrate failed on {self.name}: {rows[0]['note']}")

    def fresh(self, case: str) -> dict[str, str]:
        data_dir = self.root / case
        if self.name == "sqlite":
            data_dir.mkdir(parents=True, exist_ok=True)
            db = data_dir / "bench.sqlite3"
            shutil.copy(self.root / "template.sqlite3", db)
            return self.env(data_dir, f"sqlite:///{db}")
        _pg(
            [
                f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)',
                f'CREATE DATABASE "{PG_DB}" TEMPLATE "{PG_TEMPLATE}"',
            ]
        )
        return self.env(data_dir, PG_URL)

    def cleanup(self) -> None:
        if self.name == "pg":
            _pg(
                [
                    f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)',
                    f'DROP DATABASE IF EXISTS "{PG_TEMPLATE}"',
                ]
            )


COLUMNS = [
    ("case", "case"),
    ("db", "db"),
    ("variant", "variant"),
    ("ops", "ops"),
    ("seconds", "s"),
    ("ops_per_s", "ops/s"),
    ("p50_ms", "p50 ms"),
    ("p99_ms", "p99 ms"),
    ("errors", "errors"),
    ("note", "note"),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("--quick", action="store_true", help="small sizes (< 2 minutes)")
    parser.add_argument("--only", choices=CASES, action="append", help="run only this case")
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="both")
    args = parser.parse_args(argv)
    cases = args.only or CASES
    names = ["sqlite", "pg"] if args.db == "both" else [args.db]
    if "pg" in names and (problem := pg_available()):
        console.print(f"[yellow]PostgreSQL unreachable, skipping it:[/] {problem}")
        names.remove("pg")
    RESULTS.mkdir(exist_ok=True)
    all_rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="chainstore-bench-") as tmp:
        for name in names:
            backend = Backend(name, Path(tmp) / name)
            backend.root.mkdir(parents=True)
            try:
                backend.prepare()
                for case in cases:
                    with console.status(f"{case} on {name} ..."):
                        t0 = time.perf_counter()
                        rows = _worker(case, backend.fresh(case), args.quick)
                    for row in rows:
                        row.update(case=case, db=name)
                    all_rows.extend(rows)
                    console.print(f"{case} on {name}: {time.perf_counter() - t0:.1f} s")
            finally:
                backend.cleanup()
    _print(all_rows)
    meta = {
        "quick": args.quick,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    for case in cases:
        rows = [r for r in all_rows if r["case"] == case]
        (RESULTS / f"{case}.json").write_text(
            json.dumps({**meta, "rows": rows}, ensure_ascii=False, indent=2) + "\n"
        )
    console.print(f"Total {time.perf_counter() - started:.0f} s; JSON in {RESULTS}/")
    failed = any(r.get("variant") == "FAILED" or r.get("oversold") for r in all_rows)
    return 1 if failed else 0


def _print(rows: list[dict[str, Any]]) -> None:
    table = Table(title="chainstore benchmarks", title_justify="left")
    for _key, label in COLUMNS:
        table.add_column(label, overflow="fold")
    for row in rows:
        extra = {k: v for k, v in row.items() if k not in dict(COLUMNS) and k != "oversold"}
        note = " ".join(filter(None, [str(row.get("note", "")), *_extras(extra)]))
        table.add_row(
            *[
                note if key == "note" else ("" if row.get(key) is None else str(row.get(key)))
                for key, _label in COLUMNS
            ]
        )
    console.print(table)


def _extras(extra: dict[str, Any]) -> list[str]:
    return [f"{k}={v}" for k, v in extra.items()]


if __name__ == "__main__":
    raise SystemExit(main())
