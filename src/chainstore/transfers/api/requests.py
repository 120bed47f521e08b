"""/api/v1/transfers/... (requests, approvals, approval rules, suggestions).

- `POST /transfers` creates a request (draft, or submitted with `"submit": true`);
  `PATCH /transfers/{number}` edits a draft or returned one; `POST .../submit|cancel`.
- `POST /transfers/{number}/approve|reject|return` decides the current approval level
  (`{"comment": "..."}`; a comment is required to reject or return).
- `GET /transfers/approvals/inbox`: the levels waiting for the caller.
- `GET/POST/PUT/DELETE /transfers/approval-rules[/{id}]`: the chains (`transfers.rules`).
- `GET /transfers/suggestions?site=&sku=`: the one-click request from a safety-stock alert.

Quantities are decimal strings in the SKU's base unit, money decimal strings in yuan; errors
are `{code, message, details}`: 403 `not_approver_role` / `approval_out_of_scope` /
`own_request` / `already_decided_level` / `not_requester`, 409 `not_current_step` /
`not_editable` / `not_cancellable`, 422 `comment_required` / `unknown_sku` and friends.
"""

# No `from __future__ import annotations` here: ninja must see the real parameter types.
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

import chainstore.transfers.converters  # noqa: F401  (registers transfer_number)
from chainstore.catalog.errors import SkuNotFound
from chainstore.catalog.models import Sku
from chainstore.catalog.selectors import get_sku
from chainstore.core.errors import ValidationFailed
from chainstore.core.quantities import money_to_fen, qty_to_milli
from chainstore.sites.errors import SiteNotFound
from chainstore.sites.models import Site
from chainstore.transfers import selectors
from chainstore.transfers.models import Transfer
from chainstore.transfers.schemas_requests import (
    CancelIn,
    CommentIn,
    InboxItemOut,
    RuleIn,
    RuleOut,
    SuggestionOut,
    TransferIn,
    TransferLineIn,
    TransferOut,
    TransferPageOut,
    TransferPatchIn,
    rule_out,
    step_out,
    suggestion_out,
    summary_out,
    transfer_out,
)
from chainstore.transfers.services import approvals, requests, rules
from chainstore.transfers.services.rules import LevelInput, RuleInput

router = Router()


# -- parsing -----------------------------------------------------------------------------------
def _site(code: str, field: str) -> Site:
    site = selectors.find_site(code)
    if site is None:
        raise SiteNotFound(site=code, field=field)
    return site


def _lines(lines: list[TransferLineIn]) -> list[tuple[Sku, int]]:
    out = []
    for index, line in enumerate(lines, start=1):
        try:
            sku = get_sku(code=line.sku)
        except SkuNotFound:
            raise ValidationFailed(
                _("Unknown SKU."), code="unknown_sku", line=index, sku=line.sku
            ) from None
        out.append((sku, qty_to_milli(line.quantity)))
    return out


def _transfer(request: HttpRequest, number: str) -> Transfer:
    return selectors.get_transfer(number=number, actor=request.user)


def _detail(transfer: Transfer) -> dict[str, Any]:
    return transfer_out(selectors.transfer_detail(transfer))


def _reload(request: HttpRequest, transfer: Transfer) -> dict[str, Any]:
    return _detail(_transfer(request, transfer.number))


def _target(transfer: Transfer, payload: CommentIn) -> Any:
    """The step the caller saw (`step`), so a decision never lands on a later level that
    became current meanwhile; without it, the transfer's current level."""
    if payload.step is None:
        return transfer
    return selectors.get_step(transfer=transfer, step_id=payload.step)


# -- routes with a fixed first segment come first -------------------------------------------
@router.get("/approvals/inbox", response=list[InboxItemOut])
def approvals_inbox(request: HttpRequest) -> Any:
    """The approval levels the caller may decide now (their role, their scope, not their
    own requests, not a level after one they already decided), oldest first."""
    return [
        {"step": step_out(step), "transfer": summary_out(step.transfer)}
        for step in selectors.inbox(request.user)
    ]


@router.get("/approval-rules", response=list[RuleOut])
def list_rules(request: HttpRequest) -> Any:
    return [rule_out(r) for r in selectors.list_rules(actor=request.user)]


def _rule_input(payload: RuleIn) -> RuleInput:
    return RuleInput(
        name=payload.name,
        priority=payload.priority,
        is_active=payload.is_active,
        min_value_fen=money_to_fen(payload.min_value) if payload.min_value is not None else None,
        min_quantity=(
            qty_to_milli(payload.min_quantity) if payload.min_quantity is not None else None
        ),
        kinds=payload.kinds,
        source_sites=rules.sites_by_code(payload.source_sites),
        destination_sites=rules.sites_by_code(payload.destination_sites),
        categories=rules.categories_by_code(payload.categories),
        levels=[LevelInput(role=lv.role, scope=lv.scope, name=lv.name) for lv in payload.levels],
    )


