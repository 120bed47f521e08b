"""Approval rules (审批规则): configured as data by HQ, never in code.

A rule holds conditions (every condition that is set must hold) and ordered levels (role +
scope). When a transfer is submitted, `matching_rule` picks the active rule with the lowest
priority number (then the oldest) whose conditions all hold, and its levels are copied into
the transfer's approval steps; editing or deleting a rule later never changes a chain in
flight. A level's role must be able to approve at all (hold `transfers.approve`), otherwise
a chain using it could never finish.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from chainstore.catalog.models import Category
from chainstore.catalog.selectors import category_subtree_ids
from chainstore.core import audit
from chainstore.core.errors import ValidationFailed
from chainstore.core.permissions import ROLE_PERMISSIONS, ROLES, ensure_can
from chainstore.sites.models import Site
from chainstore.transfers.models import (
    ApprovalLevel,
    ApprovalRule,
    ApprovalScope,
    Transfer,
    TransferKind,
)


@dataclass(frozen=True)
class LevelInput:
    role: str
    scope: str
    name: str = ""
    seq: int | None = None  # optional: when given, levels must be numbered 1..n


@dataclass(frozen=True)
class RuleInput:
    name: str
    levels: Sequence[LevelInput]
    priority: int = 100
    is_active: bool = True
    min_value_fen: int | None = None
    min_quantity: int | None = None
    kinds: Sequence[str] = ()
    source_sites: Sequence[Site] = ()
    destination_sites: Sequence[Site] = ()
    categories: Sequence[Category] = ()


def sites_by_code(codes: Iterable[str]) -> list[Site]:
    """Sites named by code in a rule's conditions; an unknown code is refused."""
    codes = sorted({c.strip() for c in codes if c.strip()})
    found = list(Site.objects.filter(code__in=codes))
    missing = sorted(set(codes) - {s.code for s in found})
    if missing:
        raise ValidationFailed(_("Unknown site."), code="unknown_site", sites=missing)
    return found


def categories_by_code(codes: Iterable[str]) -> list[Category]:
    codes = sorted({c.strip() for c in codes if c.strip()})
    found = list(Category.objects.filter(code__in=codes))
    missing = sorted(set(codes) - {c.code for c in found})
    if missing:
        raise ValidationFailed(_("Unknown category."), code="unknown_category", categories=missing)
    return found


def approver_roles() -> list[str]:
    """Roles that may stand on a level: those that hold `transfers.approve`."""
    return [r for r in ROLES if {"*", "transfers.approve"} & ROLE_PERMISSIONS.get(r, set())]


def _validate(data: RuleInput) -> list[LevelInput]:
    if not data.name.strip():
        raise ValidationFailed(_("Give the rule a name."), code="rule_name_required", field="name")
    if not data.levels:
        raise ValidationFailed(
            _("A rule needs at least one approval level."), code="rule_levels_required"
        )
    for field, value in (
        ("min_value_fen", data.min_value_fen),
        ("min_quantity", data.min_quantity),
    ):
        if value is not None and value < 0:
            raise ValidationFailed(
                _("Thresholds cannot be negative."), code="negative_threshold", field=field
            )
    bad_kinds = sorted(set(data.kinds) - set(TransferKind.values))
    if bad_kinds:
        raise ValidationFailed(_("Unknown transfer kind."), code="unknown_kind", kinds=bad_kinds)
    levels = list(data.levels)
    if any(level.seq is not None for level in levels):
        levels.sort(key=lambda level: level.seq or 0)
        if [level.seq for level in levels] != list(range(1, len(levels) + 1)):
            raise ValidationFailed(
                _("Levels must be numbered 1, 2, 3... without gaps."), code="levels_not_contiguous"
            )
    allowed = approver_roles()
    for index, level in enumerate(levels, start=1):
        if level.role not in ROLES:
            raise ValidationFailed(
                _("Unknown role."), code="unknown_role", level=index, role=level.role
            )
        if level.role not in allowed:
            raise ValidationFailed(
                _("This role may not approve transfers."),
                code="role_cannot_approve",
                level=index,
                role=level.role,
            )
        if level.scope not in ApprovalScope.values:
            raise ValidationFailed(
                _("Unknown approval scope."), code="unknown_scope", level=index, scope=level.scope
            )
    return levels


