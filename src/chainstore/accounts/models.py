from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from chainstore.core import permissions as perms

ROLE_CHOICES = [
    (perms.ADMIN, _("Administrator")),
    (perms.HQ_PLANNER, _("HQ planner")),
    (perms.WAREHOUSE_MANAGER, _("Warehouse manager")),
    (perms.WAREHOUSE_OPERATOR, _("Warehouse operator")),
    (perms.STORE_MANAGER, _("Store manager")),
    (perms.CASHIER, _("Cashier")),
    (perms.AUDITOR, _("Auditor")),
    (perms.INTEGRATOR, _("Integration (API client)")),
]


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    role = models.CharField(max_length=32, choices=ROLE_CHOICES)
    all_sites = models.BooleanField(default=False)
    sites = models.ManyToManyField("sites.Site", blank=True, related_name="+")

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


class ApiToken(models.Model):
    """A machine credential. Only a SHA-256 digest of the secret is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
