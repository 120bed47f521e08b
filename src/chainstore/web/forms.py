"""Forms: input parsing only; rules live in the services."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from chainstore.sites.models import Site


class ReceiptForm(forms.Form):
    # A code, not a ChoiceField: the service decides whether the site is in the actor's scope.
    site = forms.CharField(label=_("Site"), max_length=20, widget=forms.Select)
    supplier = forms.CharField(label=_("Supplier"), required=False, max_length=100)
    reference = forms.CharField(label=_("Reference"), required=False, max_length=100)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args: Any, sites: list[Site], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.fields["site"].widget.choices = [(s.code, f"{s.code} {s.name}") for s in sites]
        self.fields["site"].widget.attrs.update({"class": "form-select"})
        for name in ("supplier", "reference"):
            self.fields[name].widget.attrs.update({"class": "form-control"})


class ReceiptLineForm(forms.Form):
    sku = forms.IntegerField(min_value=1)
    quantity = forms.DecimalField(
        label=_("Quantity"), min_value=Decimal("0.001"), max_digits=15, decimal_places=3
    )
    lot = forms.CharField(label=_("Lot"), required=False, max_length=64)
    expiry = forms.DateField(label=_("Expiry"), required=False)


LINE_FIELDS = ("sku", "quantity", "lot", "expiry")


def line_forms(data: Any) -> list[ReceiptLineForm]:
    """One form per posted line; the lines arrive as parallel lists line_sku, line_quantity..."""
    columns = {name: data.getlist(f"line_{name}") for name in LINE_FIELDS}
    count = max((len(values) for values in columns.values()), default=0)
    return [
        ReceiptLineForm(
            data={name: (values[i] if i < len(values) else "") for name, values in columns.items()}
        )
        for i in range(count)
    ]
