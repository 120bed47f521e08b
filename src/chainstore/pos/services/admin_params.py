"""Promotion parameters: the kind-specific numbers of a promotion, checked and normalised.

Stored format (Promotion.params; see pos/engine/types.py Rule for the meaning):
    percent_off        {"percent": "20"}                       0 < percent <= 100
    amount_off         {"amount": "2.00"}                      yuan off per unit (per kg)
    special_price      {"price": "9.90"} and/or {"prices": {"<sku id>": "9.90", ...}}
    threshold          {"tiers": [["100.00", "20.00"], ...], "repeat": false,
                        "max_repeats": null}                   spend, save in yuan, ascending
    buy_x_get_y        {"buy": 10, "get": 3, "max_gifts": null} gift SKU on the model
    nth_item           {"nth": 2, "percent": "50"}
    bundle             {"components": [["<sku id>", 1], ...], "price": "15.90"}
    points_multiplier  {"multiplier": "2"}

Outside the database (API, forms) SKUs in `prices` and `components` are named by SKU code;
`normalise_params` turns codes into ids and `params_for_display` turns them back.
Anything wrong raises ValidationFailed with `details.field` naming the parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

from django.utils.translation import gettext as _

from chainstore.catalog.models import Sku
from chainstore.core.errors import ValidationFailed
from chainstore.core.quantities import fen_to_money, money_to_fen
from chainstore.pos.models import PromotionKind

KEYS: dict[str, frozenset[str]] = {
    PromotionKind.PERCENT_OFF: frozenset({"percent"}),
    PromotionKind.AMOUNT_OFF: frozenset({"amount"}),
    PromotionKind.SPECIAL_PRICE: frozenset({"price", "prices"}),
    PromotionKind.THRESHOLD: frozenset({"tiers", "repeat", "max_repeats"}),
    PromotionKind.BUY_X_GET_Y: frozenset({"buy", "get", "max_gifts"}),
    PromotionKind.NTH_ITEM: frozenset({"nth", "percent"}),
    PromotionKind.BUNDLE: frozenset({"components", "price"}),
    PromotionKind.POINTS_MULTIPLIER: frozenset({"multiplier"}),
}
MAX_MONEY = Decimal("1000000")
MAX_COUNT = 10_000
MAX_ENTRIES = 5_000


def invalid(field: str, message: str, code: str = "invalid_params", **details: Any) -> NoReturn:
    raise ValidationFailed(message, code=code, field=field, **details)


def normalise_params(kind: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check `params` (SKUs by code) for `kind`; return the stored format (SKUs by id)."""
    if kind not in KEYS:
        invalid("kind", _("Unknown promotion kind."), code="invalid_kind", kind=kind)
    if not isinstance(params, Mapping):
        invalid("params", _("The parameters must be an object."))
    params = params or {}
    unknown = sorted(set(params) - KEYS[kind])
    if unknown:
        invalid(
            f"params.{unknown[0]}",
            _("Unknown parameter %(name)s for this kind of promotion.") % {"name": unknown[0]},
            code="unknown_param",
        )
    return _NORMALISERS[kind](params)


def _percent(params: Mapping[str, Any]) -> dict[str, Any]:
    return {"percent": _percentage(params, "percent")}


def _amount(params: Mapping[str, Any]) -> dict[str, Any]:
    return {"amount": _money(params, "amount", positive=True)}


