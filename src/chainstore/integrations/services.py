"""Import and export use cases: validate a whole file, then apply it in one transaction."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chainstore.core import audit
from chainstore.core.errors import DomainError, PermissionDenied
from chainstore.core.permissions import ensure_can
from chainstore.integrations.datasets import DATASETS
from chainstore.integrations.datasets.base import (
    CREATE,
    UPDATE,
    Dataset,
    Plan,
    Progress,
    RowError,
)
from chainstore.integrations.errors import BadFile, ImportInvalid, UnknownDataset
from chainstore.integrations.spreadsheet import CONTENT_TYPES, read_sheet, write_file
from chainstore.sites.models import Site

FORMATS = tuple(CONTENT_TYPES)


@dataclass
class ImportReport:
    dataset: str
    filename: str
    digest: str
    dry_run: bool
    applied: bool = False
    total_rows: int = 0
    create_rows: list[int] = field(default_factory=list)
    update_rows: list[int] = field(default_factory=list)
    unchanged_rows: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def would_create(self) -> int:
        return len(self.create_rows)

    @property
    def would_update(self) -> int:
        return len(self.update_rows)

    @property
    def unchanged(self) -> int:
        return len(self.unchanged_rows)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "filename": self.filename,
            "digest": self.digest,
            "dry_run": self.dry_run,
            "applied": self.applied,
            "total_rows": self.total_rows,
            "would_create": self.would_create,
            "would_update": self.would_update,
            "unchanged": self.unchanged,
            "create_rows": self.create_rows,
            "update_rows": self.update_rows,
            "unchanged_rows": self.unchanged_rows,
            "ignored_columns": self.ignored_columns,
            "errors": [e.as_dict() for e in self.errors],
        }


def get_dataset(name: str) -> Dataset:
    dataset = DATASETS.get(name)
    if dataset is None:
        raise UnknownDataset(
            _("Unknown dataset %(name)s; use one of %(names)s.")
            % {"name": name, "names": ", ".join(DATASETS)},
            dataset=name,
        )
    return dataset


def import_file(
    *,
    dataset: str,
    data: bytes,
    filename: str,
    actor: Any,
    dry_run: bool = True,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate every row; unless dry_run, apply all of them in one transaction.

    A dry run never writes. A real run with any error raises ImportInvalid (with the full
    report) and changes nothing; a clean real run returns the report with applied=True.
    """
    ds = get_dataset(dataset)
    ensure_can(actor, "data.import")
    ensure_can(actor, ds.permission)
    sheet = read_sheet(data, filename)
    digest = hashlib.sha256(data).hexdigest()
    plan = Plan(actor=actor, digest=digest, filename=filename, progress=progress)
    rows = ds.parse_rows(sheet, plan)
    if rows:
        ds.validate(rows, plan)
    order = {col.name: i for i, col in enumerate(ds.columns)}
    plan.errors.sort(key=lambda e: (e.row, order.get(e.column, 99)))
    report = _report(ds, plan, total=len(sheet.rows), dry_run=dry_run)
    if report.errors and not dry_run:
        raise ImportInvalid(report)
    if dry_run:
        return report
    try:
        with transaction.atomic():
            ds.apply(plan)
            audit.record(
                actor=actor,
                action="data.import",
                object_type="integrations.import",
                object_id=digest[:16],
                to_state="applied",
                data={
                    "dataset": ds.name,
                    "filename": filename[:200],
                    "rows": report.total_rows,
                    "created": report.would_create,
                    "updated": report.would_update,
                },
            )
    except PermissionDenied:
        raise
    except DomainError as exc:  # a race since validation: report it, nothing was kept
        report.errors = [RowError(row=0, column="", value="", code=exc.code, message=exc.message)]
        raise ImportInvalid(report) from exc
    report.applied = True
    return report


def _report(ds: Dataset, plan: Plan, *, total: int, dry_run: bool) -> ImportReport:
    report = ImportReport(
        dataset=ds.name,
        filename=plan.filename,
        digest=plan.digest,
        dry_run=dry_run,
        total_rows=total,
        errors=list(plan.errors),
        ignored_columns=list(plan.ignored_columns),
    )
    buckets = {CREATE: report.create_rows, UPDATE: report.update_rows}
    for action in plan.actions:
        buckets.get(action.action, report.unchanged_rows).append(action.row)
    for bucket in (report.create_rows, report.update_rows, report.unchanged_rows):
        bucket.sort()
    return report


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    filename: str
    content_type: str
    rows: int


def export_file(
    *, dataset: str, actor: Any, fmt: str = "csv", site: Site | None = None
) -> ExportFile:
    """The dataset as a file in the import columns; site-bound data only for the actor's
    sites (and only `site` when given)."""
    ds = get_dataset(dataset)
    fmt = _format(fmt)
    ensure_can(actor, "data.export", sites=[site.pk] if site else [])
    rows = list(ds.export_rows(actor=actor, site=site))
    stamp = timezone.localdate().strftime("%Y%m%d")
    suffix = f"-{site.code}" if site is not None else ""
    return ExportFile(
        content=write_file(fmt, ds.headers, rows),
        filename=f"{ds.name}{suffix}-{stamp}.{fmt}",
        content_type=CONTENT_TYPES[fmt],
        rows=len(rows),
    )


def template_file(*, dataset: str, fmt: str = "csv") -> ExportFile:
    """A header-only file to fill in."""
    ds = get_dataset(dataset)
    fmt = _format(fmt)
    return ExportFile(
        content=write_file(fmt, ds.headers, []),
        filename=f"{ds.name}-template.{fmt}",
        content_type=CONTENT_TYPES[fmt],
        rows=0,
    )


def _format(fmt: str) -> str:
    fmt = (fmt or "csv").lower().lstrip(".")
    if fmt not in FORMATS:
        raise BadFile(_("The format is csv or xlsx."), code="unsupported_format", format=fmt)
    return fmt
