"""Recording counted quantities; called by services with the count row locked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from chainstore.catalog.models import Sku
from chainstore.core.errors import IdempotencyKeyReused
from chainstore.inventory.models import Lot
from chainstore.sites.models import Location

from . import ledger
from .errors import OutOfCountScope
from .models import CountEntry, CountLine, CountScope, StockCount

Key = ledger.Key


@dataclass(frozen=True)
class EntryInput:
    location: Location
    sku: Sku
    quantity: int
    lot: Lot | None = None
    replace: bool = False
    raw_scan: str = ""
    client_key: str | None = None

    @property
    def key(self) -> Key:
        return (self.location.pk, self.sku.pk, self.lot.pk if self.lot else None)


def record_entries_locked(
    count: StockCount, entries: Sequence[EntryInput], actor: Any
) -> list[CountLine]:
    replayed = _replayed(count, entries)
    fresh: list[EntryInput] = []
    for entry in entries:
        if entry.client_key and entry.client_key in replayed:
            continue
        if entry.client_key:
            replayed[entry.client_key] = -1  # a repeat inside this batch is a replay too
        fresh.append(entry)
    lines = _lines_for(count, fresh)
    if fresh:
        _apply(count, fresh, lines, actor)
    by_id = {ln.pk: ln for ln in lines.values()}
    missing = [i for i in replayed.values() if i > 0 and i not in by_id]
    by_id.update({ln.pk: ln for ln in CountLine.objects.filter(pk__in=missing)})
    return [
        lines[e.key] if e.key in lines else by_id[replayed[e.client_key or ""]] for e in entries
    ]


def _replayed(count: StockCount, entries: Sequence[EntryInput]) -> dict[str, int]:
    keys = [e.client_key for e in entries if e.client_key]
    if not keys:
        return {}
    seen: dict[str, int] = {}
    for key, line_id, count_id in CountEntry.objects.filter(client_key__in=keys).values_list(
        "client_key", "line_id", "line__count_id"
    ):
        if count_id != count.pk:
            raise IdempotencyKeyReused(idempotency_key=key)
        seen[str(key)] = line_id
    return seen


def _check_scope(count: StockCount, entries: Sequence[EntryInput]) -> None:
    location_ids = {e.location.pk for e in entries}
    inside = set(
        ledger.scope_locations(count).filter(pk__in=location_ids).values_list("pk", flat=True)
    )
    outside = sorted(e.location.code for e in entries if e.location.pk not in inside)
    if outside:
        raise OutOfCountScope(
            _("These locations are not part of the count: %(codes)s")
            % {"codes": ", ".join(sorted(set(outside)))},
            locations=sorted(set(outside)),
        )
    if count.scope == CountScope.SKUS:
        sku_ids = {e.sku.pk for e in entries}
        allowed = set(count.skus.filter(pk__in=sku_ids).values_list("pk", flat=True))
        strays = sorted({e.sku.code for e in entries if e.sku.pk not in allowed})
        if strays:
            raise OutOfCountScope(
                _("These SKUs are not part of the count: %(codes)s") % {"codes": ", ".join(strays)},
                skus=strays,
            )


def _lines_for(count: StockCount, entries: Sequence[EntryInput]) -> dict[Key, CountLine]:
    """The lines of the entries' keys; keys outside the snapshot get a found-stock line."""
    if not entries:
        return {}
    wanted = {e.key for e in entries}
    qs = CountLine.objects.filter(count=count)
    if len(wanted) <= ledger.MANY:
        qs = qs.filter(location_id__in={k[0] for k in wanted}, sku_id__in={k[1] for k in wanted})
    lines = {
        (ln.location_id, ln.sku_id, ln.lot_id): ln
        for ln in qs
        if (ln.location_id, ln.sku_id, ln.lot_id) in wanted
    }
    new = {e.key: e for e in entries if e.key not in lines}
    if new:
        _check_scope(count, list(new.values()))
        created = CountLine.objects.bulk_create(
            [
                CountLine(
                    count=count,
                    location_id=key[0],
                    sku_id=key[1],
                    lot_id=key[2],
                    snapshot_qty=0,
                    in_snapshot=False,
                )
                for key in sorted(new, key=lambda k: (k[0], k[1], k[2] or 0))
            ],
            batch_size=2000,
        )
        if any(ln.pk is None for ln in created):  # backends without RETURNING
            return _lines_for(count, entries)
        lines.update({(ln.location_id, ln.sku_id, ln.lot_id): ln for ln in created})
    return lines


def _apply(
    count: StockCount,
    entries: Sequence[EntryInput],
    lines: dict[Key, CountLine],
    actor: Any,
) -> None:
    ledger.lock_scope(count, {e.sku.pk for e in entries})
    mark = ledger.high_water_move_id()
    after = count.snapshot_move_id or 0
    keys = {e.key for e in entries}
    if len(keys) == 1:
        (key,) = keys
        net = {key: ledger.net_moves_for_key(key, after=after, upto=mark)}
    else:
        net = ledger.net_moves(site_id=count.site_id, after=after, upto=mark)
    now = timezone.now()
    counter = actor if getattr(actor, "pk", None) else None
    new_entries: list[CountEntry] = []
    for entry in entries:
        line = lines[entry.key]
        base = 0 if entry.replace or line.counted_qty is None else line.counted_qty
        line.counted_qty = base + entry.quantity
        line.expected_qty = line.snapshot_qty + net.get(entry.key, 0)
        line.count_move_id = mark
        line.counted_at = now
        line.recount = False
        new_entries.append(
            CountEntry(
                line=line,
                counter=counter,
                quantity=entry.quantity,
                replace=entry.replace,
                round=line.round,
                raw_scan=entry.raw_scan[:200],
                client_key=entry.client_key,
            )
        )
    CountEntry.objects.bulk_create(new_entries, batch_size=2000)
    ledger.save_lines(
        {ln.pk: ln for ln in (lines[e.key] for e in entries)}.values(),
        ["counted_qty", "expected_qty", "count_move_id", "counted_at", "recount"],
    )