def _special(params: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if params.get("price") not in (None, ""):
        out["price"] = _money(params, "price", positive=False)
    prices = params.get("prices")
    if prices not in (None, {}, []):
        if not isinstance(prices, Mapping) or len(prices) > MAX_ENTRIES:
            invalid("params.prices", _("Prices must map SKU codes to prices."))
        ids = _sku_ids("params.prices", list(prices))
        out["prices"] = {
            str(ids[code]): _money({"price": value}, "price", positive=False, field="params.prices")
            for code, value in prices.items()
        }
    if not out:
        invalid(
            "params.price", _("Give a special price, or a price per SKU."), code="missing_param"
        )
    return out


def _threshold(params: Mapping[str, Any]) -> dict[str, Any]:
    tiers = params.get("tiers")
    if not isinstance(tiers, list | tuple) or not tiers or len(tiers) > 20:
        invalid("params.tiers", _("Give 1 to 20 tiers of spend and saving."), code="missing_param")
    parsed: list[tuple[int, int]] = []
    for tier in tiers:
        if not isinstance(tier, list | tuple) or len(tier) != 2:
            invalid("params.tiers", _("Each tier is a spend and a saving."))
        spend = money_to_fen(_money({"v": tier[0]}, "v", positive=True, field="params.tiers"))
        save = money_to_fen(_money({"v": tier[1]}, "v", positive=True, field="params.tiers"))
        if save > spend:
            invalid("params.tiers", _("A tier cannot save more than its spend."))
        if parsed and (spend <= parsed[-1][0] or save <= parsed[-1][1]):
            invalid(
                "params.tiers",
                _("Tiers must go up: each spends and saves more than the one before."),
            )
        parsed.append((spend, save))
    repeat = _flag(params, "repeat")
    if repeat and len(parsed) != 1:
        invalid("params.repeat", _("Repeating (每满减) takes exactly one tier."))
    max_repeats = _count(params, "max_repeats", minimum=1, required=False)
    if max_repeats is not None and not repeat:
        invalid("params.max_repeats", _("A repeat limit needs repeat on."))
    return {
        "tiers": [[str(fen_to_money(s)), str(fen_to_money(v))] for s, v in parsed],
        "repeat": repeat,
        "max_repeats": max_repeats,
    }


def _buy_get(params: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "buy": _count(params, "buy", minimum=1),
        "get": _count(params, "get", minimum=1),
        "max_gifts": _count(params, "max_gifts", minimum=1, required=False),
    }


def _nth(params: Mapping[str, Any]) -> dict[str, Any]:
    return {"nth": _count(params, "nth", minimum=2), "percent": _percentage(params, "percent")}


def _bundle(params: Mapping[str, Any]) -> dict[str, Any]:
    components = params.get("components")
    if not isinstance(components, list | tuple) or not components or len(components) > 50:
        invalid("params.components", _("List the bundle's SKUs and units."), code="missing_param")
    pairs: list[tuple[str, int]] = []
    for entry in components:
        if not isinstance(entry, list | tuple) or len(entry) != 2:
            invalid("params.components", _("Each component is a SKU code and a number of units."))
        units = _count({"units": entry[1]}, "units", minimum=1, field="params.components")
        pairs.append((str(entry[0]).strip(), units or 0))
    codes = [code for code, _units in pairs]
    if len(set(codes)) != len(codes):
        invalid("params.components", _("Each SKU appears once in a bundle."))
    if sum(units for _code, units in pairs) < 2:
        invalid("params.components", _("A bundle has at least two units."))
    ids = _sku_ids("params.components", codes)
    return {
        "components": [[str(ids[code]), units] for code, units in pairs],
        "price": _money(params, "price", positive=True),
    }


def _multiplier(params: Mapping[str, Any]) -> dict[str, Any]:
    value = _decimal(params, "multiplier", places=2)
    if not Decimal(0) < value <= 100:
        invalid("params.multiplier", _("The multiplier is more than 0 and at most 100."))
    return {"multiplier": _plain(value)}


_NORMALISERS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    PromotionKind.PERCENT_OFF: _percent,
    PromotionKind.AMOUNT_OFF: _amount,
    PromotionKind.SPECIAL_PRICE: _special,
    PromotionKind.THRESHOLD: _threshold,
    PromotionKind.BUY_X_GET_Y: _buy_get,
    PromotionKind.NTH_ITEM: _nth,
    PromotionKind.BUNDLE: _bundle,
    PromotionKind.POINTS_MULTIPLIER: _multiplier,
}


