"""Runs one benchmark case against the database in DATABASE_URL (already migrated) and
prints its result rows as one JSON line. Started by bench.run, one process per case."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("case")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chainstore.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    if args.case == "migrate":
        call_command("migrate", verbosity=0, interactive=False)
        print(json.dumps([]))
        return
    module = importlib.import_module(f"bench.cases.{args.case}")
    rows = module.run(args.quick)
    sys.stdout.write("\n" + json.dumps(rows, default=str) + "\n")


if __name__ == "__main__":
    main()
