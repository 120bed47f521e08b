"""Back office forms: input parsing only (text areas into lists, yuan into fen); every rule
lives in the services (pos/services/admin*.py), whose refusals come back as form errors."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from chainstore.catalog.models import Brand
from chainstore.catalog.selectors import category_tree
from chainstore.core.quantities import money_to_fen
from chainstore.pos.models import (
    Member,
    MemberCondition,
    MemberTier,
    PriceList,
    Promotion,
    PromotionKind,
    ReturnPolicy,
    ShortSalePolicy,
    Stacking,
    StoreSettings,
)
from chainstore.pos.services.admin import PromotionInput, TierInput, promotion_snapshot
from chainstore.pos.services.admin_prices import PriceListInput
from chainstore.pos.services.admin_stores import MemberInput, SettingsInput
from chainstore.sites.models import Site, SiteKind

DATETIME_INPUT = "%Y-%m-%dT%H:%M"
INDENT = "\u3000"
_SPLIT = re.compile(r"[\s,，;；]+")


def style(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
            continue
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


def _when(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        input_formats=[DATETIME_INPUT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT),
    )


def _codes(text: str) -> list[str]:
    return [c for c in _SPLIT.split(text or "") if c]


def _pairs(text: str, field_label: str) -> list[list[str]]:
    """Lines of two values ("100, 20" / "SKU-1 2") -> [["100", "20"], ...]."""
    pairs = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        parts = _codes(line)
        if not parts:
            continue
        if len(parts) != 2:
            raise forms.ValidationError(
                _("Line %(n)s: write two values, e.g. %(example)s."),
                params={"n": number, "example": field_label},
            )
        pairs.append(parts)
    return pairs


def store_choices() -> list[tuple[str, str]]:
    stores = Site.objects.filter(kind=SiteKind.STORE, is_active=True).order_by("code")
    return [(s.code, f"{s.code} {s.name}") for s in stores]


def _choices(form: forms.Form, name: str) -> forms.ChoiceField:
    return cast(forms.ChoiceField, form.fields[name])


# -- promotions ----------------------------------------------------------------------------
def _param_fields(kind: str) -> dict[str, forms.Field]:
    percent = forms.DecimalField(
        label=_("Percent off (%)"),
        max_digits=7,
        decimal_places=2,
        help_text=_("e.g. 20 for 20 percent off"),
    )
    fields: dict[str, dict[str, forms.Field]] = {
        PromotionKind.PERCENT_OFF: {"percent": percent},
        PromotionKind.AMOUNT_OFF: {
            "amount": forms.DecimalField(
                label=_("Amount off per unit (yuan)"),
                max_digits=12,
                decimal_places=2,
                help_text=_("Weighed goods: per kg."),
            )
        },
        PromotionKind.SPECIAL_PRICE: {
            "price": forms.DecimalField(
                label=_("Special price (yuan)"),
                required=False,
                max_digits=12,
                decimal_places=2,
                help_text=_("One price for every targeted SKU (leave empty to price per SKU)."),
            ),
            "prices": forms.CharField(
                label=_("Price per SKU"),
                required=False,
                widget=forms.Textarea(attrs={"rows": 4, "placeholder": "COLA330, 2.80"}),
                help_text=_("One SKU code and price per line, e.g. 会员价 for members only."),
            ),
        },
        PromotionKind.THRESHOLD: {
            "tiers": forms.CharField(
                label=_("Tiers: spend, save (yuan)"),
                widget=forms.Textarea(attrs={"rows": 3, "placeholder": "100, 20\n200, 50"}),
                help_text=_("One tier per line, ascending: 满100减20, 满200减50."),
            ),
            "repeat": forms.BooleanField(
                label=_("Repeat for every full spend (每满减)"), required=False
            ),
            "max_repeats": forms.IntegerField(
                label=_("At most this many times"), required=False, min_value=1
            ),
        },
        PromotionKind.BUY_X_GET_Y: {
            "buy": forms.IntegerField(label=_("Buy (units)"), min_value=1),
            "get": forms.IntegerField(label=_("Get free (units)"), min_value=1),
            "max_gifts": forms.IntegerField(
                label=_("At most this many gifts"), required=False, min_value=1
            ),
            "gift_sku": forms.CharField(
                label=_("Gift SKU code"),
                max_length=40,
                required=False,
                help_text=_("Empty: the same SKU as the one bought (needs exactly one SKU)."),
            ),
        },
        PromotionKind.NTH_ITEM: {
            "nth": forms.IntegerField(
                label=_("Every N-th unit"), min_value=2, help_text=_("2 = every second unit")
            ),
            "percent": percent,
        },
        PromotionKind.BUNDLE: {
            "components": forms.CharField(
                label=_("Components: SKU code, units"),
                widget=forms.Textarea(attrs={"rows": 3, "placeholder": "BREAD01, 1\nMILK01, 1"}),
            ),
            "price": forms.DecimalField(
                label=_("Bundle price (yuan)"), max_digits=12, decimal_places=2
            ),
        },
        PromotionKind.POINTS_MULTIPLIER: {
            "multiplier": forms.DecimalField(
                label=_("Points multiplier"), max_digits=6, decimal_places=2, help_text="2 = ×2"
            )
        },
    }
    return fields.get(kind, {})


PARAM_NAMES = {
    "percent",
    "amount",
    "price",
    "prices",
    "tiers",
    "repeat",
    "max_repeats",
    "buy",
    "get",
    "max_gifts",
    "nth",
    "components",
    "multiplier",
}


class PromotionForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    target_skus = forms.CharField(
        label=_("SKUs"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("SKU codes separated by spaces, commas or lines."),
    )
    target_categories = forms.MultipleChoiceField(
        label=_("Categories"),
        required=False,
        help_text=_("Sub-categories are included."),
    )
    target_brands = forms.MultipleChoiceField(label=_("Brands"), required=False)
    stores = forms.MultipleChoiceField(
        label=_("Stores"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every store."),
    )
    valid_from = _when(_("Valid from"))
    valid_to = _when(_("Valid until"))
    member_condition = forms.ChoiceField(
        label=_("Who gets it"), choices=MemberCondition.choices, initial=MemberCondition.ANY
    )
    member_tiers = forms.MultipleChoiceField(
        label=_("Member tiers"), required=False, widget=forms.CheckboxSelectMultiple
    )
    priority = forms.IntegerField(
        label=_("Priority"), initial=0, help_text=_("Higher wins a tie between equal savings.")
    )
    stacking = forms.ChoiceField(
        label=_("Stacking"), choices=Stacking.choices, initial=Stacking.COMBINABLE
    )
    return_policy = forms.ChoiceField(
        label=_("On return"), choices=ReturnPolicy.choices, initial=ReturnPolicy.RECOVER
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, kind: str, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields.update(_param_fields(kind))
        if editing:
            del self.fields["code"]
        if kind == PromotionKind.BUNDLE:  # a bundle is its components
            for name in ("target_skus", "target_categories", "target_brands"):
                del self.fields[name]
        else:
            _choices(self, "target_categories").choices = [
                (n.category.code, INDENT * n.depth + f"{n.category.code} {n.category.name}")
                for n in category_tree()
            ]
            _choices(self, "target_brands").choices = [
                (b, b) for b in Brand.objects.order_by("name").values_list("name", flat=True)
            ]
            for name in ("target_categories", "target_brands"):
                self.fields[name].widget.attrs["size"] = 6
        _choices(self, "stores").choices = store_choices()
        _choices(self, "member_tiers").choices = [
            (t.code, t.name) for t in MemberTier.objects.order_by("rank", "code")
        ]
        style(self)

    def param_names(self) -> list[str]:
        return [name for name in self.fields if name in PARAM_NAMES or name == "gift_sku"]

    def clean_tiers(self) -> list[list[str]]:
        return _pairs(self.cleaned_data.get("tiers", ""), "100, 20")

    def clean_components(self) -> list[list[str]]:
        return _pairs(self.cleaned_data.get("components", ""), "SKU01, 1")

    def clean_prices(self) -> dict[str, str]:
        return dict(_pairs(self.cleaned_data.get("prices", ""), "SKU01, 9.90"))

    def promotion_input(self) -> PromotionInput:
        data = self.cleaned_data
        params: dict[str, Any] = {}
        for name in self.param_names():
            value = data.get(name)
            if name == "gift_sku" or value in (None, "", [], {}):
                continue
            params[name] = str(value) if isinstance(value, Decimal) else value
        return PromotionInput(
            name=data["name"],
            kind=self.kind,
            params=params,
            description=data.get("description", ""),
            target_skus=_codes(data.get("target_skus", "")),
            target_categories=data.get("target_categories", []),
            target_brands=data.get("target_brands", []),
            gift_sku=(data.get("gift_sku") or "").strip() or None,
            stores=data.get("stores", []),
            valid_from=data.get("valid_from"),
            valid_to=data.get("valid_to"),
            member_condition=data["member_condition"],
            member_tiers=data.get("member_tiers", []),
            priority=data["priority"],
            stacking=data["stacking"],
            return_policy=data["return_policy"],
            is_active=data["is_active"],
        )

    @staticmethod
    def initial_for(promotion: Promotion) -> dict[str, Any]:
        snap = promotion_snapshot(promotion)
        params = snap.pop("params")
        initial: dict[str, Any] = {
            **snap,
            "valid_from": promotion.valid_from,
            "valid_to": promotion.valid_to,
            "target_skus": " ".join(snap["target_skus"]),
            "gift_sku": snap["gift_sku"] or "",
        }
        for name, value in params.items():
            if name in ("tiers", "components"):
                initial[name] = "\n".join(f"{a}, {b}" for a, b in value)
            elif name == "prices":
                initial[name] = "\n".join(f"{code}, {price}" for code, price in value.items())
            else:
                initial[name] = value
        return initial


class PreviewForm(forms.Form):
    """A basket to try the promotions on: one "scan-or-code [quantity]" per line."""

    store = forms.ChoiceField(label=_("Store"))
    member = forms.CharField(label=_("Member (card or phone)"), required=False, max_length=32)
    lines = forms.CharField(
        label=_("Basket"),
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "COLA330 3\n6901234567892"}),
        help_text=_("One SKU code or barcode per line, optionally followed by a quantity."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "store").choices = store_choices()
        style(self)

    def clean_lines(self) -> list[tuple[str, Decimal]]:
        out = []
        for number, line in enumerate(self.cleaned_data["lines"].splitlines(), start=1):
            parts = _codes(line)
            if not parts:
                continue
            try:
                quantity = Decimal(parts[1]) if len(parts) > 1 else Decimal(1)
            except ArithmeticError:
                raise forms.ValidationError(
                    _("Line %(n)s: the quantity is not a number."), params={"n": number}
                ) from None
            if len(parts) > 2 or not quantity.is_finite() or quantity <= 0:
                raise forms.ValidationError(
                    _("Line %(n)s: write a SKU code or barcode and a quantity."),
                    params={"n": number},
                )
            out.append((parts[0], quantity))
        if not out or len(out) > 50:
            raise forms.ValidationError(_("Give 1 to 50 lines."))
        return out


# -- price lists ---------------------------------------------------------------------------
class PriceListForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=100)
    stores = forms.MultipleChoiceField(
        label=_("Stores"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: the chain-wide list. Ticked: these stores' override."),
    )
    priority = forms.IntegerField(
        label=_("Priority"), initial=0, help_text=_("Among lists for a store, higher wins.")
    )
    valid_from = _when(_("Valid from"))
    valid_to = _when(_("Valid until"))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["code"]
        _choices(self, "stores").choices = store_choices()
        style(self)

    def price_list_input(self) -> PriceListInput:
        data = self.cleaned_data
        return PriceListInput(
            name=data["name"],
            stores=data["stores"],
            priority=data["priority"],
            valid_from=data["valid_from"],
            valid_to=data["valid_to"],
            is_active=data["is_active"],
        )

    @staticmethod
    def initial_for(price_list: PriceList) -> dict[str, Any]:
        return {
            "name": price_list.name,
            "stores": list(price_list.stores.values_list("code", flat=True)),
            "priority": price_list.priority,
            "valid_from": price_list.valid_from,
            "valid_to": price_list.valid_to,
            "is_active": price_list.is_active,
        }


class PriceItemForm(forms.Form):
    sku = forms.CharField(
        label=_("SKU code or scan"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    price = forms.DecimalField(
        label=_("Price (yuan)"), min_value=Decimal(0), max_digits=12, decimal_places=2
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style(self)

    def price_fen(self) -> int:
        return money_to_fen(self.cleaned_data["price"])


class PriceImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV or XLSX file"),
        help_text=_("Columns sku_code, price (yuan); the first row may be the header."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style(self)


# -- stores --------------------------------------------------------------------------------
class SettingsForm(forms.Form):
    short_sale_policy = forms.ChoiceField(
        label=_("When the ledger says an item is out of stock"),
        choices=ShortSalePolicy.choices,
        widget=forms.RadioSelect,
    )
    receipt_header = forms.CharField(label=_("Receipt header"), max_length=200, required=False)
    receipt_footer = forms.CharField(label=_("Receipt footer"), max_length=200, required=False)
    points_per_yuan_redeemed = forms.IntegerField(
        label=_("Points per yuan when paying with points"),
        min_value=1,
        max_value=100_000,
        help_text=_("100 = 100 points pay ¥1."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style(self)

    def settings_input(self) -> SettingsInput:
        return SettingsInput(**self.cleaned_data)

    @staticmethod
    def initial_for(settings: StoreSettings) -> dict[str, Any]:
        return {
            "short_sale_policy": settings.short_sale_policy,
            "receipt_header": settings.receipt_header,
            "receipt_footer": settings.receipt_footer,
            "points_per_yuan_redeemed": settings.points_per_yuan_redeemed,
        }


class TillForm(forms.Form):
    code = forms.CharField(label=_("Till code"), max_length=20)
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["code"]
        else:
            del self.fields["is_active"]
        style(self)


# -- members and gift cards ------------------------------------------------------------------
class TierForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=20)
    name = forms.CharField(label=_("Name"), max_length=50)
    rank = forms.IntegerField(
        label=_("Rank"), min_value=0, max_value=1000, initial=0, help_text=_("0 = the lowest.")
    )
    points_per_yuan = forms.IntegerField(
        label=_("Points earned per yuan"), min_value=0, max_value=1000, initial=1
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["code"]
        style(self)

    def tier_input(self) -> TierInput:
        data = self.cleaned_data
        return TierInput(
            name=data["name"], rank=data["rank"], points_per_yuan=data["points_per_yuan"]
        )


class MemberForm(forms.Form):
    card_number = forms.CharField(
        label=_("Card number"),
        max_length=32,
        required=False,
        help_text=_("Leave empty to number the card automatically."),
    )
    phone = forms.CharField(label=_("Mobile phone"), max_length=20)
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    tier = forms.ChoiceField(label=_("Tier"))
    home_store = forms.ChoiceField(label=_("Home store"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["card_number"]
        else:
            del self.fields["is_active"]
        _choices(self, "tier").choices = [
            (t.code, t.name) for t in MemberTier.objects.order_by("rank", "code")
        ]
        _choices(self, "home_store").choices = [("", "—"), *store_choices()]
        style(self)

    def member_input(self) -> MemberInput:
        data = self.cleaned_data
        return MemberInput(
            phone=data["phone"],
            name=data["name"],
            tier=data["tier"],
            home_store=data.get("home_store") or "",
            is_active=data.get("is_active", True),
        )

    @staticmethod
    def initial_for(member: Member) -> dict[str, Any]:
        return {
            "phone": member.phone,
            "name": member.name,
            "tier": member.tier.code,
            "home_store": member.home_store.code if member.home_store else "",
            "is_active": member.is_active,
        }


class GiftCardForm(forms.Form):
    number = forms.CharField(
        label=_("Card number"),
        max_length=32,
        required=False,
        help_text=_("Leave empty to generate one."),
    )
    amount = forms.DecimalField(
        label=_("Amount (yuan)"), min_value=Decimal("0.01"), max_digits=12, decimal_places=2
    )

    def __init__(self, *args: Any, top_up: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if top_up:
            del self.fields["number"]
        style(self)

    def amount_fen(self) -> int:
        return money_to_fen(self.cleaned_data["amount"])
