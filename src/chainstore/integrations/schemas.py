from __future__ import annotations

from ninja import Schema


class RowErrorOut(Schema):
    row: int
    column: str
    value: str
    code: str
    message: str


class ImportReportOut(Schema):
    dataset: str
    filename: str
    digest: str
    dry_run: bool
    applied: bool
    total_rows: int
    would_create: int
    would_update: int
    unchanged: int
    create_rows: list[int]
    update_rows: list[int]
    unchanged_rows: list[int]
    ignored_columns: list[str]
    errors: list[RowErrorOut]


class DatasetOut(Schema):
    name: str
    label: str
    columns: list[str]
    required: list[str]