def _write(rule: ApprovalRule, data: RuleInput, levels: list[LevelInput]) -> None:
    rule.name = data.name.strip()
    rule.priority = data.priority
    rule.is_active = data.is_active
    rule.min_value_fen = data.min_value_fen
    rule.min_quantity = data.min_quantity
    rule.kinds = sorted(set(data.kinds))
    rule.save()
    rule.source_sites.set(data.source_sites)
    rule.destination_sites.set(data.destination_sites)
    rule.categories.set(data.categories)
    rule.levels.all().delete()
    ApprovalLevel.objects.bulk_create(
        ApprovalLevel(rule=rule, seq=seq, role=level.role, scope=level.scope, name=level.name)
        for seq, level in enumerate(levels, start=1)
    )


def _describe(rule: ApprovalRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "priority": rule.priority,
        "active": rule.is_active,
        "levels": [f"{lv.seq}:{lv.role}@{lv.scope}" for lv in rule.levels.order_by("seq")],
    }


@transaction.atomic
def create_rule(*, actor: Any, data: RuleInput) -> ApprovalRule:
    ensure_can(actor, "transfers.rules")
    levels = _validate(data)
    rule = ApprovalRule()
    _write(rule, data, levels)
    audit.record(
        actor=actor,
        action="approval_rule.create",
        obj=rule,
        to_state="active" if rule.is_active else "inactive",
        data=_describe(rule),
    )
    return rule


@transaction.atomic
def update_rule(rule: ApprovalRule, *, actor: Any, data: RuleInput) -> ApprovalRule:
    """Replace the rule's conditions and levels; chains already copied keep their steps."""
    ensure_can(actor, "transfers.rules")
    levels = _validate(data)
    rule = ApprovalRule.objects.select_for_update().get(pk=rule.pk)
    before = _describe(rule)
    _write(rule, data, levels)
    audit.record(
        actor=actor,
        action="approval_rule.update",
        obj=rule,
        data={"before": before, "after": _describe(rule)},
    )
    return rule


@transaction.atomic
def delete_rule(rule: ApprovalRule, *, actor: Any) -> None:
    ensure_can(actor, "transfers.rules")
    audit.record(
        actor=actor,
        action="approval_rule.delete",
        obj=rule,
        from_state="active" if rule.is_active else "inactive",
        to_state="deleted",
        data=_describe(rule),
    )
    rule.delete()


# -- matching --------------------------------------------------------------------------------
def _line_facts(transfer: Transfer) -> tuple[int, set[int]]:
    """Total quantity (milli) and the set of category ids of the transfer's lines."""
    rows = list(transfer.lines.values_list("quantity", "sku__category_id"))
    return sum(q for q, _c in rows), {c for _q, c in rows if c is not None}


def rule_matches(
    rule: ApprovalRule,
    transfer: Transfer,
    *,
    total_quantity: int,
    category_ids: set[int],
    subtree: Any = None,
) -> bool:
    """Whether every condition set on the rule holds for the transfer (inactive rules too:
    the caller filters by `is_active`). `subtree(category) -> ids` defaults to the catalog's."""
    if rule.min_value_fen is not None and transfer.value_fen < rule.min_value_fen:
        return False
    if rule.min_quantity is not None and total_quantity < rule.min_quantity:
        return False
    if rule.kinds and transfer.kind not in rule.kinds:
        return False
    sources = {s.pk for s in rule.source_sites.all()}
    if sources and transfer.source_id not in sources:
        return False
    destinations = {s.pk for s in rule.destination_sites.all()}
    if destinations and transfer.destination_id not in destinations:
        return False
    categories = list(rule.categories.all())
    if categories:
        subtree = subtree or category_subtree_ids
        covered: set[int] = set()
        for category in categories:
            covered.update(subtree(category))
        if not covered & category_ids:
            return False
    return True


def matching_rule(transfer: Transfer) -> ApprovalRule | None:
    """The active rule the transfer falls under: lowest priority number, then lowest id."""
    total, category_ids = _line_facts(transfer)
    cache: dict[int, list[int]] = {}

    def subtree(category: Category) -> list[int]:
        if category.pk not in cache:
            cache[category.pk] = category_subtree_ids(category)
        return cache[category.pk]

    rules = (
        ApprovalRule.objects.filter(is_active=True)
        .prefetch_related("source_sites", "destination_sites", "categories", "levels")
        .order_by("priority", "id")
    )
    for rule in rules:
        if rule_matches(
            rule, transfer, total_quantity=total, category_ids=category_ids, subtree=subtree
        ):
            return rule
    return None


def levels_of(rule: ApprovalRule) -> Iterable[ApprovalLevel]:
    return sorted(rule.levels.all(), key=lambda level: level.seq)
