import pytest

from chainstore.catalog.models import Barcode, Category, Sku
from chainstore.core import testing
from chainstore.core.models import AuditEvent
from chainstore.integrations.spreadsheet import write_csv, write_xlsx
from chainstore.inventory.models import Balance, Lot, StockMove, StockOperation
from chainstore.sites.models import Location, Site, Zone

MODELS = (
    Category,
    Sku,
    Barcode,
    Site,
    Zone,
    Location,
    Lot,
    StockOperation,
    StockMove,
    Balance,
    AuditEvent,
)


def snapshot():
    """Row counts of everything an import may touch, to assert that nothing changed."""
    return {m.__name__: m.objects.count() for m in MODELS}


def csv_bytes(headers, rows, *, encoding="utf-8-sig"):
    """A CSV upload: UTF-8 with BOM by default, or plain UTF-8 / GB18030."""
    if encoding == "utf-8-sig":
        return write_csv(headers, rows)
    lines = [",".join(headers)] + [",".join(str(v) for v in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(headers, rows):
    return write_xlsx(headers, rows)


def errors_of(report):
    """(row, column, code) of every error, in report order."""
    return [(e.row, e.column, e.code) for e in report.errors]


@pytest.fixture
def planner(db):
    return testing.make_user("hq_planner")


@pytest.fixture
def cashier(store):
    return testing.make_user("cashier", sites=[store])
