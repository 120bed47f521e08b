"""Receipt explanations of applied rules: an English %-template plus its arguments.

The engine has no Django; the caller translates: `gettext(rule.explanation_template) %
dict(rule.explanation_args)`. The templates are marked with `gettext_noop` (a local
identity function of that name, which `makemessages` picks up) so they land in the
catalogue; `AppliedRule.explanation` is the English text already filled in.
"""

from __future__ import annotations

from decimal import Decimal


def gettext_noop(message: str) -> str:
    return message


TEMPLATES: dict[str, str] = {
    "percent_off": gettext_noop("%(name)s: %(percent)s%% off, %(units)s unit(s), save %(amount)s"),
    "amount_off": gettext_noop("%(name)s: %(off)s off, %(units)s unit(s), save %(amount)s"),
    "amount_off_weighed": gettext_noop(
        "%(name)s: %(off)s off per kg, %(units)s line(s), save %(amount)s"
    ),
    "special_price": gettext_noop(
        "%(name)s: special price %(price)s, %(units)s unit(s), save %(amount)s"
    ),
    "special_price_weighed": gettext_noop(
        "%(name)s: special price %(price)s/kg, %(units)s line(s), save %(amount)s"
    ),
    "nth_item": gettext_noop(
        "%(name)s: 1 in every %(nth)s units %(percent)s%% off, "
        "%(units)s unit(s) discounted, save %(amount)s"
    ),
    "buy_x_get_y": gettext_noop(
        "%(name)s: buy %(buy)s get %(get)s free, %(bought)s bought, %(gifts)s free worth %(value)s"
    ),
    "bundle": gettext_noop("%(name)s: %(bundles)s bundle(s) at %(price)s, save %(amount)s"),
    "threshold": gettext_noop("%(name)s: spend %(spend)s ≥ %(tier)s, save %(amount)s"),
    "threshold_repeat": gettext_noop(
        "%(name)s: spend %(spend)s, %(times)s × %(tier)s, save %(amount)s"
    ),
    "points_multiplier": gettext_noop("%(name)s: points ×%(multiplier)s on %(lines)s line(s)"),
}


def number(value: Decimal) -> str:
    """Decimal without trailing zeros or exponent: 20 → '20', 12.50 → '12.5'."""
    text = format(value.normalize(), "f")
    return text


def render(template_key: str, args: dict[str, str]) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """(English text, template, sorted args) for one applied rule."""
    template = TEMPLATES[template_key]
    return template % args, template, tuple(sorted(args.items()))
