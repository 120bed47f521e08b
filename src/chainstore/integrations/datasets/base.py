"""What every dataset shares: parsed rows, the error list, the plan of row actions."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from chainstore.integrations.columns import CellError, Column
from chainstore.integrations.spreadsheet import Sheet, normalise_header

CREATE = "create"
UPDATE = "update"
UNCHANGED = "unchanged"

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    value: str
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "code": self.code,
            "message": self.message,
        }


@dataclass
class Row:
    number: int
    raw: dict[str, str]  # canonical column name -> cell text
    values: dict[str, Any] = field(default_factory=dict)  # parsed; absent when invalid/blank
    ok: bool = True


@dataclass
class Action:
    row: int
    action: str  # create | update | unchanged
    key: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    """The outcome of validation: the errors, and what applying would do row by row."""

    actor: Any
    errors: list[RowError] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    columns_present: set[str] = field(default_factory=set)
    ignored_columns: list[str] = field(default_factory=list)
    digest: str = ""
    filename: str = ""
    progress: Progress | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def error(
        self, row: Row | int, column: str, code: str, message: str, value: Any = None
    ) -> None:
        number = row if isinstance(row, int) else row.number
        if value is None and not isinstance(row, int):
            value = row.raw.get(column, "")
        self.errors.append(
            RowError(row=number, column=column, value=str(value or ""), code=code, message=message)
        )
        if not isinstance(row, int):
            row.ok = False

    def add(self, row: Row, action: str, key: str, **payload: Any) -> None:
        self.actions.append(Action(row=row.number, action=action, key=key, payload=payload))

    def tick(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)


class Dataset:
    """One importable/exportable list. Subclasses fill `columns` and the three hooks."""

    name: str = ""
    label: Any = ""
    permission: str = ""  # the service permission checked up front (site scope per row)
    site_bound: bool = False
    columns: Sequence[Column] = ()

    @property
    def headers(self) -> list[str]:
        return [c.name for c in self.columns]

    def validate(self, rows: list[Row], plan: Plan) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def apply(self, plan: Plan) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def export_rows(self, *, actor: Any, site: Any = None) -> Iterator[list[Any]]:
        raise NotImplementedError  # pragma: no cover - abstract

    # -- shared parsing ------------------------------------------------------------
    def map_headers(self, sheet: Sheet, plan: Plan) -> dict[int, Column]:
        lookup: dict[str, Column] = {}
        for col in self.columns:
            for key in col.header_keys():
                lookup.setdefault(key, col)
        mapping: dict[int, Column] = {}
        seen: dict[str, int] = {}
        for index, header in enumerate(sheet.headers):
            found = lookup.get(normalise_header(header))
            if found is None:
                if header:
                    plan.ignored_columns.append(header)
                continue
            col = found
            if col.name in seen:
                plan.error(
                    1,
                    col.name,
                    "duplicate_column",
                    _("The column appears twice in the header."),
                    value=header,
                )
                continue
            seen[col.name] = index
            mapping[index] = col
        plan.columns_present = set(seen)
        for col in self.columns:
            if col.required and col.name not in seen:
                plan.error(
                    1,
                    col.name,
                    "missing_column",
                    _("The required column %(column)s is missing from the header.")
                    % {"column": col.name},
                    value="",
                )
        return mapping

    def parse_rows(self, sheet: Sheet, plan: Plan) -> list[Row]:
        mapping = self.map_headers(sheet, plan)
        if plan.errors:
            return []
        rows: list[Row] = []
        for number, cells in sheet.rows:
            raw = {col.name: "" for col in self.columns}
            for index, col in mapping.items():
                raw[col.name] = cells[index] if index < len(cells) else ""
            row = Row(number=number, raw=raw)
            for col in self.columns:
                value = raw[col.name]
                if value == "":
                    if col.required:
                        plan.error(row, col.name, "required", _("A value is required."))
                    continue
                try:
                    row.values[col.name] = col.parse(value)
                except CellError as exc:
                    plan.error(row, col.name, exc.code, exc.message)
            rows.append(row)
        return rows

    @staticmethod
    def find_duplicates(
        rows: list[Row], plan: Plan, column: str, key: Callable[[Row], Any]
    ) -> None:
        first: dict[Any, int] = {}
        for row in rows:
            if column not in row.values:
                continue
            k = key(row)
            if k in first:
                plan.error(
                    row,
                    column,
                    "duplicate_in_file",
                    _("Duplicate of row %(row)s.") % {"row": first[k]},
                )
            else:
                first[k] = row.number
