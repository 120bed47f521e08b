"""Site, zone and bin forms: input parsing only; the rules live in the services."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from chainstore.catalog.models import Storage
from chainstore.sites.models import LocationKind, SiteKind, Zone
from chainstore.sites.services import BinGrid

PHYSICAL_KINDS = [
    (k.value, k.label)
    for k in (
        LocationKind.STORAGE,
        LocationKind.RECEIVING,
        LocationKind.SELLING,
        LocationKind.DAMAGED,
    )
]


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


def _coordinate(label: Any, limit: int) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        max_digits=9,
        decimal_places=6,
        min_value=Decimal(-limit),
        max_value=Decimal(limit),
    )


def _metres(label: Any, **kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, max_digits=8, decimal_places=2, min_value=Decimal(0), **kwargs
    )


class SiteForm(forms.Form):
    code = forms.CharField(label=_("Site code"), max_length=20)
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=SiteKind.choices)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    city = forms.CharField(label=_("City"), max_length=50, required=False)
    region = forms.CharField(label=_("Region"), max_length=50, required=False)
    latitude = _coordinate(_("Latitude"), 90)
    longitude = _coordinate(_("Longitude"), 180)
    timezone = forms.CharField(label=_("Time zone"), max_length=50, initial="Asia/Shanghai")

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:  # code and kind are the site's identity
            del self.fields["code"], self.fields["kind"]
        _style(self)


class ZoneForm(forms.Form):
    code = forms.CharField(label=_("Zone code"), max_length=20)
    name = forms.CharField(label=_("Name"), max_length=100)
    storage = forms.ChoiceField(label=_("Storage"), choices=Storage.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


class _ZoneChoice(forms.Form):
    zone = forms.TypedChoiceField(label=_("Zone"), coerce=int)

    def __init__(self, *args: Any, zones: list[Zone], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zones = {z.pk: z for z in zones}
        self.zone_choices: list[tuple[Any, str]] = [(z.pk, f"{z.code} {z.name}") for z in zones]
        self._zone_field.choices = self.zone_choices

    @property
    def _zone_field(self) -> forms.TypedChoiceField:
        return cast(forms.TypedChoiceField, self.fields["zone"])

    def chosen_zone(self) -> Zone | None:
        return self.zones.get(self.cleaned_data.get("zone") or 0)


class BinForm(_ZoneChoice):
    code = forms.CharField(label=_("Bin code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=PHYSICAL_KINDS)
    aisle = forms.CharField(label=_("Aisle"), max_length=10, required=False)
    rack = forms.CharField(label=_("Rack"), max_length=10, required=False)
    level = forms.CharField(label=_("Level"), max_length=10, required=False)
    position = forms.CharField(label=_("Position"), max_length=10, required=False)
    x = forms.DecimalField(label=_("x (m)"), max_digits=8, decimal_places=2, required=False)
    y = forms.DecimalField(label=_("y (m)"), max_digits=8, decimal_places=2, required=False)

    field_order = ["code", "name", "zone", "kind"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zone = self._zone_field
        zone.required = False
        zone.empty_value = None
        zone.choices = [("", _("— no zone —")), *self.zone_choices]
        _style(self)


class BinGridForm(_ZoneChoice):
    aisle_from = forms.IntegerField(label=_("Aisles from"), min_value=1, max_value=99, initial=1)
    aisle_to = forms.IntegerField(label=_("to"), min_value=1, max_value=99, initial=5)
    rack_from = forms.IntegerField(label=_("Racks from"), min_value=1, max_value=99, initial=1)
    rack_to = forms.IntegerField(label=_("to"), min_value=1, max_value=99, initial=10)
    level_from = forms.IntegerField(label=_("Levels from"), min_value=1, max_value=9, initial=1)
    level_to = forms.IntegerField(label=_("to"), min_value=1, max_value=9, initial=4)
    aisle_spacing = _metres(_("Aisle spacing (m)"), initial=Decimal("3.00"))
    bin_width = _metres(_("Bin width (m)"), initial=Decimal("1.20"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for start, end in (
            ("aisle_from", "aisle_to"),
            ("rack_from", "rack_to"),
            ("level_from", "level_to"),
        ):
            if data.get(start) and data.get(end) and data[end] < data[start]:
                self.add_error(end, _("The range ends before it starts."))
        return data

    def grid(self) -> BinGrid:
        data = self.cleaned_data
        return BinGrid(
            aisle_from=data["aisle_from"],
            aisle_to=data["aisle_to"],
            rack_from=data["rack_from"],
            rack_to=data["rack_to"],
            level_from=data["level_from"],
            level_to=data["level_to"],
            aisle_spacing=data["aisle_spacing"],
            bin_width=data["bin_width"],
        )


SEPARATORS = re.compile(r"[\s,，;；、]+")
MAX_CROSS_AISLES = 50  # the same limits as the layout API
MAX_AISLES = 500
LIMIT_M = Decimal(1_000_000)  # max_digits=8, decimal_places=2 on the depot and bin x/y


class NumberListField(forms.CharField):
    """Metres separated by commas or spaces ("0, 12.5, 25"; Chinese commas too), as a
    sorted list of Decimals."""

    def __init__(self, *, max_count: int, **kwargs: Any) -> None:
        self.max_count = max_count
        super().__init__(max_length=10_000, **kwargs)

    def to_python(self, value: Any) -> list[Decimal]:  # type: ignore[override]
        text = super().to_python(value) or ""
        numbers = []
        for part in filter(None, SEPARATORS.split(text)):
            try:
                number = Decimal(part)
            except InvalidOperation:
                number = Decimal("NaN")
            if not number.is_finite() or abs(number) >= LIMIT_M:
                raise forms.ValidationError(
                    _("“%(value)s” is not a number of metres (e.g. 0, 12.5, 25)."),
                    params={"value": part},
                    code="invalid",
                )
            numbers.append(Decimal(metres_text(number)))  # centimetres, no trailing zeros
        if len(numbers) > self.max_count:
            raise forms.ValidationError(
                _("At most %(count)d values."), params={"count": self.max_count}, code="max"
            )
        if len(set(numbers)) != len(numbers):
            raise forms.ValidationError(_("Each value may appear only once."), code="duplicate")
        return sorted(numbers)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return ", ".join(metres_text(v) for v in value)
        return value


def metres_text(value: Any) -> str:
    """Metres for a form field: 12.50 -> "12.5", 3 -> "3" (no locale formatting)."""
    text = f"{Decimal(str(value)).quantize(Decimal('0.01')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class LayoutForm(forms.Form):
    """The walking layout for pick routes; the service has the final word on the rules."""

    cross_aisles = NumberListField(
        label=_("Cross-aisles, y (m)"),
        max_count=MAX_CROSS_AISLES,
        help_text=_(
            "The y of each cross-aisle, front to back, e.g. 0, 12, 24: at least two "
            "(the front and the back)."
        ),
    )
    aisles = NumberListField(
        label=_("Aisles, x (m)"),
        max_count=MAX_AISLES,
        required=False,
        help_text=_("The x of each aisle centre line. Leave empty for an aisle at each bin x."),
    )
    depot_x = forms.DecimalField(label=_("Depot x (m)"), max_digits=8, decimal_places=2)
    depot_y = forms.DecimalField(label=_("Depot y (m)"), max_digits=8, decimal_places=2)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)

    def clean(self) -> dict[str, Any]:
        """The rules of sites.services.set_layout, as messages on the right fields."""
        data = super().clean() or {}
        cross = data.get("cross_aisles")
        if cross is not None and len(cross) < 2:
            self.add_error(
                "cross_aisles", _("Give at least two cross-aisles: the front and the back.")
            )
        elif (
            cross
            and data.get("depot_y") is not None
            and not cross[0] <= data["depot_y"] <= cross[-1]
        ):
            self.add_error(
                "depot_y",
                _("The depot must lie between the front (%(front)s) and back (%(back)s).")
                % {"front": metres_text(cross[0]), "back": metres_text(cross[-1])},
            )
        return data
