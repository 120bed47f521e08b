"""Approval decisions (审批): approve, reject, return for changes — one level at a time.

Who may act on a step (`refusal` says why not, the same check the inbox uses):
- only the current step: the round's PENDING step of a transfer awaiting approval (a later
  WAITING level is out of turn, an earlier decided one is closed);
- the actor holds `transfers.approve` and exactly the step's role. An admin is no wildcard
  here: an admin acts only on steps whose role is `admin`, so a chain configured as "regional
  manager then HQ" is decided by those people, not by whoever holds the keys;
- the step's scope site is in the actor's scope; a chain-wide step (no site) needs a
  chain-wide actor (an all-sites role or an all-sites profile);
- nobody approves their own request, at any level, and one person decides at most one level
  of a round (two levels mean two people).
The last approval makes the transfer APPROVED and hands it to execution (reservation) in the
same transaction. Every decision writes a TransferEvent and an audit row (from -> to state).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chainstore.core import audit
from chainstore.core.errors import InvalidState, PermissionDenied, ValidationFailed
from chainstore.core.permissions import has_perm, role_of, scope_site_ids
from chainstore.transfers.models import ApprovalStep, StepStatus, Transfer, TransferStatus
from chainstore.transfers.services.events import add_event


def refusal(step: ApprovalStep, actor: Any) -> PermissionDenied | InvalidState | None:
    """Why `actor` may not decide `step` now (None: they may)."""
    transfer = step.transfer
    if transfer.status != TransferStatus.PENDING_APPROVAL or step.status != StepStatus.PENDING:
        return InvalidState(
            _("This approval level is not the one awaiting a decision."),
            code="not_current_step",
            step=step.seq,
            status=step.status,
        )
    if not has_perm(actor, "transfers.approve") or role_of(actor) != step.role:
        return PermissionDenied(
            _("This level must be decided by the role %(role)s.") % {"role": step.role},
            code="not_approver_role",
            role=step.role,
        )
    allowed = scope_site_ids(actor)
    if allowed is not None and (step.scope_site_id is None or step.scope_site_id not in allowed):
        return PermissionDenied(
            _("This approval level is outside your scope."),
            code="approval_out_of_scope",
            site_id=step.scope_site_id,
        )
    if transfer.requested_by_id == actor.pk:
        return PermissionDenied(_("Nobody approves their own request."), code="own_request")
    if ApprovalStep.objects.filter(
        transfer_id=step.transfer_id, round=step.round, decided_by_id=actor.pk
    ).exists():
        return PermissionDenied(
            _("You already decided an earlier level of this request."),
            code="already_decided_level",
        )
    return None


def current_step(transfer: Transfer) -> ApprovalStep | None:
    return (
        ApprovalStep.objects.filter(transfer=transfer, status=StepStatus.PENDING)
        .order_by("-round", "seq")
        .first()
    )


def _lock(target: ApprovalStep | Transfer) -> tuple[Transfer, ApprovalStep]:
    """Lock the transfer (the one row every decision and edit serialises on), then find the
    step to decide: the given one, or the transfer's current one."""
    transfer_id = target.pk if isinstance(target, Transfer) else target.transfer_id
    transfer = Transfer.objects.select_for_update().get(pk=transfer_id)
    if isinstance(target, Transfer):
        step = current_step(transfer)
        if step is None:
            raise InvalidState(
                _("This transfer is not awaiting approval."),
                code="not_pending_approval",
                status=transfer.status,
            )
    else:
        step = ApprovalStep.objects.get(pk=target.pk)
    step.transfer = transfer
    return transfer, step


def _check(step: ApprovalStep, actor: Any) -> None:
    problem = refusal(step, actor)
    if problem is not None:
        raise problem


def _comment(comment: str, *, required: bool) -> str:
    comment = (comment or "").strip()
    if required and not comment:
        raise ValidationFailed(_("Say why in a comment."), code="comment_required", field="comment")
    if len(comment) > 500:
        raise ValidationFailed(
            _("The comment is too long (500 characters at most)."),
            code="comment_too_long",
            field="comment",
        )
    return comment


