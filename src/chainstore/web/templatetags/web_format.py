"""Display helpers: integer minor units -> human numbers, expiry colouring, paging URLs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import template
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chainstore.core.quantities import fen_to_money, milli_to_qty
from chainstore.inventory.models import OperationKind

register = template.Library()

SOON_DAYS = 30

REASONS = {
    **dict(OperationKind.choices),
    "damage": _("Damage"),
    "loss": _("Loss"),
    "found": _("Found"),
    "expired": _("Expired"),
    "correction": _("Correction"),
    "theft": _("Theft"),
    "sale": _("Sale"),
    "transfer": _("Transfer"),
    "transfer_out": _("Transfer out"),
    "transfer_in": _("Transfer in"),
    "replenishment": _("Replenishment"),
    "internal_use": _("Internal use"),
    "sample": _("Sample"),
    "issue": _("Issue"),
}


def format_qty(milli: int | None) -> str:
    if milli is None:
        return ""
    value = milli_to_qty(int(milli)).normalize()
    if value == value.to_integral():
        value = value.quantize(Decimal(1))
    return f"{value:,f}"


@register.filter
def qty(milli: int | None) -> str:
    """Integer thousandths of the base unit -> "1,234.5"."""
    return format_qty(milli)


@register.filter
def money(fen: int | None) -> str:
    """Integer fen -> "¥1,234.56" (negative: "-¥10.00")."""
    if fen is None:
        return ""
    amount = fen_to_money(int(fen))
    return f"-¥{-amount:,f}" if amount < 0 else f"¥{amount:,f}"


@register.filter
def reason_label(reason: str) -> str:
    """A stock move's reason code as words in the active language."""
    label = REASONS.get(reason)
    return str(label) if label is not None else reason


@register.filter
def expiry_state(expiry: dt.date | None) -> str:
    """The state of a lot's expiry date: "expired", "soon" (within 30 days) or ""."""
    if not isinstance(expiry, dt.date):
        return ""
    today = timezone.localdate()
    if expiry < today:
        return "expired"
    if expiry <= today + dt.timedelta(days=SOON_DAYS):
        return "soon"
    return ""


@register.filter
def expiry_row_class(expiry: dt.date | None) -> str:
    return {"expired": "table-danger", "soon": "table-warning"}.get(expiry_state(expiry), "")


@register.simple_tag(takes_context=True)
def query_with(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with some parameters replaced ("?q=x&page=2")."""
    request = context["request"]
    params: QueryDict = request.GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = str(value)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"
