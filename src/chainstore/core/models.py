"""Shared-kernel tables: the audit trail."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One state change of one document or master record: who, when, from -> to."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    from_state = models.CharField(max_length=32, blank=True, default="")
    to_state = models.CharField(max_length=32, blank=True, default="")
    site_id = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    # Tamper evidence: `chainstore audit seal` chains every event into a SHA-256 hash chain
    # (seal order); `chainstore audit verify` recomputes it. Unsealed events have seq NULL.
    seal_seq = models.BigIntegerField(null=True, blank=True, unique=True)
    chain_hash = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["site_id", "at"], name="audit_site_at_idx"),
        ]
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return (
            f"{self.object_type}:{self.object_id} {self.action} {self.from_state}->{self.to_state}"
        )


class AuditSeal(models.Model):
    """Singleton head of the audit hash chain; its row lock serialises sealing."""

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    sealed_at = models.DateTimeField(null=True, blank=True)
