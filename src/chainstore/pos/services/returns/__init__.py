"""Returns and refunds (退货退款): `create_return` and its side-effect-free `preview_return`.

With the receipt (pos.return): lines of the original sale, partial quantities, never more
than sold minus already returned — each line's `returned_quantity` grows by one
conditional UPDATE (`returned_quantity <= quantity - q`), so concurrent returns cannot
over-return, and the original sale's row is locked first so that two returns of one
sale settle its promotions one after the other. The refund is what was really paid for
the returned units, less what a promotion the return breaks recovers (满减 below its
tier, a gift kept without its trigger, ...) when the promotion says so (return_policy
recover): `pos.engine.returns.settle_return`. Points the returned part earned are
reversed (as far as the member still has them). Money goes back to the tenders that paid:
points and gift cards pro rata to what they paid (cumulatively over every return of the
sale, so the last return squares them exactly), the rest in cash — or to the refund
tenders given, which must add up to the refund. Stock comes back from the customer to
the store's selling location (condition sellable) or its damaged-goods location
(damaged), in the lots the sale took, at the unit cost they left with.

Without the receipt (pos.return_unreceipted, store managers): SKUs by code or scan,
refunded at today's store price, in cash, with no points; stock comes back at the
store's current average cost.

A return is a `Sale` row of kind return (numbered like the till's receipts, "…-R0001")
with its own idempotency key; refunds are its Tender rows. Every return is audited.
"""

from chainstore.pos.services.returns.create import create_return, preview_return
from chainstore.pos.services.returns.types import (
    OverReturn,
    PlannedLine,
    Recovery,
    RefundPart,
    ReturnLineInput,
    ReturnPlan,
)
from chainstore.pos.services.tenders import TenderInput

__all__ = [
    "OverReturn",
    "PlannedLine",
    "Recovery",
    "RefundPart",
    "ReturnLineInput",
    "ReturnPlan",
    "TenderInput",
    "create_return",
    "preview_return",
]
