"""Import/export over HTTP: multipart upload in, report JSON out; files out for export."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Router, UploadedFile

from chainstore.integrations import services
from chainstore.integrations.datasets import DATASETS
from chainstore.integrations.errors import BadFile
from chainstore.integrations.schemas import DatasetOut, ImportReportOut
from chainstore.sites.models import Site
from chainstore.sites.selectors import get_site

router = Router()

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def read_upload(upload: Any) -> bytes:
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise BadFile(
            _("The file is larger than %(mb)s MB; split it.") % {"mb": MAX_UPLOAD_BYTES >> 20},
            code="file_too_large",
        )
    return bytes(upload.read())


def file_response(result: services.ExportFile) -> HttpResponse:
    response = HttpResponse(result.content, content_type=result.content_type)
    response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    return response


@router.get("/datasets", response=list[DatasetOut])
def list_datasets(request: HttpRequest) -> list[DatasetOut]:
    return [
        DatasetOut(
            name=ds.name,
            label=str(ds.label),
            columns=ds.headers,
            required=[c.name for c in ds.columns if c.required],
        )
        for ds in DATASETS.values()
    ]


@router.post("/import/{dataset}", response=ImportReportOut)
def import_dataset(
    request: HttpRequest, dataset: str, file: File[UploadedFile], dry_run: bool = True
) -> dict[str, Any]:
    """Upload a CSV/XLSX file. `dry_run=true` (default) validates and changes nothing; a real
    run with any bad row answers 422 `import_invalid` with the errors in `details.errors`."""
    report = services.import_file(
        dataset=dataset,
        data=read_upload(file),
        filename=file.name or "",
        actor=request.user,
        dry_run=dry_run,
    )
    return report.as_dict()


@router.get("/export/{dataset}")
def export_dataset(
    request: HttpRequest, dataset: str, format: str = "csv", site: str = ""
) -> HttpResponse:
    """The dataset as CSV (UTF-8 with BOM) or XLSX, in the import columns."""
    site_obj: Site | None = get_site(code=site, actor=request.user) if site else None
    return file_response(
        services.export_file(dataset=dataset, actor=request.user, fmt=format, site=site_obj)
    )


@router.get("/template/{dataset}")
def template(request: HttpRequest, dataset: str, format: str = "csv") -> HttpResponse:
    """A header-only file to fill in."""
    return file_response(services.template_file(dataset=dataset, fmt=format))
