"""Catalog forms: input parsing and unit conversion only; the rules live in the services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from chainstore.catalog.models import BarcodeKind, Category, Sku, Storage, Tracking
from chainstore.catalog.selectors import category_tree
from chainstore.core.quantities import cost_to_micros, fen_to_money, micros_to_cost, money_to_fen


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


def _choice_field(form: forms.Form, name: str) -> forms.ChoiceField:
    return cast(forms.ChoiceField, form.fields[name])


def _category_choices(exclude: set[int] | None = None) -> list[tuple[str, Any]]:
    choices: list[tuple[str, Any]] = [("", _("— top level —"))]
    for node in category_tree():
        if exclude and node.category.pk in exclude:
            continue
        indent = "\u3000" * node.depth
        choices.append(
            (str(node.category.pk), f"{indent}{node.category.code} {node.category.name}")
        )
    return choices


class CategoryForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=100)
    parent = forms.TypedChoiceField(
        label=_("Parent category"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, exclude: set[int] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice_field(self, "parent").choices = _category_choices(exclude)
        _style(self)

    def parent_category(self) -> Category | None:
        parent_id = self.cleaned_data.get("parent")
        return Category.objects.filter(pk=parent_id).first() if parent_id else None


class CategoryEditForm(CategoryForm):
    """Rename / move: the code stays."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["code"]


class SkuForm(forms.Form):
    code = forms.CharField(label=_("SKU code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=200)
    category = forms.TypedChoiceField(
        label=_("Category"), required=False, coerce=int, empty_value=None
    )
    brand = forms.CharField(label=_("Brand"), max_length=100, required=False)
    base_unit = forms.CharField(label=_("Base unit"), max_length=16, initial="pcs")
    tracking = forms.ChoiceField(label=_("Tracking"), choices=Tracking.choices)
    shelf_life_days = forms.IntegerField(
        label=_("Shelf life (days)"), required=False, min_value=1, max_value=36500
    )
    storage = forms.ChoiceField(label=_("Storage"), choices=Storage.choices)
    weight_g = forms.IntegerField(
        label=_("Weight (g per base unit)"), required=False, min_value=0, max_value=10_000_000
    )
    volume_cm3 = forms.IntegerField(
        label=_("Volume (cm³ per base unit)"), required=False, min_value=0, max_value=100_000_000
    )
    retail_price = forms.DecimalField(
        label=_("Retail price (yuan)"),
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=2,
        initial=Decimal("0.00"),
    )
    standard_cost = forms.DecimalField(
        label=_("Standard cost (yuan per base unit)"),
        min_value=Decimal(0),
        max_digits=15,
        decimal_places=6,
        initial=Decimal("0"),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    barcode = forms.CharField(label=_("Barcode (optional)"), max_length=64, required=False)
    barcode_kind = forms.ChoiceField(
        label=_("Barcode kind"), choices=BarcodeKind.choices, initial=BarcodeKind.EAN13
    )

    def __init__(self, *args: Any, sku: Sku | None = None, **kwargs: Any) -> None:
        if sku is not None:
            kwargs.setdefault("initial", self.initial_for(sku))
        super().__init__(*args, **kwargs)
        _choice_field(self, "category").choices = [
            ("", _("— none —")),
            *_category_choices()[1:],
        ]
        if sku is not None:  # editing: the code is the SKU's identity; barcodes have their page
            self.fields["code"].disabled = True
            del self.fields["barcode"], self.fields["barcode_kind"]
        _style(self)

    @staticmethod
    def initial_for(sku: Sku) -> dict[str, Any]:
        return {
            "code": sku.code,
            "name": sku.name,
            "category": sku.category_id,
            "brand": sku.brand.name if sku.brand else "",
            "base_unit": sku.base_unit,
            "tracking": sku.tracking,
            "shelf_life_days": sku.shelf_life_days,
            "storage": sku.storage,
            "weight_g": sku.weight_g,
            "volume_cm3": sku.volume_cm3,
            "retail_price": fen_to_money(sku.retail_price_fen),
            "standard_cost": micros_to_cost(sku.standard_cost_micros).normalize(),
            "is_active": sku.is_active,
        }

    def sku_fields(self) -> dict[str, Any]:
        """Cleaned values as the services' SKU fields (brand excluded: it is a name)."""
        data = self.cleaned_data
        category_id = data.get("category")
        return {
            "name": data["name"],
            "category": Category.objects.filter(pk=category_id).first() if category_id else None,
            "base_unit": data["base_unit"].strip(),
            "tracking": data["tracking"],
            "shelf_life_days": data.get("shelf_life_days"),
            "storage": data["storage"],
            "weight_g": data.get("weight_g"),
            "volume_cm3": data.get("volume_cm3"),
            "retail_price_fen": money_to_fen(data["retail_price"]),
            "standard_cost_micros": cost_to_micros(data["standard_cost"]),
            "is_active": data["is_active"],
        }


class BarcodeForm(forms.Form):
    code = forms.CharField(label=_("Barcode"), max_length=64)
    kind = forms.ChoiceField(label=_("Kind"), choices=BarcodeKind.choices)
    primary = forms.BooleanField(label=_("Primary barcode"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


class LabelForm(forms.Form):
    copies = forms.IntegerField(min_value=1, max_value=200, initial=2, required=False)
