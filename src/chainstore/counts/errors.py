from django.utils.translation import gettext_lazy as _

from chainstore.core.errors import Conflict, InvalidState, NotFound, ValidationFailed

__all__ = [
    "CountIncomplete",
    "CountNotFound",
    "CountStockChanged",
    "InvalidState",
    "NothingToRecount",
    "OutOfCountScope",
]


class CountNotFound(NotFound):
    code = "count_not_found"
    default_message = _("Stock count not found.")


class OutOfCountScope(ValidationFailed):
    code = "out_of_count_scope"
    default_message = _("This location or SKU is not part of the count.")


class CountIncomplete(Conflict):
    code = "count_incomplete"
    default_message = _("Some lines are not counted yet (or wait for a recount).")


class CountStockChanged(Conflict):
    code = "count_stock_changed"
    default_message = _(
        "Stock of this line moved after it was counted and no longer covers the loss; "
        "recount the line."
    )


class NothingToRecount(Conflict):
    code = "nothing_to_recount"
    default_message = _("No counted line matches; nothing to recount.")
