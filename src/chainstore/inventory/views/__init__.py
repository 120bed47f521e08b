"""Stock operation screens (/ops/) (phone + wedge scanner): put-away, bin moves, adjustments, manual
issue, safety stock and lot expiry. Thin: reads through selectors, writes through services
(which check the role and site scope); refusals are shown inline and change nothing.

A scan field is a GET form (the scanner types the code and presses Enter); the posting form
carries an idempotency key made when the form was first shown, so a double tap or a resend
posts once. After posting, the screen shows the result and is ready for the next item.
"""

from chainstore.inventory.views.moves import index, move, putaway
from chainstore.inventory.views.settings import lot_expiry, lots, safety_stock
from chainstore.inventory.views.stock import adjust, issue

__all__ = ["adjust", "index", "issue", "lot_expiry", "lots", "move", "putaway", "safety_stock"]
