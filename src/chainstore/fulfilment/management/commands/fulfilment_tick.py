"""chainstore fulfilment_tick: the periodic order jobs. Cancels unpaid orders whose payment
window closed (releasing their stock), then retries backordered orders oldest first. Run it
every minute or so from cron / a systemd timer / the task queue:

    chainstore fulfilment_tick            # as the fulfilment system (no user on the trail)
    chainstore fulfilment_tick --user hq  # attributed to a user (their permissions apply)
"""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from chainstore.core.errors import DomainError
from chainstore.core.quantities import milli_to_qty
from chainstore.fulfilment.services.care import expire_unpaid, retry_backorders
from chainstore.fulfilment.services.sourcing import SYSTEM


class Command(BaseCommand):
    help = "Cancel unpaid orders past their payment deadline and retry backorders."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--user", default="", help="act as this user instead of the fulfilment system"
        )
        parser.add_argument(
            "--limit", type=int, default=200, help="backordered orders to retry (oldest first)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor: Any = SYSTEM
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"no user named {options['user']!r}")
        started = time.perf_counter()
        try:
            expired = expire_unpaid(actor=actor)
            retried = retry_backorders(actor=actor, limit=options["limit"])
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        for order in expired:
            self.stdout.write(
                f"Cancelled {order.number} (unpaid since {order.pay_by:%Y-%m-%d %H:%M})"
            )
        for retry in retried:
            if retry.error is not None:
                self.stderr.write(f"Backorder {retry.order.number}: {retry.error.message}")
                continue
            lines = retry.order.lines.all()
            waiting = sum(ln.backordered for ln in lines)
            note = f", {milli_to_qty(waiting)} still waiting" if waiting else ""
            self.stdout.write(
                f"Sourced {retry.order.number}: {retry.order.get_status_display()}{note}"
            )
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(expired)} unpaid order(s) cancelled, "
                f"{sum(1 for r in retried if r.error is None)} backorder(s) sourced "
                f"in {elapsed:.2f} s."
            )
        )
