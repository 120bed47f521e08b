"""The translated texts the till's scripts show (handed over as JSON in the page)."""

from __future__ import annotations

from django.utils.translation import gettext as _


def common_texts() -> dict[str, str]:
    return {
        "network": _("No answer from the server; check the connection and try again."),
        "failed": _("The request failed"),
        "cash": _("Cash"),
        "bank_card": _("Bank card"),
        "wechat_pay": _("WeChat Pay"),
        "alipay": _("Alipay"),
        "points": _("Points"),
        "gift_card": _("Gift card"),
        "sellable": _("Back to the shelf"),
        "damaged": _("Damaged"),
        "noShift": _("No shift is open at this till."),
        "badAmount": _("Enter an amount like 500 or 123.50."),
    }


def checkout_texts() -> dict[str, str]:
    return common_texts() | {
        "added": _("Added"),
        "items": _("items"),
        "removed": _("Removed"),
        "quantitySet": _("Quantity set"),
        "badQuantity": _("Enter a quantity like 3 or 0.5 (kg) before the *."),
        "noLine": _("Select a line first (arrow keys)."),
        "weighed": _("Weighed item: scan it again or type the weight, e.g. 0.5*"),
        "emptyBasket": _("The basket is empty."),
        "quoting": _("Pricing…"),
        "memberNotFound": _("No member with this phone or card number."),
        "memberAttached": _("Member"),
        "memberRemoved": _("Member removed"),
        "suspended": _("Basket suspended"),
        "resumed": _("Basket resumed"),
        "noSuspended": _("No suspended baskets at this store."),
        "finishFirst": _("Finish or suspend the current basket first."),
        "priceChanged": _("Prices changed since the quote: check the new total and pay again."),
        "uncertain": _(
            "The payment got no answer. Retry sends the same payment again: it cannot be "
            "charged twice."
        ),
        "tenderShort": _("The tenders do not cover the total yet."),
        "tenderOver": _("Only cash can be more than the amount due."),
        "giftCardBalance": _("Card balance"),
        "giftCardNotFound": _("Gift card not found or inactive."),
        "pointsValue": _("Points value"),
        "pointsRange": _("Points to use: at least 1, at most"),
        "needMember": _("Paying with points needs a member on the sale."),
        "discardBasket": _("Clear this basket?"),
        "giveUp": _(
            "Forget the unanswered payment? Check the store's sales list first: it may "
            "have gone through."
        ),
        "paid": _("Paid"),
        "pay": _("Pay"),
        "addTender": _("Add tender"),
    }


def offline_texts() -> dict[str, str]:
    """The checkout's offline mode (pos/static/pos/offline.js)."""
    return {
        "offlineOn": _("No connection to the server: selling offline from the saved catalog."),
        "offlineOff": _("The server answers again: back online."),
        "offlineUnknown": _("Not in the saved catalog"),
        "offlineNoCatalog": _("No saved catalog on this till: it cannot sell offline."),
        "offlineNotWeighed": _("Scale barcodes are only for weighed SKUs (sold per kg)."),
        "offlineCheckDigit": _("The check digit does not match."),
        "offlineSaved": _("Saved on this till; it is uploaded when the connection returns."),
        "offlineStoreFailed": _(
            "The sale could not be saved on this till (storage full?). It is not paid."
        ),
        "offlineReceipt": _("OFFLINE RECEIPT — will be synced"),
        "noPromotions": _("Sold offline at store prices, without promotions."),
        "offlineMember": _("Member look-up needs the connection."),
        "till": _("Till"),
        "total": _("Total"),
        "change": _("Change"),
        "synced": _("Offline sales uploaded"),
        "syncRejected": _("Offline sales refused by the server: see Sync problems."),
        "dismissProblem": _(
            "Remove this sale from the list? The shopper paid for it: record it another way first."
        ),
    }


def returns_texts() -> dict[str, str]:
    return common_texts() | {
        "notFound": _("No sale with this receipt number."),
        "notSale": _("This receipt is itself a return."),
        "nothingPicked": _("Pick at least one line and quantity to return."),
        "tooMany": _("More than can still be returned."),
        "done": _("Return recorded"),
        "uncertain": _(
            "The return got no answer. Retry sends the same return again: it cannot be "
            "refunded twice."
        ),
        "unknownScan": _("No SKU has this barcode."),
        "scanReceipt": _("Scan the receipt's barcode or type its number, then Enter"),
        "scanItem": _("Scan each item the shopper brings back"),
        "alreadyReturned": _("Already returned"),
        "recoveredLabel": _("Discount recovered"),
        "pointsReversed": _("Points reversed"),
        "retry": _("Retry"),
        "confirm": _("Confirm the refund"),
        "refundDue": _("Refund to the shopper"),
        "needReason": _("Give the reason for the return first."),
    }


def return_reasons() -> list[str]:
    return [
        _("Changed their mind"),
        _("Defective"),
        _("Wrong item"),
        _("Expired or spoiled"),
    ]


def shift_texts() -> dict[str, str]:
    return common_texts() | {
        "opened": _("Shift opened"),
        "closed": _("Shift closed"),
        "open": _("Open"),
        "closedStatus": _("Closed"),
        "confirmClose": _("Close the shift with this counted cash?"),
    }
