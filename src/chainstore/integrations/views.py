"""Import/export page: templates, upload with dry run, "Import now", exports. Thin: every
rule lives in services.import_file / export_file."""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
import time
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chainstore.core.errors import DomainError, PermissionDenied
from chainstore.core.permissions import has_perm
from chainstore.integrations import services
from chainstore.integrations.api import MAX_UPLOAD_BYTES, file_response
from chainstore.integrations.datasets import DATASETS
from chainstore.integrations.errors import ImportInvalid
from chainstore.integrations.services import ImportReport
from chainstore.sites.models import Site
from chainstore.sites.selectors import get_site, list_sites
from chainstore.web.errors import describe
from chainstore.web.http import page_view

SESSION_KEY = "integrations_upload"
UPLOAD_DIR = Path(tempfile.gettempdir()) / "chainstore-imports"
STORE_SECONDS = 24 * 3600


def _ensure_page_access(user: Any) -> None:
    if not (has_perm(user, "data.import") or has_perm(user, "data.export")):
        raise PermissionDenied(_("Your role may not import or export data."))


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    user = request.user
    sites = list(list_sites(actor=user)) if has_perm(user, "sites.view") else []
    datasets = [
        {
            "name": ds.name,
            "label": ds.label,
            "site_bound": ds.site_bound,
            "columns": [
                {"name": c.name, "label": c.label, "required": c.required} for c in ds.columns
            ],
        }
        for ds in DATASETS.values()
    ]
    return {
        "datasets": datasets,
        "sites": sites,
        "can_import": has_perm(user, "data.import"),
        "can_export": has_perm(user, "data.export"),
        "selected": request.POST.get("dataset") or request.GET.get("dataset") or "skus",
        "dry_run": True,
        "pending": request.session.get(SESSION_KEY),
        **extra,
    }


def _store(data: bytes) -> str:
    """Keep a checked upload for "Import now", named by its digest; prune day-old ones."""
    digest = hashlib.sha256(data).hexdigest()
    UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - STORE_SECONDS
    for old in UPLOAD_DIR.iterdir():
        with contextlib.suppress(OSError):
            if old.stat().st_mtime < cutoff:
                old.unlink()
    (UPLOAD_DIR / digest).write_bytes(data)
    return digest


def _load(digest: str) -> bytes | None:
    path = UPLOAD_DIR / digest
    if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest) or not path.exists():
        return None
    data = path.read_bytes()
    return data if hashlib.sha256(data).hexdigest() == digest else None


def _render(
    request: HttpRequest, report: ImportReport | None = None, status: int = 200, **kw: Any
) -> HttpResponse:
    return render(
        request, "integrations/index.html", _context(request, report=report, **kw), status=status
    )


@page_view
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    _ensure_page_access(request.user)
    if request.method == "GET":
        return _render(request)
    dataset = request.POST.get("dataset", "")
    upload = request.FILES.get("file")
    dry_run = request.POST.get("dry_run") == "on"
    if upload is None:
        messages.error(request, _("Choose a file to upload."))
        return _render(request, status=400)
    if upload.size and upload.size > MAX_UPLOAD_BYTES:
        messages.error(request, _("The file is too large; split it."))
        return _render(request, status=400)
    data = upload.read()
    return _run(request, dataset=dataset, data=data, filename=upload.name or "", dry_run=dry_run)


@page_view
@require_POST
def apply(request: HttpRequest) -> HttpResponse:
    """ "Import now": re-run the stored upload for real."""
    _ensure_page_access(request.user)
    pending = request.session.get(SESSION_KEY) or {}
    data = _load(str(pending.get("digest", "")))
    if data is None:
        messages.error(request, _("The uploaded file is no longer available; upload it again."))
        request.session.pop(SESSION_KEY, None)
        return redirect("integrations:index")
    return _run(
        request, dataset=pending["dataset"], data=data, filename=pending["filename"], dry_run=False
    )


def _run(
    request: HttpRequest, *, dataset: str, data: bytes, filename: str, dry_run: bool
) -> HttpResponse:
    try:
        report = services.import_file(
            dataset=dataset, data=data, filename=filename, actor=request.user, dry_run=dry_run
        )
    except ImportInvalid as exc:
        request.session.pop(SESSION_KEY, None)
        messages.error(request, _("The file has errors; nothing was imported."))
        return _render(request, exc.report, status=422, dry_run=dry_run)
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, describe(exc))
        return _render(request, status=400)
    if report.applied:
        _forget(request)
        messages.success(
            request,
            _("Imported %(file)s: %(created)s created, %(updated)s updated, %(same)s unchanged.")
            % {
                "file": filename,
                "created": report.would_create,
                "updated": report.would_update,
                "same": report.unchanged,
            },
        )
    elif report.ok:
        request.session[SESSION_KEY] = {
            "digest": _store(data),
            "filename": filename,
            "dataset": dataset,
        }
    else:
        request.session.pop(SESSION_KEY, None)
    return _render(request, report, dry_run=dry_run)


def _forget(request: HttpRequest) -> None:
    pending = request.session.pop(SESSION_KEY, None) or {}
    digest = str(pending.get("digest", ""))
    if _load(digest) is not None:
        (UPLOAD_DIR / digest).unlink(missing_ok=True)


@page_view
@require_GET
def template_download(request: HttpRequest, dataset: str, fmt: str) -> HttpResponse:
    _ensure_page_access(request.user)
    return _download(request, lambda: services.template_file(dataset=dataset, fmt=fmt))


@page_view
@require_GET
def export_download(request: HttpRequest, dataset: str, fmt: str) -> HttpResponse:
    code = request.GET.get("site", "")
    site: Site | None = get_site(code=code, actor=request.user) if code else None
    return _download(
        request,
        lambda: services.export_file(dataset=dataset, actor=request.user, fmt=fmt, site=site),
    )


def _download(request: HttpRequest, make: Any) -> HttpResponse:
    try:
        return file_response(make())
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, describe(exc))
        return redirect("integrations:index")
