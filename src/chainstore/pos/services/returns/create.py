"""The return use cases: preview_return (no side effects) and create_return."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection
from django.db.models import F, Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from chainstore.core import audit
from chainstore.core.errors import ValidationFailed
from chainstore.core.idempotency import fingerprint, run_idempotent
from chainstore.core.permissions import ensure_can
from chainstore.inventory.models import Lot
from chainstore.pos.errors import NoOpenShift, SaleNotFound
from chainstore.pos.models import (
    LineDiscount,
    Sale,
    SaleKind,
    SaleLine,
    Shift,
    ShiftStatus,
    TenderKind,
    Till,
)
from chainstore.pos.services.members import reverse_points
from chainstore.pos.services.returns.plan import plan_return
from chainstore.pos.services.returns.stock import post_stock
from chainstore.pos.services.returns.types import ReturnLineInput, ReturnPlan, over_return
from chainstore.pos.services.sales import insert_sale, store_settings
from chainstore.pos.services.shifts import check_store_till
from chainstore.pos.services.tenders import TenderContext, TenderInput, tender_method
from chainstore.sites.models import Site


# -- use cases -------------------------------------------------------------------------
def preview_return(
    *,
    store: Site,
    lines: Sequence[ReturnLineInput],
    actor: Any,
    till: Till | None = None,
    original: str | Sale | None = None,
    refund: Sequence[TenderInput] | None = None,
) -> ReturnPlan:
    """What `create_return` would refund, recover and reverse; changes nothing."""
    sale = _check(store=store, till=till, actor=actor, original=original)
    return plan_return(store, sale, lines, refund)


def create_return(
    *,
    store: Site,
    till: Till,
    lines: Sequence[ReturnLineInput],
    actor: Any,
    reason: str,
    idempotency_key: str,
    original: str | Sale | None = None,
    refund: Sequence[TenderInput] | None = None,
) -> Sale:
    """Take goods back and refund them (see the module doc). Needs an open shift at the
    till. A replay of the key returns the first return (`replayed=True`)."""
    sale = _check(store=store, till=till, actor=actor, original=original)
    reason = (reason or "").strip()
    if not reason or len(reason) > 200:
        raise ValidationFailed(
            _("Give the reason for the return (at most 200 characters)."), code="invalid_reason"
        )
    if not idempotency_key:
        raise ValidationFailed(
            _("Send an Idempotency-Key with every return."), code="idempotency_key_required"
        )
    request_hash = fingerprint(
        {
            "op": "return",
            "store": store.pk,
            "till": till.pk,
            "original": sale.pk if sale else None,
            "lines": [_line_key(ln) for ln in lines],
            "refund": [[t.kind, t.amount_fen, t.reference, t.points, t.card] for t in refund]
            if refund is not None
            else None,
            "reason": reason,
        }
    )

    def create() -> Sale:
        return _take_back(
            store, till, sale, lines, refund, actor, reason, idempotency_key, request_hash
        )

    return run_idempotent(
        key=idempotency_key,
        request_hash=request_hash,
        find=lambda key: Sale.objects.filter(idempotency_key=key).first(),
        create=create,
    )


def _check(
    *, store: Site, till: Till | None, actor: Any, original: str | Sale | None
) -> Sale | None:
    """Permission, store and till; the original sale (None: an unreceipted return)."""
    if original is None or original == "":
        ensure_can(actor, "pos.return_unreceipted", sites=[store.pk])
    else:
        ensure_can(actor, "pos.return", sites=[store.pk])
    check_store_till(store, till)
    if original is None or original == "":
        return None
    sale = _original(original)
    if sale.kind != SaleKind.SALE:
        raise ValidationFailed(
            _("A return cannot be returned."), code="not_a_sale", number=sale.number
        )
    if sale.site_id != store.pk:
        raise ValidationFailed(
            _("Goods are returned at the store that sold them."),
            code="original_other_store",
            number=sale.number,
        )
    return sale


def _original(original: str | Sale) -> Sale:
    qs = Sale.objects.select_related("member__tier", "site").prefetch_related(
        Prefetch(
            "lines",
            queryset=SaleLine.objects.select_related("sku", "lot")
            .prefetch_related(Prefetch("discounts", queryset=LineDiscount.objects.order_by("id")))
            .order_by("line_no"),
        ),
        "tenders",
    )
    number = original.number if isinstance(original, Sale) else str(original).strip()
    sale = qs.filter(number=number).first()
    if sale is None:
        raise SaleNotFound(number=number)
    return sale


# -- the return transaction ------------------------------------------------------------
def _take_back(
    store: Site,
    till: Till,
    original: Sale | None,
    lines: Sequence[ReturnLineInput],
    refund: Sequence[TenderInput] | None,
    actor: Any,
    reason: str,
    key: str,
    request_hash: str,
) -> Sale:
    shift = _open_shift(till)
    if original is not None:
        # One return of a sale at a time: each settles against the returns before it.
        no_key = connection.features.has_select_for_no_key_update
        locked = Sale.objects.select_for_update(no_key=no_key).filter(pk=original.pk)
        list(locked.values_list("pk", flat=True))
        original = _original(original)
    plan = plan_return(store, original, lines, refund)
    _count_returned(plan)
    ret = insert_sale(
        Sale(
            kind=SaleKind.RETURN,
            site=store,
            till=till,
            shift=shift,
            cashier=actor if getattr(actor, "pk", None) else None,
            member=plan.member,
            original=original,
            reason=reason,
            business_date=shift.business_date,
            sold_at=timezone.now(),
            subtotal_fen=plan.subtotal_fen,
            discount_fen=plan.discount_fen,
            total_fen=plan.refund_total_fen,
            tax_fen=plan.tax_fen,
            recovered_fen=plan.recovered_fen,
            points_earned=plan.points_reversed,
            points_redeemed=sum(p.points or 0 for p in plan.refunds if p.kind == TenderKind.POINTS),
            promotions=[r.as_dict() for r in plan.recovered],
            idempotency_key=key,
            request_hash=request_hash,
        )
    )
    op, lots = post_stock(ret, plan, actor, reason)
    _write_lines(ret, plan, lots)
    reversed_points = _reverse_points(ret, plan, actor)
    _pay_back(ret, plan, actor)
    ret.operation = op
    ret.points_earned = reversed_points
    Sale.objects.filter(pk=ret.pk).update(operation=op, points_earned=reversed_points)
    _audit(ret, plan, actor, reason, reversed_points)
    return ret


def _pay_back(ret: Sale, plan: ReturnPlan, actor: Any) -> None:
    """Pay the refund through each tender's refund method (writes the Tender rows)."""
    settings = store_settings(plan.store)
    ctx = TenderContext(sale=ret, settings=settings, member=plan.member, actor=actor)
    for part in plan.refunds:
        tender_method(part.kind).refund(
            ctx,
            amount_fen=part.amount_fen,
            original=part.original,
            reference=part.reference,
            card=part.card,
            points=part.points,
        )


