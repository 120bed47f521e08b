"""Forms of the stock operation screens: input parsing only; the services decide.

Sites and locations arrive as codes (typed or scanned), SKUs and lots as ids chosen on the
page, quantities as decimals in the SKU's base unit (kg allowed) and leave as integer
thousandths. Every stock-moving form carries an idempotency key generated once per form.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from chainstore.core.quantities import qty_to_milli
from chainstore.inventory.services import ADJUST_REASONS

MAX_MILLI = 10**15

# Labels of inventory.services.ADJUST_REASONS, most common first.
ADJUST_REASON_LABELS: dict[str, Promise] = {
    "damage": _("Damaged"),
    "loss": _("Lost"),
    "expired": _("Expired"),
    "theft": _("Theft"),
    "found": _("Found"),
    "correction": _("Correction"),
    "count": pgettext_lazy("adjustment reason", "Stock count"),
    "opening": _("Opening stock"),
}
ADJUST_REASON_CHOICES = [(code, ADJUST_REASON_LABELS.get(code, code)) for code in ADJUST_REASONS]
ADJUST_REASON_CHOICES.sort(key=lambda c: list(ADJUST_REASON_LABELS).index(c[0]))

# Manual issue (出库) reasons; the code is stored as the move's reason.
ISSUE_REASON_CHOICES: list[tuple[str, Promise]] = [
    ("internal_use", _("Internal use")),
    ("sample", _("Sample")),
    ("issue", _("Other issue")),
]

GAIN, LOSS = "gain", "loss"


class QuantityField(forms.CharField):
    """A decimal quantity in base units -> integer thousandths (qty_to_milli)."""

    def __init__(self, *, signed: bool = False, allow_zero: bool = False, **kwargs: Any) -> None:
        self.signed = signed
        self.allow_zero = allow_zero
        kwargs.setdefault("max_length", 24)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})

    def clean(self, value: Any) -> int | None:  # type: ignore[override]
        text = (super().clean(value) or "").strip().replace("，", ".").replace(",", ".")
        if not text:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise forms.ValidationError(_("Enter a number."), code="invalid") from None
        if not number.is_finite():
            raise forms.ValidationError(_("Enter a number."), code="invalid")
        try:
            milli = qty_to_milli(number)
        except ValueError:
            raise forms.ValidationError(
                _("Enter at most 3 decimal places."), code="precision"
            ) from None
        if abs(milli) >= MAX_MILLI:
            raise forms.ValidationError(_("This quantity is too large."), code="too_large")
        if milli < 0 and not self.signed:
            raise forms.ValidationError(_("The quantity cannot be negative."), code="negative")
        if milli == 0 and not self.allow_zero:
            raise forms.ValidationError(_("Enter a quantity other than zero."), code="zero")
        return milli


class KeyedForm(forms.Form):
    """A form that posts stock once: the key is made when the form is first shown."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)


class MoveForm(KeyedForm):
    """上架 put-away or bin move of one stock line (sku + lot) at a source location."""

    site = forms.CharField(max_length=20)
    source = forms.CharField(max_length=40)
    sku = forms.IntegerField(min_value=1)
    lot = forms.IntegerField(min_value=1, required=False)
    destination = forms.CharField(label=_("Destination bin"), max_length=60)
    quantity = QuantityField(label=_("Quantity"))


class AdjustForm(KeyedForm):
    site = forms.CharField(max_length=20)
    location = forms.CharField(max_length=40)
    sku = forms.IntegerField(min_value=1)
    lot = forms.CharField(label=_("Lot"), max_length=64, required=False)
    new_lot = forms.CharField(label=_("New lot number"), max_length=64, required=False)
    new_expiry = forms.DateField(label=_("Expiry"), required=False)
    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=[
            (LOSS, pgettext_lazy("adjustment direction", "Loss")),
            (GAIN, pgettext_lazy("adjustment direction", "Gain")),
        ],
        initial=LOSS,
        widget=forms.RadioSelect,
    )
    quantity = QuantityField(label=_("Quantity"), signed=True)
    reason = forms.ChoiceField(label=_("Reason"), choices=ADJUST_REASON_CHOICES)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def delta(self) -> int:
        """The signed change: a typed minus sign means a loss whatever the toggle says."""
        quantity: int = self.cleaned_data["quantity"]
        if quantity < 0:
            return quantity
        return quantity if self.cleaned_data["direction"] == GAIN else -quantity

    def lot_and_expiry(self) -> tuple[str | None, Any]:
        new_lot = self.cleaned_data["new_lot"].strip()
        if new_lot:
            return new_lot, self.cleaned_data["new_expiry"]
        return (self.cleaned_data["lot"].strip() or None), None


class IssueForm(KeyedForm):
    site = forms.CharField(max_length=20)
    sku = forms.IntegerField(min_value=1)
    quantity = QuantityField(label=_("Quantity"))
    reason = forms.ChoiceField(label=_("Reason"), choices=ISSUE_REASON_CHOICES)
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)


class SafetyStockForm(forms.Form):
    site = forms.CharField(max_length=20)
    sku = forms.IntegerField(min_value=1)
    quantity = QuantityField(label=_("Safety stock"), required=False, allow_zero=True)
    next = forms.CharField(required=False, max_length=500)


class LotExpiryForm(forms.Form):
    expiry_date = forms.DateField(
        label=_("Correct expiry date"), widget=forms.DateInput(attrs={"type": "date"})
    )


def error_list(form: forms.Form) -> list[str]:
    """Field errors as "Label: message" lines for the page's error box."""
    lines = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = field.label if field is not None and field.label else ""
        lines += [f"{label}: {e}" if label else str(e) for e in errors]
    return lines
