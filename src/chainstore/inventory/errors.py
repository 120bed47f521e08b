from django.utils.translation import gettext_lazy as _

from chainstore.core.errors import Conflict, InsufficientStock, NotFound, ValidationFailed

__all__ = [
    "ExpiredLot",
    "InsufficientStock",
    "LotExpiryMismatch",
    "LotNotFound",
    "LotRequired",
    "ReservationNotFound",
]


class LotRequired(ValidationFailed):
    code = "lot_required"
    default_message = _("This SKU is lot-tracked: give a lot number.")


class ExpiryRequired(ValidationFailed):
    code = "expiry_required"
    default_message = _("This SKU has a shelf life: give the lot's expiry date.")


class LotNotTracked(ValidationFailed):
    code = "lot_not_tracked"
    default_message = _("This SKU is not lot-tracked; do not give a lot.")


class ExpiredLot(Conflict):
    code = "lot_expired"
    default_message = _("This lot has expired and cannot be issued.")


class LotExpiryMismatch(Conflict):
    code = "lot_expiry_mismatch"
    default_message = _("This lot exists with a different expiry date; correct the lot first.")


class LotNotFound(NotFound):
    code = "lot_not_found"
    default_message = _("Lot not found.")


class ReservationNotFound(NotFound):
    code = "reservation_not_found"
    default_message = _("Reservation not found.")


class InvalidLocation(ValidationFailed):
    code = "invalid_location"
    default_message = _("This location cannot be used here.")
