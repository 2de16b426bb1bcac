"""Checking returned workbooks written in Python, including the structural changes
departments make and the values they type instead of picking them."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from panorama_xl.annotate import annotated_name, write_annotated
from panorama_xl.check import Checker
from panorama_xl.cli import main
from panorama_xl.problems import CATALOGUE
from panorama_xl.report import _wrap, summary_line
from panorama_xl.template import QuestionnaireWriter

from .conftest import YEAR
from .returns import SOCIAL, SUPPORT, clean_answers


@pytest.fixture(scope="module")
def checker(survey) -> Checker:
    return Checker(survey, YEAR)


def write_return(
    writer: QuestionnaireWriter, path: Path, answers=None, respondent=None
) -> Path:
    return writer.write(path, respondent=respondent, answers=answers or clean_answers())


def found(report) -> set[tuple[str, str, str]]:
    return {(problem.code, problem.sheet, problem.cell) for problem in report.problems}


def test_clean_return_is_valid(writer, checker, tmp_path):
    report = checker.check(write_return(writer, tmp_path / "clean.xlsx"))
    assert report.problems == []
    assert report.status == "valid"
    assert report.respondent == "D26"
    assert report.format == "xlsx"
    assert report.row_count() == 5


def test_clean_return_canonical_values(writer, checker, tmp_path):
    report = checker.check(write_return(writer, tmp_path / "clean.xlsx"))
    first, second = report.tables["applications"][:2]
    assert first.values["domain"] == "TRA"
    assert first.values["product"] == "ASTRE_GF"
    assert first.values["satisfaction"] == 4
    assert first.values["in_service_since"] == 2004
    assert first.source_row == 2
    assert second.values["vendor"] == "AUTRE"
    assert second.values["vendor_other"] == "Éditeur régional"
    assert report.forms["identity"]["filled_on"] == dt.date(2027, 3, 15)
    assert report.forms["choices"]["sovereign_cloud"] is False


@pytest.mark.parametrize(
    ("row", "change", "expected"),
    [
        (0, {"domain": "Solidarite sante action socile"}, ("value-unknown", "A2")),
        (0, {"subdomain": "RSA et insertion"}, ("cascade-mismatch", "B2")),
        (0, {"application": None}, ("required-missing", "C2")),
        (0, {"vendor": "Berger-Levrault"}, ("cascade-mismatch", "F2")),
        (
            0,
            {"vendor": "Autre (préciser)", "vendor_other": "Inetum"},
            ("cascade-mismatch", "F2"),
        ),
        (0, {"product": "Autre (préciser)"}, ("other-without-detail", "G2")),
        (0, {"product_other": "Oubli"}, ("detail-without-other", "G2")),
        (0, {"satisfaction": 7}, ("number-out-of-range", "K2")),
        (0, {"satisfaction": 3.5}, ("number-not-whole", "K2")),
        (0, {"satisfaction": "bien"}, ("number-invalid", "K2")),
        (0, {"in_service_since": "vers 2000"}, ("year-invalid", "M2")),
        (0, {"in_service_since": 45731}, ("number-out-of-range", "M2")),
        (0, {"in_service_since": "02/05/2019"}, ("year-from-date", "M2")),
        (0, {"comments": "x" * 1001}, ("text-too-long", "N2")),
        (
            0,
            {"comments": '=HYPERLINK("http://example.invalid")'},
            ("formula-like-text", "N2"),
        ),
        (0, {"renewal": "Bientôt"}, ("value-unknown", "L2")),
        (3, {"subdomain": "Sports"}, ("cascade-mismatch", "B5")),
        (
            4,
            {"domain": SOCIAL, "subdomain": "RSA et insertion"},
            ("cascade-unusual", "F6"),
        ),
    ],
)
def test_single_planted_mistake(writer, checker, tmp_path, row, change, expected):
    answers = clean_answers()
    answers.tables["applications"][row].update(change)
    report = checker.check(write_return(writer, tmp_path / "return.xlsx", answers))
    assert [(problem.code, problem.cell) for problem in report.problems] == [expected]
    problem = report.problems[0]
    assert problem.sheet == "Applications"
    assert problem.severity == CATALOGUE[problem.code].severity
    assert problem.message


def test_unknown_value_suggests_closest(writer, checker, tmp_path):
    answers = clean_answers()
    answers.tables["applications"][0]["domain"] = "Solidarite sante action socile"
    (problem,) = checker.check(
        write_return(writer, tmp_path / "return.xlsx", answers)
    ).problems
    assert problem.value == "Solidarite sante action socile"
    assert problem.column == "Domaine"
    assert (
        "Vouliez-vous dire « Solidarités, santé et action sociale » ?"
        in problem.suggestion
    )
    assert (
        problem.expected
        == "Une valeur parmi : "
        + " ; ".join(
            [
                "Solidarités, santé et action sociale",
                "Enseignement, formation, apprentissage",
                "Culture, vie sociale, jeunesse, sports et loisirs",
                "Sécurité",
                "Aménagement des territoires et habitat",
                "Action économique",
                "Environnement",
                "Transports et routes",
                "Services généraux (métier)",
                "Fonctions support et SI transverses",
            ]
        )
        + "."
    )


def test_vendor_mismatch_names_the_right_vendor(writer, checker, tmp_path):
    answers = clean_answers()
    answers.tables["applications"][0]["vendor"] = "Berger-Levrault"
    (problem,) = checker.check(
        write_return(writer, tmp_path / "return.xlsx", answers)
    ).problems
    assert (
        problem.message
        == "« Astre GF » ne correspond pas à « Berger-Levrault » (Éditeur)."
    )
    assert problem.suggestion.startswith(
        "« Astre GF » relève de « Inetum Software » : corrigez « Éditeur »"
    )
    assert "e.sedit GF" in problem.suggestion


@pytest.mark.parametrize(
    ("field", "typed", "canonical"),
    [
        ("domain", "  fonctions SUPPORT et si  transverses ", "TRA"),
        ("domain", "Fonctions\u00a0support et SI transverses", "TRA"),
        ("product", "astre-gf", "ASTRE_GF"),
        ("product", "Astre", "ASTRE_GF"),
        ("hosting", "SaaS", "SAAS"),
        ("satisfaction", "4", 4),
        ("satisfaction", "4/5", 4),
        ("satisfaction", "4,0", 4),
        ("satisfaction", 4.0, 4),
        ("satisfaction", "Satisfait", 4),
        ("in_service_since", "2004", 2004),
        ("renewal", "1-3 ans", "DE_1_A_3_ANS"),
    ],
)
def test_typed_values_normalised(writer, checker, tmp_path, field, typed, canonical):
    answers = clean_answers()
    answers.tables["applications"][0][field] = typed
    report = checker.check(write_return(writer, tmp_path / "return.xlsx", answers))
    assert report.problems == []
    assert report.tables["applications"][0].values[field] == canonical


@pytest.mark.parametrize(
    ("typed", "code", "value"),
    [
        ("15/03/2027", "date-from-text", dt.date(2027, 3, 15)),
        ("2027-03-15", "date-from-text", dt.date(2027, 3, 15)),
    ],
)
def test_dates_in_other_forms(writer, checker, tmp_path, typed, code, value):
    answers = clean_answers()
    answers.forms["identity"]["filled_on"] = typed
    report = checker.check(write_return(writer, tmp_path / "return.xlsx", answers))
    assert [(problem.code, problem.cell) for problem in report.problems] == [
        (code, "B9")
    ]
    assert report.problems[0].severity == "warning"
    assert report.forms["identity"]["filled_on"] == value


def test_date_serial_without_date_format(writer, checker, tmp_path):
    path = write_return(writer, tmp_path / "return.xlsx")

    def serial(book):
        cell = book["Identité"]["B9"]
        cell.value = 46461
        cell.number_format = "General"

    edit_with_openpyxl(path, serial)
    report = checker.check(path)
    assert [(problem.code, problem.cell) for problem in report.problems] == [
        ("date-from-number", "B9")
    ]
    assert (
        report.problems[0].message
        == "Le nombre 46461 a été lu comme la date du 15/03/2027."
    )
    assert report.forms["identity"]["filled_on"] == dt.date(2027, 3, 15)


def test_date_serial_in_year_column(writer, checker, tmp_path):
    answers = clean_answers()
    answers.tables["applications"][0]["in_service_since"] = dt.date(2019, 5, 2)
    (problem,) = checker.check(
        write_return(writer, tmp_path / "return.xlsx", answers)
    ).problems
    # The year column's number format shows the serial, so the hint names the date's year.
    assert (problem.code, problem.cell, problem.value) == (
        "number-out-of-range",
        "M2",
        "43587",
    )
    assert problem.expected.endswith(
        "Le nombre 43587 correspond à une date de 2019 : saisissez l'année seule."
    )


def test_identity_problems(writer, checker, tmp_path):
    answers = clean_answers()
    answers.forms["identity"].update(
        contact_email="camille.martin(at)ladrome.fr",
        contact_name=None,
        filled_on=dt.date(2019, 1, 1),
    )
    answers.forms["choices"].update(
        sovereign_cloud="peut-être", office_suite="Autre (préciser)"
    )
    report = checker.check(write_return(writer, tmp_path / "return.xlsx", answers))
    assert found(report) == {
        ("required-missing", "Identité", "B6"),
        ("email-invalid", "Identité", "B8"),
        ("date-out-of-range", "Identité", "B9"),
        ("other-without-detail", "Choix communs", "B6"),
        ("yes-no-invalid", "Choix communs", "B11"),
    }


def test_missing_respondent(writer, checker, tmp_path):
    answers = clean_answers()
    answers.forms["identity"]["respondent"] = None
    report = checker.check(write_return(writer, tmp_path / "return.xlsx", answers))
    assert found(report) == {("required-missing", "Identité", "B5")}
    assert report.respondent is None


def test_duplicate_row(writer, checker, tmp_path):
    answers = clean_answers()
    answers.tables["applications"][7] = dict(answers.tables["applications"][0])
    report = checker.check(write_return(writer, tmp_path / "return.xlsx", answers))
    assert [
        (problem.code, problem.cell, problem.severity) for problem in report.problems
    ] == [("duplicate-row", "C9", "warning")]
    assert "ligne 2" in report.problems[0].message


def test_empty_applications(writer, checker, tmp_path):
    answers = clean_answers()
    answers.tables["applications"] = {}
    report = checker.check(write_return(writer, tmp_path / "return.xlsx", answers))
    assert [problem.code for problem in report.problems] == ["no-rows"]


def test_blank_rows_between_are_skipped(writer, checker, tmp_path):
    answers = clean_answers(2)
    answers.tables["applications"][300] = answers.tables["applications"].pop(1)
    report = checker.check(write_return(writer, tmp_path / "return.xlsx", answers))
    assert report.problems == []
    assert [record.source_row for record in report.tables["applications"]] == [2, 302]


# Structure changed by the department -------------------------------------------------


def edit_with_openpyxl(path: Path, change) -> Path:
    book = openpyxl.load_workbook(path)
    change(book)
    book.save(path)
    return path


def test_removed_protection(writer, checker, tmp_path):
    path = write_return(writer, tmp_path / "return.xlsx")
    edit_with_openpyxl(
        path, lambda book: setattr(book["Applications"].protection, "sheet", False)
    )
    report = checker.check(path)
    assert [
        (problem.code, problem.sheet, problem.severity) for problem in report.problems
    ] == [("protection-removed", "Applications", "warning")]
    assert report.accepted


def test_inserted_column(writer, checker, tmp_path):
    path = write_return(writer, tmp_path / "return.xlsx")

    def insert(book):
        sheet = book["Applications"]
        sheet.insert_cols(3)
        sheet["C1"] = "Notes internes"
        sheet["C2"] = "à revoir"

    edit_with_openpyxl(path, insert)
    report = checker.check(path)
    codes = [problem.code for problem in report.problems]
    assert codes.count("column-moved") == 12
    assert "column-extra" in codes
    assert all(problem.severity == "warning" for problem in report.problems)
    assert report.tables["applications"][0].values["product"] == "ASTRE_GF"
    extra = next(
        problem for problem in report.problems if problem.code == "column-extra"
    )
    assert extra.cell == "C1"
    assert "« Notes internes »" in extra.message


def test_inserted_header_rows(writer, checker, tmp_path):
    path = write_return(writer, tmp_path / "return.xlsx")
    edit_with_openpyxl(path, lambda book: book["Applications"].insert_rows(1, 2))
    report = checker.check(path)
    codes = [problem.code for problem in report.problems]
    assert codes[0] == "header-moved"
    assert report.problems[0].message.startswith(
        "L'en-tête de la feuille « Applications » est en ligne 3 au lieu de 1"
    )
    assert report.tables["applications"][0].source_row == 4
    assert report.tables["applications"][0].values["domain"] == "TRA"


def test_renamed_and_missing_columns(writer, checker, tmp_path):
    path = write_return(writer, tmp_path / "return.xlsx")

    def rename(book):
        sheet = book["Applications"]
        sheet["J1"] = "Hebergemnt"
        sheet["L1"] = "Échéance"

    edit_with_openpyxl(path, rename)
    report = checker.check(path)
    assert ("column-renamed", "Applications", "J1") in found(report)
    missing = [
        problem for problem in report.problems if problem.code == "column-missing"
    ]
    assert [problem.column for problem in missing] == ["Renouvellement prévu"]
    assert missing[0].severity == "error"


def test_merged_input_cells(writer, checker, tmp_path):
    path = write_return(writer, tmp_path / "return.xlsx")
    edit_with_openpyxl(path, lambda book: book["Applications"].merge_cells("N2:N3"))
    report = checker.check(path)
    assert ("merged-cells", "Applications", "N2:N3") in found(report)


def test_values_outside_area(writer, checker, tmp_path):
    path = write_return(writer, tmp_path / "return.xlsx")

    def overflow(book):
        book["Applications"]["C505"] = "Application oubliée"

    edit_with_openpyxl(path, overflow)
    report = checker.check(path)
    problem = next(
        problem for problem in report.problems if problem.code == "data-outside-area"
    )
    assert problem.cell == "C505"
    assert problem.severity == "warning"


def test_formula_in_input_cell(writer, checker, tmp_path):
    path = write_return(writer, tmp_path / "return.xlsx")

    def formula(book):
        book["Applications"]["K2"] = "=2+2"
        book["Applications"]["N3"] = "=A2"

    edit_with_openpyxl(path, formula)
    report = checker.check(path)
    problems = {(problem.code, problem.cell): problem for problem in report.problems}
    assert set(problems) == {("formula-in-cell", "K2"), ("formula-in-cell", "N3")}
    assert problems[("formula-in-cell", "K2")].value == "=2+2"
    # A formula in a text column is kept as its text, never evaluated.
    assert report.tables["applications"][1].values["comments"] == "=A2"
    assert report.tables["applications"][0].values["satisfaction"] is None


def test_renamed_sheet(writer, checker, tmp_path):
    path = write_return(writer, tmp_path / "return.xlsx")
    edit_with_openpyxl(
        path, lambda book: setattr(book["Applications"], "title", "Application")
    )
    report = checker.check(path)
    assert [problem.code for problem in report.problems] == ["sheet-renamed"]
    assert report.row_count() == 5


def test_missing_sheet(writer, checker, tmp_path):
    path = write_return(writer, tmp_path / "return.xlsx")
    edit_with_openpyxl(path, lambda book: book.remove(book["Choix communs"]))
    report = checker.check(path)
    assert [problem.code for problem in report.problems] == ["sheet-missing"]
    assert not report.accepted


# Which questionnaire ---------------------------------------------------------------------


def test_last_years_template(survey, checker, tmp_path):
    old = QuestionnaireWriter(survey, YEAR - 1)
    report = checker.check(old.write(tmp_path / "old.xlsx", answers=clean_answers()))
    assert [problem.code for problem in report.problems] == ["template-wrong-year"]
    assert (
        report.problems[0].message
        == f"Ce classeur est le questionnaire {YEAR - 1} ; la campagne en cours est celle de {YEAR}."
    )
    assert report.respondent is None


def test_old_personal_copy_names_body(survey, checker, tmp_path):
    old = QuestionnaireWriter(survey, YEAR - 1)
    path = old.write(tmp_path / "old.xlsx", respondent="D26", answers=clean_answers())
    report = checker.check(path)
    assert [problem.code for problem in report.problems] == ["template-wrong-year"]
    assert report.respondent == "D26"
    assert not report.accepted


def test_foreign_workbook(checker, tmp_path):
    book = openpyxl.Workbook()
    book.active["A1"] = "Inventaire"
    book.save(tmp_path / "foreign.xlsx")
    report = checker.check(tmp_path / "foreign.xlsx")
    assert [problem.code for problem in report.problems] == ["template-unknown"]


def test_copied_sheets_lose_fingerprint(writer, checker, tmp_path):
    path = write_return(writer, tmp_path / "return.xlsx")
    source = openpyxl.load_workbook(path)
    copy = openpyxl.Workbook()
    copy.remove(copy.active)
    for name in ("Identité", "Applications"):
        target = copy.create_sheet(name)
        for row in source[name].iter_rows(values_only=True):
            target.append(row)
    copy.save(tmp_path / "copy.xlsx")
    report = checker.check(tmp_path / "copy.xlsx")
    assert [problem.code for problem in report.problems] == [
        "template-unknown-lookalike"
    ]


def test_other_survey_and_old_version(writer, checker, tmp_path):
    for name, value, code in (
        ("panorama_survey", "autre-enquete", "template-other-survey"),
        ("panorama_version", "0.9", "template-old-version"),
    ):
        path = write_return(writer, tmp_path / f"{code}.xlsx")
        rewrite_property(path, name, value)
        report = checker.check(path)
        assert [problem.code for problem in report.problems] == [code]


def rewrite_property(path: Path, name: str, value: str) -> None:
    with zipfile.ZipFile(path) as package:
        contents = {
            info.filename: package.read(info.filename) for info in package.infolist()
        }
    text = contents["docProps/custom.xml"].decode()
    start = text.index(f'name="{name}"')
    value_start = text.index("<vt:lpwstr>", start) + len("<vt:lpwstr>")
    value_end = text.index("</vt:lpwstr>", value_start)
    contents["docProps/custom.xml"] = (
        text[:value_start] + value + text[value_end:]
    ).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for member, data in contents.items():
            package.writestr(member, data)


def test_changed_vocabularies_warn(writer, checker, tmp_path):
    path = write_return(writer, tmp_path / "return.xlsx")
    rewrite_property(path, "panorama_digest", "0" * 64)
    report = checker.check(path)
    assert [(problem.code, problem.severity) for problem in report.problems] == [
        ("template-changed", "warning")
    ]


def test_personal_copy_returned_by_another_body(writer, checker, tmp_path):
    path = write_return(writer, tmp_path / "return.xlsx", respondent="D26")

    def change(book):
        book["Identité"].protection.sheet = False
        book["Identité"]["B5"] = "07 – Ardèche"

    edit_with_openpyxl(path, change)
    report = checker.check(path)
    assert [problem.code for problem in report.problems] == ["respondent-mismatch"]
    assert (
        report.problems[0].message
        == "Ce questionnaire a été préparé pour 26 – Drôme, mais la feuille Identité indique 07 – Ardèche."
    )
    assert not report.accepted


def test_file_from_unexpected_body(writer, checker, tmp_path):
    path = write_return(writer, tmp_path / "return.xlsx", respondent="D26")
    report = checker.check(path, expected_respondent="D07")
    assert [problem.code for problem in report.problems] == ["respondent-unexpected"]
    assert "07 – Ardèche" in report.problems[0].message
    # The summary line sends the reader to the problem, not to "unidentified".
    line = summary_line(report, checker.survey)
    assert "collectivité à vérifier (voir ci-dessous)" in line
    assert "non identifiée" not in line


def test_cli_suggests_respondent_code(small_survey, tmp_path):
    path = QuestionnaireWriter(small_survey, YEAR).write(tmp_path / "blank.xlsx")
    result = CliRunner().invoke(
        main,
        ["--vocabularies", str(small_survey.directory), "check"]
        + ["--respondent", "26", str(path)],
    )
    assert result.exit_code == 2
    assert "code de répondant inconnu : 26. Vouliez-vous dire D26" in result.output


def test_wrap_keeps_quotes_attached():
    message = (
        "« Développement intere » ne fait pas partie de la liste « Éditeur »."
        " Vouliez-vous dire « Développement interne » ?"
    )
    for width in range(12, 60):
        for line in _wrap(message, width):
            assert not line.endswith("«"), (width, line)
            assert not line.startswith(("»", "?")), (width, line)
    assert " ".join(_wrap(message, 30)) == message


# Annotated copy and command line --------------------------------------------------------------


def test_annotated_copy(writer, checker, tmp_path):
    answers = clean_answers()
    answers.tables["applications"][1]["satisfaction"] = 9
    answers.tables["applications"][2]["domain"] = "Culture et sport"
    source = write_return(writer, tmp_path / "panorama-2027-D26.xlsx", answers)
    before = source.read_bytes()
    report = checker.check(source)
    path = write_annotated(
        report, writer, tmp_path / "out" / annotated_name(report.path)
    )
    assert path.name == "panorama-2027-D26-a-corriger.xlsx"
    assert source.read_bytes() == before
    book = openpyxl.load_workbook(path)
    sheet = book["Applications"]
    assert sheet["K3"].value == 9
    assert sheet["A4"].value == "Culture et sport"
    assert sheet["A2"].value == SUPPORT
    assert "hors des bornes" in sheet["K3"].comment.text
    assert sheet["A2"].comment is None
    rows = list(book["Anomalies"].iter_rows(min_row=4, values_only=True))
    assert [(row[2], row[7]) for row in rows] == [
        ("K3", "number-out-of-range"),
        ("A4", "value-unknown"),
    ]
    assert book["Applications"].protection.sheet
    assert len(book["Applications"].data_validations.dataValidation) == 14
    # The annotated copy is itself a clean questionnaire once corrected.
    again = checker.check(path)
    assert {problem.code for problem in again.problems} == {
        "number-out-of-range",
        "value-unknown",
    }


def test_cli_exit_codes_and_json(writer, small_survey, tmp_path):
    small = QuestionnaireWriter(small_survey, YEAR)
    good = small.write(tmp_path / "good.xlsx", answers=clean_answers())
    bad_answers = clean_answers()
    bad_answers.tables["applications"][0]["satisfaction"] = 8
    bad = small.write(tmp_path / "bad.xlsx", answers=bad_answers)
    runner = CliRunner()
    base = ["--vocabularies", str(small_survey.directory), "check", "--year", str(YEAR)]

    ok = runner.invoke(main, [*base, str(good)])
    assert ok.exit_code == 0, ok.output
    assert "valide" in ok.output

    failed = runner.invoke(main, [*base, "--format", "json", str(good), str(bad)])
    assert failed.exit_code == 1
    document = json.loads(failed.stdout)
    assert [entry["status"] for entry in document["files"]] == ["valid", "errors"]
    problem = document["files"][1]["problems"][0]
    assert set(problem) >= {
        "code",
        "severity",
        "sheet",
        "cell",
        "column",
        "value",
        "message",
        "suggestion",
    }
    assert (problem["code"], problem["cell"], problem["value"]) == (
        "number-out-of-range",
        "K2",
        "8",
    )
    assert document["files"][1]["respondent"] == "D26"
    assert document["files"][1]["year"] == document["year"] == YEAR

    usage = runner.invoke(main, [*base, str(tmp_path / "absent.xlsx")])
    assert usage.exit_code == 2


def test_cli_annotate_folder(small_survey, tmp_path):
    small = QuestionnaireWriter(small_survey, YEAR)
    answers = clean_answers()
    answers.tables["applications"][0]["satisfaction"] = 8
    (tmp_path / "in" / "a").mkdir(parents=True)
    (tmp_path / "in" / "b").mkdir(parents=True)
    small.write(tmp_path / "in" / "a" / "retour.xlsx", answers=answers)
    small.write(tmp_path / "in" / "b" / "retour.xlsx", answers=answers)
    result = CliRunner().invoke(
        main,
        [
            "--vocabularies",
            str(small_survey.directory),
            "check",
            "--year",
            str(YEAR),
            "--annotate",
            str(tmp_path / "out"),
            str(tmp_path / "in"),
        ],
    )
    assert result.exit_code == 1
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        "retour-a-corriger-2.xlsx",
        "retour-a-corriger.xlsx",
    ]
