"""Domain errors as messages for people, in the active language.

Services raise errors with a stable snake_case `code`; many carry an English default
message. The UI shows the translated text for the codes it knows, followed by the SKU
and lot the error is about, and falls back to the service's own message otherwise.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from chainstore.core.errors import DomainError

MESSAGES: dict[str, Promise] = {
    "permission_denied": _("Your role may not do this."),
    "site_out_of_scope": _("This site is outside your scope."),
    "not_found": _("Not found."),
    "validation_error": _("The input is not valid."),
    "conflict": _("The request conflicts with the current state."),
    "insufficient_stock": _("Not enough available stock."),
    "idempotency_key_reused": _(
        "This receipt was already posted with different lines; start a new receipt."
    ),
    "invalid_quantity": _("Quantity must be greater than zero."),
    "empty_document": _("Add at least one line."),
    "empty_scan": _("Empty scan."),
    "unknown_barcode": _("No SKU has this barcode."),
    "invalid_barcode": _("The barcode is not valid."),
    "bad_check_digit": _("The barcode check digit does not match."),
    "invalid_gs1": _("Not a valid GS1 element string."),
    "gs1_without_gtin": _("The GS1 string has no GTIN (AI 01)."),
    "inactive_sku": _("This SKU is inactive."),
    "sku_not_found": _("SKU not found."),
    "site_not_found": _("Site not found."),
    "lot_required": _("This SKU is lot-tracked: enter a lot number."),
    "expiry_required": _("This SKU has a shelf life: enter the lot's expiry date."),
    "lot_not_tracked": _("This SKU is not lot-tracked; leave the lot empty."),
    "lot_expired": _("This lot has expired; it cannot be received."),
    "lot_expiry_mismatch": _(
        "This lot is already recorded with a different expiry date; correct the lot first."
    ),
    "invalid_location": _("This location cannot be used here."),
    "negative_amount": _("Amounts cannot be negative."),
    "invalid_idempotency_key": _("The form is out of date; reload the page."),
}


def describe(error: DomainError) -> str:
    """One line for the user: what went wrong, and for which SKU / lot."""
    known = MESSAGES.get(error.code)
    text = str(known) if known is not None else error.message
    subject = " / ".join(
        str(error.details[key])
        for key in ("sku", "lot", "barcode")
        if error.details.get(key) not in (None, "")
    )
    return f"{subject}: {text}" if subject else text
