"""URL converter for transfer numbers: only document numbers (TR...) match, so one-segment
paths of other transfer routes (reports, settings, discrepancies) never fall into the
detail route. Registered once, used by the API and the pages."""

from __future__ import annotations

from django.urls import register_converter


class TransferNumber:
    regex = "TR[0-9]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(TransferNumber, "transfer_number")