def _decide(step: ApprovalStep, actor: Any, status: str, comment: str) -> None:
    step.status = status
    step.decided_by = actor
    step.decided_at = timezone.now()
    step.comment = comment
    step.save(update_fields=["status", "decided_by", "decided_at", "comment"])


def _record(
    transfer: Transfer, step: ApprovalStep | None, actor: Any, kind: str, before: str, **data: Any
) -> None:
    if step is not None:
        data.update(round=step.round, level=step.seq, role=step.role, name=step.name)
    add_event(transfer, kind, actor=actor, **data)
    audit.record(
        actor=actor,
        action=f"transfer.{kind}",
        obj=transfer,
        from_state=before,
        to_state=transfer.status,
        site_id=step.scope_site_id if step and step.scope_site_id else transfer.destination_id,
        data={"number": transfer.number, **data},
    )


def _set_status(transfer: Transfer, status: str, **fields: Any) -> str:
    before = transfer.status
    transfer.status = status
    for key, value in fields.items():
        setattr(transfer, key, value)
    transfer.save(update_fields=["status", *fields])
    return before


def finish_approval(transfer: Transfer, actor: Any, *, step: ApprovalStep | None = None) -> None:
    """The transfer is approved (last level decided, or no rule matched at submit): mark it
    and hand it to execution to reserve its stock, in the caller's transaction."""
    before = _set_status(transfer, TransferStatus.APPROVED, approved_at=timezone.now())
    comment = step.comment if step is not None else ""
    _record(
        transfer,
        step,
        actor,
        "approved",
        before,
        comment=comment,
        final=True,
        automatic=step is None,
    )
    _on_approved(transfer, actor)


def _on_approved(transfer: Transfer, actor: Any) -> None:
    """Execution reserves the stock (imported late: execution sits above this module)."""
    from chainstore.transfers.services import execution

    execution.on_approved(transfer, actor)


@transaction.atomic
def approve(target: ApprovalStep | Transfer, actor: Any, comment: str = "") -> ApprovalStep:
    """Approve the current level; the next level becomes pending, or after the last the
    transfer is approved and its stock reserved."""
    transfer, step = _lock(target)
    _check(step, actor)
    _decide(step, actor, StepStatus.APPROVED, _comment(comment, required=False))
    following = (
        ApprovalStep.objects.filter(transfer=transfer, round=step.round, seq__gt=step.seq)
        .order_by("seq")
        .first()
    )
    if following is None:
        finish_approval(transfer, actor, step=step)
        return step
    following.status = StepStatus.PENDING
    following.save(update_fields=["status"])
    _record(
        transfer,
        step,
        actor,
        "approved",
        transfer.status,
        comment=step.comment,
        final=False,
        next_level=following.seq,
    )
    return step


@transaction.atomic
def reject(target: ApprovalStep | Transfer, actor: Any, comment: str) -> ApprovalStep:
    """Reject the request; final (a rejected transfer is never resubmitted)."""
    transfer, step = _lock(target)
    _check(step, actor)
    _decide(step, actor, StepStatus.REJECTED, _comment(comment, required=True))
    before = _set_status(transfer, TransferStatus.REJECTED)
    _record(transfer, step, actor, "rejected", before, comment=step.comment)
    return step


@transaction.atomic
def return_for_changes(target: ApprovalStep | Transfer, actor: Any, comment: str) -> ApprovalStep:
    """Send the request back to its requester, who may edit and submit it again (a new
    round of the chain, from the first level)."""
    transfer, step = _lock(target)
    _check(step, actor)
    _decide(step, actor, StepStatus.RETURNED, _comment(comment, required=True))
    before = _set_status(transfer, TransferStatus.RETURNED)
    _record(transfer, step, actor, "returned", before, comment=step.comment)
    return step
