"""POS domain errors: each with a snake_case code and its HTTP status (see core.errors)."""

from django.utils.translation import gettext_lazy as _

from chainstore.core.errors import Conflict, InvalidState, NotFound, ValidationFailed

__all__ = [
    "BasketAlreadyResumed",
    "GiftCardInsufficient",
    "GiftCardNotFound",
    "InvalidPromotion",
    "InvalidScaleBarcode",
    "InvalidState",
    "InvalidTender",
    "MemberInactive",
    "MemberNotFound",
    "MemberRequired",
    "NoOpenShift",
    "PointsInsufficient",
    "PriceChanged",
    "SaleNotFound",
    "SuspendedBasketNotFound",
    "TendersMismatch",
    "TillNotFound",
    "TillNotInStore",
    "WholeQuantityRequired",
]


class TillNotFound(NotFound):
    code = "till_not_found"
    default_message = _("Till not found.")


class TillNotInStore(ValidationFailed):
    code = "till_not_in_store"
    default_message = _("This till belongs to another store (or is inactive).")


class NoOpenShift(Conflict):
    code = "no_open_shift"
    default_message = _("Open a shift at this till before selling.")


class MemberNotFound(NotFound):
    code = "member_not_found"
    default_message = _("Member not found.")


class MemberInactive(Conflict):
    code = "member_inactive"
    default_message = _("This membership is inactive.")


class MemberRequired(ValidationFailed):
    code = "member_required"
    default_message = _("Paying with points needs a member on the sale.")


class PointsInsufficient(Conflict):
    code = "points_insufficient"
    default_message = _("The member does not have enough points.")


class GiftCardNotFound(NotFound):
    code = "gift_card_not_found"
    default_message = _("Gift card not found or inactive.")


class GiftCardInsufficient(Conflict):
    code = "gift_card_insufficient"
    default_message = _("The gift card balance is too low.")


class InvalidTender(ValidationFailed):
    code = "invalid_tender"
    default_message = _("This tender is not valid.")


class TendersMismatch(ValidationFailed):
    code = "tenders_mismatch"
    default_message = _("The tenders do not add up to the total.")


class PriceChanged(Conflict):
    code = "price_changed"
    default_message = _("The total changed since the quote; quote the basket again.")


class InvalidPromotion(ValidationFailed):
    code = "invalid_promotion"
    default_message = _("The promotion's parameters are not valid.")


class InvalidScaleBarcode(ValidationFailed):
    code = "invalid_scale_barcode"
    default_message = _("This scale barcode is not valid.")


class WholeQuantityRequired(ValidationFailed):
    code = "whole_quantity_required"
    default_message = _("This SKU is sold in whole units.")


class SaleNotFound(NotFound):
    code = "sale_not_found"
    default_message = _("Sale not found.")


class SuspendedBasketNotFound(NotFound):
    code = "suspended_basket_not_found"
    default_message = _("Suspended basket not found.")


class BasketAlreadyResumed(InvalidState):
    code = "basket_already_resumed"
    default_message = _("This basket was already resumed.")
