"""Stock use cases. Each public function is one transaction and one StockOperation.

Quantities are integer thousandths of the base unit; costs integer micro-yuan.
"""

from chainstore.inventory.services._common import ISSUE_KINDS, ReceiptLine, site_today
from chainstore.inventory.services.adjustments import (
    ADJUST_REASONS,
    CountAdjustment,
    adjust,
    post_count_adjustments,
    write_off_expired,
)
from chainstore.inventory.services.moves import issue, move_stock, put_away
from chainstore.inventory.services.outbound import (
    ReserveLine,
    StagedLine,
    available_to_promise,
    pick_reserved,
    release_reservations,
    reserve_lines,
    ship_staged,
    write_off_missing,
)
from chainstore.inventory.services.receiving import correct_lot_expiry, receive
from chainstore.inventory.services.reservations import release, reserve, set_safety_stock

__all__ = [
    "ADJUST_REASONS",
    "ISSUE_KINDS",
    "CountAdjustment",
    "ReceiptLine",
    "ReserveLine",
    "StagedLine",
    "adjust",
    "available_to_promise",
    "correct_lot_expiry",
    "issue",
    "move_stock",
    "pick_reserved",
    "post_count_adjustments",
    "put_away",
    "receive",
    "release",
    "release_reservations",
    "reserve",
    "reserve_lines",
    "set_safety_stock",
    "ship_staged",
    "site_today",
    "write_off_expired",
    "write_off_missing",
]
