"""The returns service's values: inputs, the plan, errors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chainstore.catalog.models import Sku
from chainstore.core.errors import Conflict
from chainstore.core.quantities import fen_to_money, milli_to_qty
from chainstore.pos.models import (
    LineCondition,
    Member,
    Promotion,
    Sale,
    SaleLine,
    Tender,
)
from chainstore.pos.services.pricing import (
    line_tax,
)
from chainstore.sites.models import Site

RETURN_REASON = "return"
TILL_DISCOUNT_RULE = -1  # a till's own discount: item-level, never recovered


class OverReturn(Conflict):
    code = "over_return"
    default_message = gettext_lazy("More than is left to return.")


@dataclass(frozen=True)
class ReturnLineInput:
    """One returned line. With a receipt: `line_no` of the original sale and the quantity
    (base units; default: all that is left of the line). Without: a SKU (code or object)
    or a scan, the quantity (default one unit; weighed goods in kg) and the lot."""

    line_no: int | None = None
    quantity: Decimal | int | str | None = None
    condition: str = LineCondition.SELLABLE
    sku_code: str | None = None
    scan: str | None = None
    lot: str | None = None
    sku: Sku | None = None


@dataclass(frozen=True)
class PlannedLine:
    line_no: int  # on the return receipt
    sku: Sku
    quantity: int
    condition: str
    unit_price_fen: int
    gross_fen: int
    refund_fen: int  # the returned units' share of what was paid
    tax_rate_bp: int
    tax_fen: int
    points: int = 0  # earned on the returned part: reversed
    original: SaleLine | None = None
    lot_number: str | None = None  # unreceipted: the lot handed back
    expiry: dt.date | None = None
    is_gift: bool = False


@dataclass(frozen=True)
class Recovery:
    """A promotion's discount taken back (negative: given back) by this return."""

    promotion: Promotion
    amount_fen: int
    line_nos: tuple[int, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "promotion_id": self.promotion.pk,
            "code": self.promotion.code,
            "name": self.promotion.name,
            "kind": self.promotion.kind,
            "amount_fen": self.amount_fen,
            "gift_value_fen": 0,
            "line_nos": list(self.line_nos),
            "explanation": _recovery_text(self.promotion, self.amount_fen),
            "recovered": True,
        }


@dataclass(frozen=True)
class RefundPart:
    kind: str
    amount_fen: int
    points: int | None = None
    card: str = ""
    reference: str = ""
    original: Tender | None = None


@dataclass(frozen=True)
class ReturnPlan:
    store: Site
    original: Sale | None
    member: Member | None
    lines: tuple[PlannedLine, ...]
    recovered: tuple[Recovery, ...] = ()
    refunds: tuple[RefundPart, ...] = ()
    outstanding: dict[int, int] = field(default_factory=dict)  # promotion -> still owed

    @property
    def subtotal_fen(self) -> int:
        return sum(ln.gross_fen for ln in self.lines)

    @property
    def refund_lines_fen(self) -> int:
        return sum(ln.refund_fen for ln in self.lines)

    @property
    def discount_fen(self) -> int:
        return self.subtotal_fen - self.refund_lines_fen

    @property
    def recovered_fen(self) -> int:
        return sum(r.amount_fen for r in self.recovered)

    @property
    def refund_total_fen(self) -> int:
        return self.refund_lines_fen - self.recovered_fen

    @property
    def points_reversed(self) -> int:
        return sum(ln.points for ln in self.lines)

    @property
    def tax_fen(self) -> int:
        lines = sum(ln.tax_fen for ln in self.lines)
        clawed = sum(line_tax(r.amount_fen, self._rate_of(r)) for r in self.recovered)
        return max(0, min(self.refund_total_fen, lines - clawed))

    def _rate_of(self, recovery: Recovery) -> int:
        """VAT rate of the kept goods a recovery re-prices: the rate of its biggest line."""
        if self.original is None:
            return 0
        used = [ln for ln in self.original.lines.all() if ln.line_no in recovery.line_nos]
        biggest = max(used, key=lambda ln: (ln.net_fen, -ln.line_no), default=None)
        return biggest.tax_rate_bp if biggest is not None else 0


def _recovery_text(promotion: Promotion, amount_fen: int) -> str:
    if amount_fen >= 0:
        return _("%(name)s no longer holds for the goods kept: ¥%(amount)s recovered") % {
            "name": promotion.name,
            "amount": fen_to_money(amount_fen),
        }
    return _("%(name)s: ¥%(amount)s recovered earlier given back") % {
        "name": promotion.name,
        "amount": fen_to_money(-amount_fen),
    }


def over_return(line: SaleLine, requested: int) -> OverReturn:
    returned = SaleLine.objects.values_list("returned_quantity", flat=True).get(pk=line.pk)
    return OverReturn(
        _("Line %(line)s: only %(left)s left to return.")
        % {"line": line.line_no, "left": milli_to_qty(line.quantity - returned)},
        line_no=line.line_no,
        sold=str(milli_to_qty(line.quantity)),
        returned=str(milli_to_qty(returned)),
        requested=str(milli_to_qty(requested)),
    )