@router.post("/approval-rules", response={201: RuleOut})
def create_rule(request: HttpRequest, payload: RuleIn) -> Any:
    """A chain: e.g. over 10,000 yuan, the destination's store manager then HQ:
    ```json
    {"name": "超过一万元", "priority": 10, "min_value": "10000",
     "levels": [{"role": "store_manager", "scope": "destination", "name": "区域经理"},
                {"role": "hq_planner", "scope": "chain", "name": "总部"}]}
    ```
    """
    selectors.list_rules(actor=request.user)  # permission before parsing codes
    rule = rules.create_rule(actor=request.user, data=_rule_input(payload))
    return Status(201, rule_out(selectors.get_rule(rule_id=rule.pk, actor=request.user)))


@router.get("/approval-rules/{int:rule_id}", response=RuleOut)
def get_rule(request: HttpRequest, rule_id: int) -> Any:
    return rule_out(selectors.get_rule(rule_id=rule_id, actor=request.user))


@router.put("/approval-rules/{int:rule_id}", response=RuleOut)
def update_rule(request: HttpRequest, rule_id: int, payload: RuleIn) -> Any:
    rule = selectors.get_rule(rule_id=rule_id, actor=request.user)
    rules.update_rule(rule, actor=request.user, data=_rule_input(payload))
    return rule_out(selectors.get_rule(rule_id=rule_id, actor=request.user))


@router.delete("/approval-rules/{int:rule_id}", response={204: None})
def delete_rule(request: HttpRequest, rule_id: int) -> Any:
    rules.delete_rule(selectors.get_rule(rule_id=rule_id, actor=request.user), actor=request.user)
    return Status(204, None)


@router.get("/suggestions", response=SuggestionOut)
def suggestion(request: HttpRequest, site: str, sku: str) -> Any:
    """What to request for a (site, SKU) below safety stock: quantity and source site."""
    return suggestion_out(
        requests.suggest_from_alert(
            site=_site(site, "site"), sku=get_sku(code=sku), actor=request.user
        )
    )


# -- transfers ---------------------------------------------------------------------------------
@router.post("", response={201: TransferOut})
def create_transfer(request: HttpRequest, payload: TransferIn) -> Any:
    """```json
    {"source": "W01", "destination": "S003", "needed_by": "2026-12-01",
     "reason": "周末促销备货", "lines": [{"sku": "SKU00042", "quantity": "24"}],
     "submit": true}
    ```
    """
    transfer = requests.create_transfer(
        source=_site(payload.source, "source"),
        destination=_site(payload.destination, "destination"),
        lines=_lines(payload.lines),
        actor=request.user,
        needed_by=payload.needed_by,
        reason=payload.reason,
        submit=payload.submit,
        kind=payload.kind,
    )
    return Status(201, _reload(request, transfer))


@router.get("", response=TransferPageOut)
def list_transfers(
    request: HttpRequest,
    status: str = "",
    kind: str = "",
    site: str = "",
    search: str = "",
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> Any:
    """Transfers whose source or destination is in the caller's scope, newest first."""
    filters = selectors.TransferFilter(status=status, kind=kind, site=site, search=search)
    qs = selectors.list_transfers(actor=request.user, filters=filters)
    return {
        "items": [summary_out(t) for t in qs[offset : offset + limit]],
        "count": qs.count(),
    }


@router.get("/{transfer_number:number}", response=TransferOut)
def get_transfer(request: HttpRequest, number: str) -> Any:
    return _detail(_transfer(request, number))


@router.patch("/{transfer_number:number}", response=TransferOut)
def update_transfer(request: HttpRequest, number: str, payload: TransferPatchIn) -> Any:
    transfer = _transfer(request, number)
    given = payload.model_fields_set
    changes: dict[str, Any] = {}
    if "needed_by" in given:
        changes["needed_by"] = payload.needed_by
    if payload.reason is not None:
        changes["reason"] = payload.reason
    if payload.lines is not None:
        changes["lines"] = _lines(payload.lines)
    requests.update_transfer(transfer, actor=request.user, **changes)
    return _reload(request, transfer)


@router.post("/{transfer_number:number}/submit", response=TransferOut)
def submit(request: HttpRequest, number: str) -> Any:
    transfer = requests.submit(_transfer(request, number), actor=request.user)
    return _reload(request, transfer)


@router.post("/{transfer_number:number}/cancel", response=TransferOut)
def cancel(request: HttpRequest, number: str, payload: CancelIn) -> Any:
    transfer = _transfer(request, number)
    requests.cancel_transfer(transfer, actor=request.user, reason=payload.reason)
    return _reload(request, transfer)


@router.post("/{transfer_number:number}/approve", response=TransferOut)
def approve(request: HttpRequest, number: str, payload: CommentIn) -> Any:
    transfer = _transfer(request, number)
    approvals.approve(_target(transfer, payload), request.user, payload.comment)
    return _reload(request, transfer)


@router.post("/{transfer_number:number}/reject", response=TransferOut)
def reject(request: HttpRequest, number: str, payload: CommentIn) -> Any:
    transfer = _transfer(request, number)
    approvals.reject(_target(transfer, payload), request.user, payload.comment)
    return _reload(request, transfer)


@router.post("/{transfer_number:number}/return", response=TransferOut)
def return_for_changes(request: HttpRequest, number: str, payload: CommentIn) -> Any:
    transfer = _transfer(request, number)
    approvals.return_for_changes(_target(transfer, payload), request.user, payload.comment)
    return _reload(request, transfer)