def _audit(ret: Sale, plan: ReturnPlan, actor: Any, reason: str, reversed_points: int) -> None:
    """Audit the return: who refunded what for which receipt, and why."""
    original, store = plan.original, plan.store
    audit.record(
        actor=actor,
        action="pos.return",
        obj=ret,
        to_state="refunded",
        site_id=store.pk,
        data={
            "number": ret.number,
            "original": original.number if original else None,
            "reason": reason,
            "refund_total_fen": ret.total_fen,
            "recovered_fen": ret.recovered_fen,
            "points_reversed": reversed_points,
            "points_not_reversed": plan.points_reversed - reversed_points,
            "refunds": [[p.kind, p.amount_fen] for p in plan.refunds],
            "lines": [
                [
                    ln.original.line_no if ln.original else None,
                    ln.sku.code,
                    ln.quantity,
                    ln.condition,
                ]
                for ln in plan.lines
            ],
            "operation": ret.operation_id,
        },
    )


def _open_shift(till: Till) -> Shift:
    no_key = connection.features.has_select_for_no_key_update
    shift = (
        Shift.objects.select_for_update(no_key=no_key)
        .filter(till=till, status=ShiftStatus.OPEN)
        .first()
    )
    if shift is None:
        raise NoOpenShift(_("Open a shift at this till before taking returns."), till=till.code)
    return shift


def _count_returned(plan: ReturnPlan) -> None:
    """The guard: one conditional UPDATE per original line; a miss is an over-return."""
    wanted: dict[int, int] = defaultdict(int)
    lines: dict[int, SaleLine] = {}
    for ln in plan.lines:
        if ln.original is not None:
            wanted[ln.original.pk] += ln.quantity
            lines[ln.original.pk] = ln.original
    for pk in sorted(wanted):
        q = wanted[pk]
        updated = SaleLine.objects.filter(pk=pk, returned_quantity__lte=F("quantity") - q).update(
            returned_quantity=F("returned_quantity") + q
        )
        if not updated:
            raise over_return(lines[pk], q)


def _write_lines(ret: Sale, plan: ReturnPlan, lots: Mapping[int, Lot | None]) -> None:
    SaleLine.objects.bulk_create(
        SaleLine(
            sale=ret,
            line_no=ln.line_no,
            sku=ln.sku,
            lot=lots.get(ln.line_no),
            quantity=ln.quantity,
            unit_price_fen=ln.unit_price_fen,
            gross_fen=ln.gross_fen,
            discount_fen=ln.gross_fen - ln.refund_fen,
            net_fen=ln.refund_fen,
            tax_rate_bp=ln.tax_rate_bp,
            tax_fen=ln.tax_fen,
            is_gift=ln.is_gift,
            points_earned=ln.points,
            original_line=ln.original,
            condition=ln.condition,
        )
        for ln in plan.lines
    )


def _reverse_points(ret: Sale, plan: ReturnPlan, actor: Any) -> int:
    """Reverse the points the returned part earned; what the member already spent cannot
    be taken back (clamped, recorded in the audit)."""
    if plan.member is None or plan.points_reversed <= 0:
        return 0
    entry = reverse_points(
        member=plan.member,
        points=plan.points_reversed,
        sale=ret,
        actor=actor,
        note=ret.number,
        clamp=True,
    )
    return -entry.delta if entry is not None else 0


def _line_key(line: ReturnLineInput) -> list[Any]:
    quantity: str | None = None
    if line.quantity is not None:
        try:
            quantity = str(Decimal(str(line.quantity)).normalize())
        except InvalidOperation:
            quantity = str(line.quantity)
    return [
        line.line_no,
        line.sku.pk if line.sku is not None else line.sku_code,
        line.scan,
        line.lot,
        quantity,
        line.condition,
    ]
