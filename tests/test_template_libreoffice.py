"""The questionnaire through LibreOffice Calc itself: round trips, fills and validity marks."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest
from lxml import etree
from python_calamine import CalamineWorkbook

from panorama_xl.libreoffice import Job, run_jobs
from panorama_xl.package import legacy_password_hash

pytestmark = pytest.mark.libreoffice

DOMAIN_CULTURE = "Culture, vie sociale, jeunesse, sports et loisirs"
DOMAIN_SOCIAL = "Solidarités, santé et action sociale"

# Cells typed into the blank copy, and whether LibreOffice should mark each invalid.
PLANTED = [
    ("Identité", "B5", "26 – Drôme", False),
    ("Identité", "B8", "pas une adresse", True),
    ("Applications", "A2", DOMAIN_SOCIAL, False),
    ("Applications", "B2", "RSA et insertion", False),
    ("Applications", "C2", "Logiciel RSA", False),
    ("Applications", "D2", "Inetum Software", False),
    ("Applications", "F2", "Astre GF", False),
    ("Applications", "J2", "Sur site (salle du Département)", False),
    ("Applications", "K2", "4", False),
    ("Applications", "A3", DOMAIN_CULTURE, False),
    ("Applications", "B3", "RSA et insertion", True),
    ("Applications", "F3", "IODAS", True),
    ("Applications", "K3", "7", True),
    ("Applications", "A4", DOMAIN_SOCIAL, False),
    ("Applications", "F4", "IODAS", False),
    ("Applications", "D5", "Autre (préciser)", False),
    ("Applications", "F5", "Autre (préciser)", False),
    ("Applications", "F6", "Astre GF", False),
    ("Applications", "L6", "Bientôt", True),
    ("Applications", "M6", "1950", True),
]


@pytest.fixture(scope="module")
def lo_files(
    libreoffice, blank_template: Path, personal_template: Path, tmp_path_factory
) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("libreoffice")
    files = {
        "lo_xlsx": folder / "blank.lo.xlsx",
        "ods": folder / "blank.ods",
        "ods_xlsx": folder / "blank.ods.xlsx",
        "filled_xlsx": folder / "filled.xlsx",
        "filled_ods": folder / "filled.ods",
        "personal_xlsx": folder / "personal.lo.xlsx",
    }
    jobs = [
        Job(blank_template, [files["lo_xlsx"], files["ods"]]),
        Job(files["ods"], [files["ods_xlsx"]]),
        Job(
            blank_template,
            [files["filled_xlsx"], files["filled_ods"]],
            cells=[(s, c, v) for s, c, v, _ in PLANTED],
            check_validity="panorama",
        ),
        Job(
            personal_template,
            [files["personal_xlsx"]],
            cells=[
                ("Identité", "B5", "07 – Ardèche"),
                ("Identité", "B6", "Camille Martin"),
                ("Applications", "A1", "Titre"),
                ("Listes", "A2", "x"),
            ],
        ),
    ]
    results = run_jobs(jobs)
    for result in results:
        assert result.error is None, result.error
    return {"paths": files, "results": results}


def validation_formulas(
    path: Path,
) -> dict[tuple[str, str], tuple[str, str | None, str | None]]:
    book = openpyxl.load_workbook(path)
    found = {}
    for sheet in book.worksheets:
        for dv in sheet.data_validations.dataValidation:
            for area in str(dv.sqref).split():
                found[(sheet.title, area)] = (dv.type, dv.formula1, dv.formula2)
    return found


@pytest.mark.parametrize("variant", ["lo_xlsx", "ods_xlsx"])
def test_validations_survive_round_trip(lo_files, blank_template, variant):
    original = validation_formulas(blank_template)
    after = validation_formulas(lo_files["paths"][variant])
    assert set(after) == set(original)
    for key, (kind, formula1, _) in original.items():
        assert after[key][0] == kind, key
        assert after[key][1].replace(" ", "") == formula1.replace(" ", ""), key


@pytest.mark.parametrize("variant", ["lo_xlsx", "ods_xlsx"])
def test_defined_names_survive_round_trip(lo_files, blank_template, variant):
    names = set(openpyxl.load_workbook(blank_template).defined_names)
    after = openpyxl.load_workbook(lo_files["paths"][variant])
    assert names <= set(after.defined_names)
    assert list(after.defined_names["lst_domain"].destinations)[0][0] == "Listes"


def test_protection_survives_xlsx_round_trip(lo_files, survey):
    book = openpyxl.load_workbook(lo_files["paths"]["lo_xlsx"])
    expected = legacy_password_hash(survey.definition.password)
    for name in (
        "Accueil",
        "Identité",
        "Choix communs",
        "Applications",
        "Listes",
        "Empreinte",
    ):
        assert book[name].protection.sheet, name
        assert book[name].protection.password.upper() == expected, name
    assert book["Applications"]["A2"].protection.locked is False
    assert book["Applications"]["N501"].protection.locked is False
    assert book["Applications"]["A1"].protection.locked is True
    assert book["Listes"].sheet_state == "hidden"
    assert book["Empreinte"].sheet_state == "hidden"


def test_protection_survives_ods_round_trip(lo_files):
    # LibreOffice keeps the sheets protected through ods but drops the password.
    book = openpyxl.load_workbook(lo_files["paths"]["ods_xlsx"])
    for name in ("Applications", "Listes"):
        assert book[name].protection.sheet, name
    assert book["Applications"]["B300"].protection.locked is False
    with zipfile.ZipFile(lo_files["paths"]["ods"]) as package:
        content = etree.fromstring(package.read("content.xml"))
    namespace = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
    tables = content.iter(f"{{{namespace}}}table")
    assert all(table.get(f"{{{namespace}}}protected") == "true" for table in tables)


@pytest.mark.parametrize("variant", ["lo_xlsx", "ods_xlsx"])
def test_fingerprint_survives_in_xlsx(lo_files, survey, variant):
    book = openpyxl.load_workbook(lo_files["paths"][variant])
    properties = {prop.name: prop.value for prop in book.custom_doc_props.props}
    assert properties["panorama_survey"] == survey.id
    assert properties["panorama_year"] == "2027"
    assert properties["panorama_digest"] == survey.digest
    rows = {
        row[0]: row[2]
        for row in book["Empreinte"].iter_rows(min_row=2, values_only=True)
    }
    assert rows["digest"] == survey.digest
    assert str(rows["year"]) == "2027"


def test_fingerprint_survives_in_ods(lo_files, survey):
    with zipfile.ZipFile(lo_files["paths"]["ods"]) as package:
        meta = etree.fromstring(package.read("meta.xml"))
    namespace = "urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
    found = {
        item.get(f"{{{namespace}}}name"): item.text
        for item in meta.iter(f"{{{namespace}}}user-defined")
    }
    assert found["panorama_survey"] == survey.id
    assert found["panorama_digest"] == survey.digest
    sheet = (
        CalamineWorkbook.from_path(str(lo_files["paths"]["ods"]))
        .get_sheet_by_name("Empreinte")
        .to_python()
    )
    assert [row[2] for row in sheet if row[0] == "survey"] == [survey.id]


def test_libreoffice_marks_exactly_the_planted_mistakes(lo_files):
    fill = lo_files["results"][2]
    assert fill.refused == []
    marked = {(sheet, cell) for sheet, cell, _ in fill.invalid}
    expected = {(sheet, cell) for sheet, cell, _, invalid in PLANTED if invalid}
    assert marked == expected


@pytest.mark.parametrize("variant", ["filled_xlsx", "filled_ods"])
def test_filled_values_read_back(lo_files, variant):
    book = CalamineWorkbook.from_path(str(lo_files["paths"][variant]))
    rows = book.get_sheet_by_name("Applications").to_python()
    assert rows[1][:4] == [
        DOMAIN_SOCIAL,
        "RSA et insertion",
        "Logiciel RSA",
        "Inetum Software",
    ]
    assert rows[1][10] == 4
    identity = book.get_sheet_by_name("Identité").to_python()
    assert identity[4][1] == "26 – Drôme"
    # LibreOffice recalculated the status of the edited rows.
    assert rows[1][14] == "OK"
    assert rows[2][14] == "À corriger"
    assert rows[3][14] == "À corriger"
    # Untouched rows have an empty status; calamine drops trailing empty rows of an ods.
    assert all(row[14] == "" for row in rows[7:])


def test_locked_cells_refused(lo_files):
    result = lo_files["results"][3]
    assert sorted(result.refused) == [("Applications", "A1"), ("Identité", "B5")]
    assert result.unreachable == [("Listes", "A2")]
    identity = (
        CalamineWorkbook.from_path(str(lo_files["paths"]["personal_xlsx"]))
        .get_sheet_by_name("Identité")
        .to_python()
    )
    assert identity[4][1] == "26 – Drôme"
    assert identity[5][1] == "Camille Martin"
