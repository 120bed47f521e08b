from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from chainstore.core.errors import NotFound, ValidationFailed


class BadFile(ValidationFailed):
    """The upload is not a readable spreadsheet (encoding, format, header)."""

    code = "bad_file"
    default_message = _("The file could not be read.")


class UnknownDataset(NotFound):
    code = "unknown_dataset"
    default_message = _("Unknown dataset.")


class ImportInvalid(ValidationFailed):
    """A real import was refused because rows have errors; nothing was changed."""

    code = "import_invalid"
    default_message = _("The file has errors; nothing was imported.")

    def __init__(self, report: Any, message: str | None = None) -> None:
        self.report = report
        super().__init__(
            message,
            errors=[e.as_dict() for e in report.errors],
            error_count=len(report.errors),
            total_rows=report.total_rows,
        )
