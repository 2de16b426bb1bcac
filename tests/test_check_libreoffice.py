"""Returns filled through LibreOffice Calc itself, saved as xlsx, ods and xls, then checked."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from panorama_xl.annotate import annotated_name, write_annotated
from panorama_xl.check import Checker
from panorama_xl.layout import Layout
from panorama_xl.libreoffice import Job, run_jobs

from .conftest import YEAR
from .returns import ROWS, SOCIAL, cells_for, clean_answers

pytestmark = pytest.mark.libreoffice


def planted_answers():
    """A clean return with ten mistakes of different kinds, and where each must be reported."""
    answers = clean_answers(12)
    rows = answers.tables["applications"]
    answers.forms["identity"]["contact_email"] = "camille.martin-at-ladrome.fr"
    rows[1]["domain"] = "Solidarite sante action socile"
    rows[2]["subdomain"] = "RSA et insertion"
    rows[3]["application"] = None
    rows[5] = copy.deepcopy(ROWS[0]) | {
        "application": "Paie",
        "vendor": "Autre (préciser)",
        "product": "Autre (préciser)",
        "product_other": "Paie maison",
    }
    rows[6]["satisfaction"] = 7
    rows[7]["satisfaction"] = "3,5"
    rows[8]["in_service_since"] = "vers 2016"
    rows[9]["satisfaction"] = "=2+2"
    rows[11] = copy.deepcopy(rows[0])
    expected = {
        ("email-invalid", "Identité", "B8"),
        ("value-unknown", "Applications", "A3"),
        ("cascade-mismatch", "Applications", "B4"),
        ("required-missing", "Applications", "C5"),
        ("other-without-detail", "Applications", "E7"),
        ("number-out-of-range", "Applications", "K8"),
        ("number-not-whole", "Applications", "K9"),
        ("year-invalid", "Applications", "M10"),
        ("formula-in-cell", "Applications", "K11"),
        ("duplicate-row", "Applications", "C13"),
    }
    return answers, expected


@pytest.fixture(scope="module")
def filled(
    libreoffice, survey, blank_template: Path, personal_template: Path, tmp_path_factory
) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("returns")
    layout = Layout(survey)
    planted, _ = planted_answers()
    clean = clean_answers(40)
    pasted = clean_answers()
    for row in pasted.tables["applications"].values():
        row["domain"] = "  " + row["domain"].upper() + "\u00a0"
        row["hosting"] = row["hosting"].lower().replace(" ", "  ")
    pasted.tables["applications"][0]["product"] = "astre gf"
    paths = {
        name: folder / name
        for name in (
            "clean.xlsx",
            "clean.ods",
            "clean.xls",
            "planted.xlsx",
            "planted.ods",
            "pasted.xlsx",
            "personal.ods",
            "encrypted.ods",
        )
    }
    personal_cells = [
        cell
        for cell in cells_for(layout, clean_answers())
        if cell[:2] != ("Identité", "B5")
    ]
    jobs = [
        Job(
            blank_template,
            [paths["clean.xlsx"], paths["clean.ods"], paths["clean.xls"]],
            cells=cells_for(layout, clean),
        ),
        Job(
            blank_template,
            [paths["planted.xlsx"], paths["planted.ods"]],
            cells=cells_for(layout, planted),
        ),
        Job(
            blank_template,
            [paths["pasted.xlsx"]],
            cells=cells_for(layout, pasted),
            mode="paste",
        ),
        Job(personal_template, [paths["personal.ods"]], cells=personal_cells),
        Job(
            blank_template,
            [paths["encrypted.ods"]],
            cells=cells_for(layout, clean_answers(2)),
            password="secret",
        ),
    ]
    for result in run_jobs(jobs):
        assert result.error is None
        assert result.refused == []
    return paths


@pytest.fixture(scope="module")
def checker(survey) -> Checker:
    return Checker(survey, YEAR)


@pytest.mark.parametrize("name", ["clean.xlsx", "clean.ods"])
def test_clean_return_through_libreoffice(filled, checker, name):
    report = checker.check(filled[name])
    assert [(problem.code, problem.cell) for problem in report.problems] == []
    assert report.status == "valid"
    assert report.respondent == "D26"
    assert report.row_count() == 40
    first = report.tables["applications"][0]
    assert first.values["product"] == "ASTRE_GF"
    assert first.values["satisfaction"] == 4
    assert report.forms["identity"]["filled_on"].isoformat() == "2027-03-15"


def test_legacy_xls_through_libreoffice(filled, checker):
    report = checker.check(filled["clean.xls"])
    assert report.format == "xls"
    assert [problem.code for problem in report.problems] == ["file-legacy-format"]
    assert report.accepted
    assert report.row_count() == 40


@pytest.mark.parametrize("name", ["planted.xlsx", "planted.ods"])
def test_ten_planted_mistakes_exactly(filled, checker, name):
    _, expected = planted_answers()
    report = checker.check(filled[name])
    found = {(problem.code, problem.sheet, problem.cell) for problem in report.problems}
    assert found == expected
    assert len(report.problems) == 10
    for problem in report.problems:
        assert problem.message
        assert problem.column
    unknown = next(
        problem for problem in report.problems if problem.code == "value-unknown"
    )
    assert "« Solidarités, santé et action sociale »" in unknown.suggestion
    formula = next(
        problem for problem in report.problems if problem.code == "formula-in-cell"
    )
    assert formula.value == "=2+2"


def test_pasted_values_normalised(filled, checker):
    report = checker.check(filled["pasted.xlsx"])
    # Pasted as text, the date is read day first and reported; everything else is normalised.
    assert [(problem.code, problem.cell) for problem in report.problems] == [
        ("date-from-text", "B9")
    ]
    assert report.tables["applications"][1].values["domain"] == "SOC"
    assert report.tables["applications"][0].values["product"] == "ASTRE_GF"


def test_personal_copy_as_ods(filled, checker):
    report = checker.check(filled["personal.ods"])
    assert report.problems == []
    assert report.respondent == "D26"
    assert report.fingerprint.respondent == "D26"


def test_password_saved_by_libreoffice(filled, checker):
    # LibreOffice 7.4 encrypts an ods saved with a password; its xlsx export through the API does not.
    report = checker.check(filled["encrypted.ods"])
    assert [problem.code for problem in report.problems] == ["file-encrypted"]


def test_annotated_copy_reopens_in_libreoffice(filled, checker, writer, tmp_path):
    report = checker.check(filled["planted.ods"])
    annotated = write_annotated(report, writer, tmp_path / annotated_name(report.path))
    (result,) = run_jobs([Job(annotated, [tmp_path / "reopened.xlsx"])])
    assert result.error is None
    again = checker.check(tmp_path / "reopened.xlsx")
    expected = {(problem.code, problem.cell) for problem in report.problems}
    # The formula comes back as its text, which is no longer a formula but still not a number.
    expected = expected - {("formula-in-cell", "K11")} | {("number-invalid", "K11")}
    assert {(problem.code, problem.cell) for problem in again.problems} == expected
    assert (
        again.tables["applications"][1].display["domain"]
        == "Solidarite sante action socile"
    )
    assert again.tables["applications"][0].values["domain"] == "TRA"
    assert report.tables["applications"][2].values["domain"] != SOCIAL
