"""The generated questionnaire, read back with openpyxl and from its XML."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.utils import range_boundaries

from panorama_xl.answers import Answers, CellNote
from panorama_xl.cli import main
from panorama_xl.fingerprint import Fingerprint
from panorama_xl.layout import Layout
from panorama_xl.package import legacy_password_hash
from panorama_xl.template import (
    questionnaire_name,
    write_templates,
)
from panorama_xl.vocabulary import OTHER_LABEL

from .conftest import YEAR

VISIBLE = ["Accueil", "Identité", "Choix communs", "Applications"]


@pytest.fixture(scope="module")
def blank(blank_template: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(blank_template)


@pytest.fixture(scope="module")
def personal(personal_template: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(personal_template)


def validations_by_range(sheet) -> dict[str, object]:
    return {str(dv.sqref): dv for dv in sheet.data_validations.dataValidation}


def defined_range_values(book: openpyxl.Workbook, name: str) -> list[str]:
    destinations = list(book.defined_names[name].destinations)
    assert len(destinations) == 1
    sheet_name, area = destinations[0]
    return [row[0].value for row in book[sheet_name][area.replace("$", "")]]


def test_sheets_order_and_visibility(blank):
    assert blank.sheetnames == [*VISIBLE, "Listes", "Empreinte"]
    for name in VISIBLE:
        assert blank[name].sheet_state == "visible"
    assert blank["Listes"].sheet_state == "hidden"
    assert blank["Empreinte"].sheet_state == "hidden"


def test_flat_lists_match_vocabularies(blank, survey):
    for key, vocabulary_key, other in [
        ("domain", "domains", False),
        ("vendor", "vendors", True),
        ("hosting", "hosting", False),
        ("respondent", "respondents", False),
    ]:
        expected = [
            entry.label for entry in survey.vocabularies[vocabulary_key].offered(YEAR)
        ]
        if other:
            expected.append(OTHER_LABEL)
        assert defined_range_values(blank, f"lst_{key}") == expected


def test_retired_respondents_not_offered(blank):
    labels = defined_range_values(blank, "lst_respondent")
    assert len(labels) == 100
    assert "67-68 – Collectivité européenne d'Alsace" in labels
    assert not any("ancien département" in label for label in labels)


def test_choice_columns_use_defined_names(blank):
    validations = validations_by_range(blank["Applications"])
    assert validations["A2:A501"].type == "list"
    assert validations["A2:A501"].formula1 == "lst_domain"
    assert validations["D2:D501"].formula1 == "lst_vendor"
    assert validations["J2:J501"].formula1 == "lst_hosting"


def test_no_inline_list_over_excel_limit(blank):
    for name in VISIBLE:
        for dv in blank[name].data_validations.dataValidation:
            assert len(dv.formula1 or "") <= 255, (name, dv.sqref)
            if dv.type == "list" and (dv.formula1 or "").startswith('"'):
                assert len(dv.formula1) <= 255


def test_cascade_formulas(blank):
    validations = validations_by_range(blank["Applications"])
    subdomain = validations["B2:B501"].formula1
    assert subdomain.startswith('IF($A2<>"",OFFSET(cas1_e,MATCH($A2,cas1_p,0)-1')
    assert subdomain.endswith(",lst_subdomain)")
    product = validations["F2:F501"].formula1
    # The vendor narrows the products first; the domain only when no vendor is chosen.
    assert product.index("$D2") < product.index("$A2")
    assert product.endswith(",lst_product))")


def test_cascade_tables_group_children_by_parent(blank, survey):
    parents = defined_range_values(blank, "cas1_p")
    children = defined_range_values(blank, "cas1_e")
    domains = survey.vocabularies["domains"]
    subdomains = survey.vocabularies["subdomains"]
    for parent_label, child_label in zip(parents, children):
        child = subdomains.by_label[child_label]
        assert domains.by_code[child.links["domains"]].label == parent_label
    # Each parent's rows are contiguous, as MATCH plus COUNTIF require.
    seen: list[str] = []
    for label in parents:
        if not seen or seen[-1] != label:
            assert label not in seen
            seen.append(label)


def test_products_under_vendor_block(blank):
    parents = defined_range_values(blank, "cas2_p")
    children = defined_range_values(blank, "cas2_e")
    inetum = [
        child for parent, child in zip(parents, children) if parent == "Inetum Software"
    ]
    assert inetum == ["Astre GF", OTHER_LABEL]
    orphans = [
        child for parent, child in zip(parents, children) if parent == OTHER_LABEL
    ]
    assert "IODAS" in orphans


def test_satisfaction_whole_number_rule(blank):
    rule = validations_by_range(blank["Applications"])["K2:K501"]
    assert rule.type == "whole"
    assert rule.operator in (None, "between")  # "between" is the schema default
    assert (rule.formula1, rule.formula2) == ("1", "5")


def test_validations_alert_and_prompt(blank):
    for name in VISIBLE:
        for dv in blank[name].data_validations.dataValidation:
            assert dv.showErrorMessage, (name, dv.sqref)
            assert dv.showInputMessage, (name, dv.sqref)
            assert dv.errorStyle in (None, "stop")
            assert dv.prompt and len(dv.prompt) <= 255
            assert dv.promptTitle and len(dv.promptTitle) <= 32
            assert dv.error and len(dv.error) <= 255
            assert dv.errorTitle == "Valeur non valide"


def test_every_input_cell_unlocked(blank):
    sheet = blank["Applications"]
    for row in sheet.iter_rows(min_row=2, max_row=501, min_col=1, max_col=14):
        for cell in row:
            assert cell.protection.locked is False, cell.coordinate
    assert sheet["A1"].protection.locked
    assert sheet["O2"].protection.locked


def test_input_cells_formatted_by_type(blank):
    sheet = blank["Applications"]
    assert sheet["C500"].number_format == "@"
    assert sheet["K500"].number_format == "0"
    assert blank["Identité"]["B9"].number_format == "dd/mm/yyyy"


def test_sheets_and_structure_protected(blank, survey):
    expected = legacy_password_hash(survey.definition.password)
    for name in blank.sheetnames:
        assert blank[name].protection.sheet, name
        assert blank[name].protection.password == expected, name
    assert blank.security.lockStructure
    assert blank.security.workbookPassword == expected


def test_frozen_header(blank):
    assert blank["Applications"].freeze_panes == "A2"


def test_fingerprint_sheet_and_properties(blank, personal, survey):
    for book, respondent in ((blank, ""), (personal, "D26")):
        properties = {prop.name: prop.value for prop in book.custom_doc_props.props}
        rows = {
            row[0]: row[2]
            for row in book["Empreinte"].iter_rows(min_row=2, values_only=True)
        }
        for found in (properties, rows):
            fingerprint = Fingerprint.from_mapping(found)
            assert fingerprint is not None
            assert fingerprint.survey == survey.id
            assert fingerprint.version == survey.version
            assert fingerprint.year == str(YEAR)
            assert fingerprint.digest == survey.digest
            assert fingerprint.respondent == respondent
        assert all(
            type(prop).__name__ == "StringProperty"
            for prop in book.custom_doc_props.props
        )


def test_blank_copy_offers_respondent_list(blank):
    sheet = blank["Identité"]
    validations = validations_by_range(sheet)
    assert validations["B5"].formula1 == "lst_respondent"
    assert sheet["B5"].value is None
    assert sheet["B5"].protection.locked is False


def test_personal_copy_fixes_respondent(personal):
    sheet = personal["Identité"]
    assert sheet["B5"].value == "26 – Drôme"
    assert sheet["B5"].protection.locked is True
    assert "B5" not in validations_by_range(sheet)
    assert personal["Accueil"]["B4"].value == "26 – Drôme"


def test_cover_summary_cached_values(blank_template):
    # The cached results of the cover's formulas must be right before any recalculation.
    book = openpyxl.load_workbook(blank_template, data_only=True)
    values = {
        row[0]: row[1] for row in book["Accueil"].iter_rows(values_only=True) if row[0]
    }
    assert values["Applications : lignes remplies"] == 0
    assert values["Applications : lignes à corriger"] == 0
    assert values["Identité, Choix communs : réponses à compléter ou corriger"] == 8


def test_status_column_cached_blank(blank_template):
    with zipfile.ZipFile(blank_template) as package:
        xml = package.read("xl/worksheets/sheet4.xml").decode()
    status_cells = re.findall(r'<c r="O\d+"[^>]*><f>.*?</c>', xml)
    assert len(status_cells) == 500
    # XlsxWriter caches 0 unless given a value; a blank row must show an empty status.
    assert all(
        "<v></v>" in cell or "<v/>" in cell or "<v>" not in cell
        for cell in status_cells
    )


def test_answers_and_notes_written(writer, tmp_path, survey):
    answers = Answers(
        forms={"identity": {"contact_name": '=HYPERLINK("http://x")'}},
        tables={
            "applications": {
                0: {
                    "domain": "Culture, vie sociale, jeunesse, sports et loisirs",
                    "subdomain": "RSA et insertion",
                    "application": "Archives",
                    "satisfaction": 4,
                },
                2: {"application": "+33 1 23", "satisfaction": 9},
            }
        },
    )
    notes = [
        CellNote(
            "error",
            "cascade-mismatch",
            "Sous-domaine hors du domaine.",
            "Choisissez un sous-domaine de Culture.",
            "RSA et insertion",
            "applications",
            "subdomain",
            0,
        ),
        CellNote("warning", "protection-removed", "La protection a été retirée."),
    ]
    path = writer.write(
        tmp_path / "annotated.xlsx", respondent="D07", answers=answers, notes=notes
    )
    book = openpyxl.load_workbook(path)
    sheet = book["Applications"]
    assert sheet["A2"].value == "Culture, vie sociale, jeunesse, sports et loisirs"
    assert sheet["K2"].value == 4
    assert sheet["C4"].value == "+33 1 23"
    assert sheet["C4"].data_type == "s"
    assert book["Identité"]["B6"].data_type == "s"
    assert sheet["B2"].comment is not None
    assert "Sous-domaine hors du domaine." in sheet["B2"].comment.text
    assert sheet["B2"].fill.fgColor.rgb.endswith("FF7C80")
    anomalies = book["Anomalies"]
    assert book.sheetnames[1] == "Anomalies"
    rows = list(anomalies.iter_rows(min_row=4, values_only=True))
    assert rows[0][:4] == ("Erreur", "Applications", "B2", "Sous-domaine")
    assert rows[1][0] == "Avertissement"
    assert rows[1][1] is None
    cached = openpyxl.load_workbook(path, data_only=True)
    assert cached["Applications"]["O2"].value == "À corriger"
    assert cached["Applications"]["O3"].value in (None, "")
    assert cached["Applications"]["O4"].value == "À corriger"
    summary = {
        row[0]: row[1]
        for row in cached["Accueil"].iter_rows(values_only=True)
        if row[0]
    }
    assert summary["Applications : lignes remplies"] == 2
    assert summary["Applications : lignes à corriger"] == 2


def test_unknown_respondent_rejected(writer, tmp_path):
    with pytest.raises(KeyError):
        writer.write(tmp_path / "x.xlsx", respondent="D99")
    assert not (tmp_path / "x.xlsx").exists()


def test_file_names_sort_and_say_what_they_are():
    assert questionnaire_name(2027) == "panorama-2027.xlsx"
    assert questionnaire_name(2027, "D26") == "panorama-2027-D26.xlsx"


def test_write_templates_all_respondents(small_survey, tmp_path):
    codes = [entry.code for entry in small_survey.respondents.offered(YEAR)]
    paths = write_templates(small_survey, YEAR, tmp_path, codes, workers=2)
    assert len(paths) == 101
    assert paths[0].name == "panorama-2027.xlsx"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)
    book = openpyxl.load_workbook(tmp_path / "panorama-2027-CEA.xlsx", read_only=True)
    assert book["Identité"]["B5"].value == "67-68 – Collectivité européenne d'Alsace"


def test_cli_template_personalised(small_survey, tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "--vocabularies",
            str(small_survey.directory),
            "template",
            "--year",
            "2027",
            "--respondent",
            "D26",
            "--respondent",
            "M69",
            "-o",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "panorama-2027-D26.xlsx",
        "panorama-2027-M69.xlsx",
        "panorama-2027.xlsx",
    ]
    assert "3 questionnaire(s) écrit(s)" in result.output


def test_cli_template_unknown_respondent(small_survey, tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "--vocabularies",
            str(small_survey.directory),
            "template",
            "--respondent",
            "Drôme",
            "-o",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 2
    assert "code de répondant inconnu : Drôme" in result.output
    assert "D26" in result.output
    assert list(tmp_path.iterdir()) == []


def test_cli_template_retired_respondent(small_survey, tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "--vocabularies",
            str(small_survey.directory),
            "template",
            "--year",
            "2027",
            "--respondent",
            "D67",
            "-o",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 2
    assert "n'existe pas en 2027" in result.output


def test_layout_cells(survey):
    layout = Layout(survey)
    table = layout.sheet("applications")
    assert table.cell("domain", 0) == "A2"
    assert table.cell("product_other", 499) == "G501"
    assert range_boundaries(table.input_range) == (1, 2, 14, 501)
    assert layout.sheet("identity").cell("respondent") == "B5"


def test_generated_workbooks_pass_schema_check(
    blank_template, personal_template, writer, tmp_path
):
    from .ooxml import validate_xlsx
    from .returns import clean_answers

    answers = clean_answers()
    answers.tables["applications"][0]["satisfaction"] = 9
    notes = [
        CellNote(
            "error",
            "number-out-of-range",
            "9 est hors des bornes.",
            "Nombre entier de 1 à 5.",
            "9",
            "applications",
            "satisfaction",
            0,
        ),
        CellNote("warning", "protection-removed", "Protection retirée."),
    ]
    annotated = writer.write(tmp_path / "annotated.xlsx", answers=answers, notes=notes)
    for path in (blank_template, personal_template, annotated):
        assert validate_xlsx(path) == [], path.name


def test_defined_names_quoted(blank, survey):
    count = len(survey.vocabularies["domains"].offered(YEAR))
    assert re.fullmatch(
        rf"'Listes'!\$([A-Z]+)\$2:\$\1\${count + 1}",
        blank.defined_names["lst_domain"].attr_text,
    )
    for name in blank.defined_names:
        text = blank.defined_names[name].attr_text
        assert text.startswith("'Listes'!$")
        assert text.count("Listes") == 1
