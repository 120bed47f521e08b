"""API list pages: ninja's limit/offset pagination with both numbers bounded, so an absurd
offset is a 422 instead of a database error."""

from __future__ import annotations

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination as _NinjaLimitOffset

MAX_LIMIT = 1000
MAX_OFFSET = 100_000_000


class LimitOffsetPagination(_NinjaLimitOffset):
    class Input(Schema):
        limit: int = Field(100, ge=1, le=MAX_LIMIT)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)