# -- value parsers -----------------------------------------------------------------------
def _decimal(params: Mapping[str, Any], key: str, *, places: int, field: str = "") -> Decimal:
    field = field or f"params.{key}"
    raw = params.get(key)
    if raw is None or raw == "" or isinstance(raw, bool):
        invalid(field, _("This parameter is required."), code="missing_param")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        invalid(field, _("Not a number."))
    if not value.is_finite():
        invalid(field, _("Not a number."))
    if value.adjusted() >= 16:  # quantize would overflow the decimal context
        invalid(field, _("Too large."))
    if value != value.quantize(Decimal(1).scaleb(-places)):
        invalid(field, _("At most %(n)s decimal places.") % {"n": places})
    return value


def _money(params: Mapping[str, Any], key: str, *, positive: bool, field: str = "") -> str:
    field = field or f"params.{key}"
    value = _decimal(params, key, places=2, field=field)
    if value < 0 or (positive and value == 0):
        invalid(field, _("Must be greater than zero.") if positive else _("Cannot be negative."))
    if value > MAX_MONEY:
        invalid(field, _("Too large."))
    return str(fen_to_money(money_to_fen(value)))


def _percentage(params: Mapping[str, Any], key: str) -> str:
    value = _decimal(params, key, places=2)
    if not Decimal(0) < value <= 100:
        invalid(f"params.{key}", _("A percentage is more than 0 and at most 100."))
    return _plain(value)


def _count(
    params: Mapping[str, Any],
    key: str,
    *,
    minimum: int,
    required: bool = True,
    field: str = "",
) -> int | None:
    field = field or f"params.{key}"
    raw = params.get(key)
    if raw is None or raw == "":
        if required:
            invalid(field, _("This parameter is required."), code="missing_param")
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        invalid(field, _("A whole number is required."))
    try:
        value = int(str(raw).strip())
    except ValueError:
        invalid(field, _("A whole number is required."))
    if not minimum <= value <= MAX_COUNT:
        invalid(
            field,
            _("Must be between %(min)s and %(max)s.") % {"min": minimum, "max": MAX_COUNT},
        )
    return value


def _flag(params: Mapping[str, Any], key: str) -> bool:
    raw = params.get(key, False)
    if raw in (None, ""):
        return False
    if not isinstance(raw, bool):
        invalid(f"params.{key}", _("Must be true or false."))
    return bool(raw)


def _plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 50.00 -> "50", 7.50 -> "7.5"."""
    return format(value.normalize(), "f")


def _sku_ids(field: str, codes: list[str]) -> dict[str, int]:
    codes = [str(c).strip() for c in codes]
    found = dict(Sku.objects.filter(code__in=codes).values_list("code", "pk"))
    missing = [c for c in codes if c not in found]
    if missing:
        invalid(
            field,
            _("Unknown SKU code: %(codes)s") % {"codes": ", ".join(missing[:5])},
            code="unknown_sku",
            skus=missing[:20],
        )
    return found


# -- back to the outside format ---------------------------------------------------------
def params_for_display(kind: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Stored params with SKU ids replaced by SKU codes (for the API and the forms)."""
    out = dict(params)
    if kind == PromotionKind.SPECIAL_PRICE and isinstance(params.get("prices"), Mapping):
        codes = _codes(params["prices"].keys())
        out["prices"] = {codes.get(k, k): v for k, v in params["prices"].items()}
    if kind == PromotionKind.BUNDLE and isinstance(params.get("components"), list):
        codes = _codes(str(c[0]) for c in params["components"])
        out["components"] = [[codes.get(str(c[0]), str(c[0])), c[1]] for c in params["components"]]
    return out


def _codes(ids: Any) -> dict[str, str]:
    numeric = [int(i) for i in ids if str(i).isdigit()]
    return {
        str(pk): code for pk, code in Sku.objects.filter(pk__in=numeric).values_list("pk", "code")
    }
