"""Third-party spreadsheets from public test suites, each with its documented outcome.

The files come from the test data of Apache POI, XlsxWriter, calamine and
python-calamine, kept outside the repository; the tests skip when the
folder is absent (see ``conftest.realfiles``).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from panorama_xl.check import Checker
from panorama_xl.normalize import parse_date
from panorama_xl.reader import open_workbook
from panorama_xl.runner import Task, check_many

from .conftest import YEAR

# File name -> codes of the check report, in order.
OUTCOMES = {
    "calamine_date_1904.xlsx": ["template-unknown"],
    "calamine_issue_594_dos.ods": ["file-too-large"],
    "calamine_number_rows_repeated.ods": ["template-unknown"],
    "calamine_pass_protected.ods": ["file-encrypted"],
    "poi_DataValidationListTooLong.xlsx": ["template-unknown"],
    "poi_DataValidations-49244.xlsx": ["template-unknown"],
    "poi_SimpleMacro.xlsm": ["file-macros", "template-unknown"],
    "poi_dataValidationTableRange.xlsx": ["template-unknown"],
    "poi_poc-xmlbomb.xlsx": ["file-unsafe"],
    "poi_protected_passtika.xlsx": ["file-encrypted"],
    "poi_workbookProtection-sheet_password-2013.xlsx": ["template-unknown"],
    "poi_workbookProtection-workbook_password-2013.xlsx": ["template-unknown"],
    "pycalamine_issue139.xlsx": ["template-unknown"],
    "xlsxwriter_hide02.xlsx": ["template-unknown"],
    "xlsxwriter_protect03.xlsx": ["template-unknown"],
}


@pytest.fixture(scope="module")
def reports(realfiles: Path, survey) -> dict[str, object]:
    tasks = [Task(realfiles / name) for name in OUTCOMES if (realfiles / name).exists()]
    started = time.perf_counter()
    found = {
        Path(report.path).name: report
        for report in check_many(tasks, survey, YEAR, workers=2)
    }
    found["_seconds"] = time.perf_counter() - started
    return found


@pytest.mark.parametrize("name", sorted(OUTCOMES))
def test_documented_outcome(reports, name):
    if name not in reports:
        pytest.skip(f"{name} is not in the folder")
    report = reports[name]
    assert [problem.code for problem in report.problems] == OUTCOMES[name]
    assert report.seconds < 5
    for problem in report.problems:
        assert problem.message
        assert "{" not in problem.message


def test_whole_folder_is_quick(reports):
    assert reports["_seconds"] < 30


def test_1904_dates_read_right(realfiles):
    book = open_workbook(realfiles / "calamine_date_1904.xlsx")
    assert book.date1904 is True
    rows = book.values("Sheet1", 10)
    assert parse_date(rows[0][0]).value.isoformat() == "2021-01-01"


def test_out_of_range_date_is_a_problem_not_a_crash(realfiles):
    book = open_workbook(realfiles / "pycalamine_issue139.xlsx")
    value = book.values("bad_xlsx_dates", 10)[1][0]
    assert value == 2994626
    parsed = parse_date(value)
    assert parsed.error == "date-out-of-range"


def test_over_long_literal_list_detected(realfiles):
    book = open_workbook(realfiles / "poi_DataValidationListTooLong.xlsx")
    assert book.sheets[0].long_list_validations == ["A1"]


def test_validations_counted(realfiles):
    book = open_workbook(realfiles / "poi_DataValidations-49244.xlsx")
    assert book.sheets[0].validations == 52
    book = open_workbook(realfiles / "poi_dataValidationTableRange.xlsx")
    assert sum(sheet.validations or 0 for sheet in book.sheets) > 0


@pytest.mark.parametrize(
    ("name", "sheet_protected", "structure_locked"),
    [
        ("poi_workbookProtection-sheet_password-2013.xlsx", True, False),
        ("poi_workbookProtection-workbook_password-2013.xlsx", False, True),
        ("xlsxwriter_protect03.xlsx", True, False),
        ("calamine_date_1904.xlsx", False, False),
    ],
)
def test_protection_variants(realfiles, name, sheet_protected, structure_locked):
    book = open_workbook(realfiles / name)
    assert book.sheets[0].protected is sheet_protected
    # LibreOffice writes an empty <workbookProtection/>: only lockStructure counts.
    assert book.structure_locked is structure_locked


def test_very_hidden_sheet(realfiles):
    book = open_workbook(realfiles / "xlsxwriter_hide02.xlsx")
    assert [sheet.state for sheet in book.sheets] == [
        "visible",
        "veryHidden",
        "visible",
    ]


def test_macros_detected(realfiles):
    book = open_workbook(realfiles / "poi_SimpleMacro.xlsm")
    assert book.macros is True
    assert book.format == "xlsm"


def test_checker_accepts_every_file_without_raising(realfiles, survey):
    checker = Checker(survey, YEAR)
    for path in sorted(realfiles.iterdir()):
        report = checker.check(path)
        assert report.status in ("unreadable", "errors")
