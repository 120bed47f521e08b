import io

import pytest
from django.core.management import call_command

from chainstore.catalog.models import Category
from chainstore.integrations.tests.conftest import csv_bytes, snapshot

pytestmark = pytest.mark.django_db


def cli(*args):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command(*args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_import_dry_run_then_real_run(admin, tmp_path):
    path = tmp_path / "cats.csv"
    path.write_bytes(csv_bytes(["code", "name"], [["C1", "饮料"], ["C2", "零食"]]))
    code, out, _err = cli("import", "categories", str(path), "--dry-run", "--user", admin.username)
    assert code == 0 and "would create" in out and "dry run" in out
    assert Category.objects.count() == 0
    code, out, _err = cli("import", "categories", str(path), "--user", admin.username)
    assert code == 0 and "imported" in out
    assert sorted(Category.objects.values_list("code", flat=True)) == ["C1", "C2"]


def test_import_with_errors_prints_the_table_and_exits_1(admin, tmp_path):
    path = tmp_path / "cats.csv"
    path.write_bytes(csv_bytes(["code", "name", "parent_code"], [["C1", "", "NOPE"]]))
    before = snapshot()
    code, out, _err = cli("import", "categories", str(path), "--user", admin.username)
    assert code == 1
    assert "required" in out and "unknown_category" in out and "nothing was changed" in out
    assert snapshot() == before


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"\x00\x01\x02\x03\xff", "junk.csv", "(not_a_spreadsheet)"),
        (b"PK\x03\x04broken", "junk.xlsx", "(not_a_spreadsheet)"),
        (b"", "empty.csv", "(empty_file)"),
    ],
)
def test_garbage_file_gives_a_message_not_a_traceback(admin, tmp_path, content, name, message):
    path = tmp_path / name
    path.write_bytes(content)
    code, out, err = cli("import", "skus", str(path), "--user", admin.username)
    assert code == 1
    assert message in err and "Traceback" not in out + err


def test_missing_file_and_unknown_user(admin, tmp_path):
    code, _out, err = cli("import", "skus", str(tmp_path / "none.csv"), "--user", admin.username)
    assert code == 1 and "cannot read" in err
    path = tmp_path / "x.csv"
    path.write_bytes(b"code,name\r\n")
    code, _out, err = cli("import", "skus", str(path), "--user", "ghost")
    assert code == 1 and "no user named" in err


def test_export_command_writes_xlsx(admin, store, tmp_path):
    path = tmp_path / "sites.xlsx"
    code, out, _err = cli(
        "export", "sites", str(path), "--site", store.code, "--user", admin.username
    )
    assert code == 0 and "1 row(s)" in out
    assert path.read_bytes().startswith(b"PK")
    code, _out, err = cli("export", "sites", str(path), "--site", "NOPE", "--user", admin.username)
    assert code == 1 and "no site" in err
