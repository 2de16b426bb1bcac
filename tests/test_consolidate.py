"""The master workbook: figures checked against values computed here from the returns themselves."""

from __future__ import annotations

import random
import re
import statistics
import unicodedata
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from panorama_xl.cli import main
from panorama_xl.collect import collect
from panorama_xl.consolidate import consolidate
from panorama_xl.template import QuestionnaireWriter

from .conftest import YEAR
from .ooxml import validate_xlsx
from .returns import clean_answers

BODIES = ["D01", "D13", "D26", "CEA", "M69", "VDP", "D971"]
INJECTIONS = [
    '=HYPERLINK("http://example.invalid","clic")',
    "+SUM(1,2)",
    "@cmd",
    "-2+3",
    "=1+1",
]


def campaign_answers(survey) -> dict[str, object]:
    """Returns of seven bodies with seeded random ratings, renewals and row counts."""
    generator = random.Random(2027)
    renewals = [entry.label for entry in survey.vocabularies["renewal"].entries]
    returns = {}
    for code in BODIES:
        answers = clean_answers(generator.randint(3, 12))
        answers.forms["identity"]["respondent"] = survey.respondents.by_code[code].label
        answers.forms["choices"]["office_suite"] = generator.choice(
            ["Microsoft 365", "LibreOffice", "Zimbra"]
        )
        for index, row in answers.tables["applications"].items():
            row["satisfaction"] = generator.randint(1, 5)
            row["renewal"] = generator.choice(renewals)
            row["application"] = f"{row['application']} ({code} {index})"
        returns[code] = answers
    returns["D26"].tables["applications"][0]["application"] = INJECTIONS[0]
    for offset, text in enumerate(INJECTIONS[1:], start=1):
        returns["D26"].tables["applications"][offset]["comments"] = text
    return returns


@pytest.fixture(scope="module")
def master(small_survey, tmp_path_factory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("campaign")
    returns = campaign_answers(small_survey)
    writer = QuestionnaireWriter(small_survey, YEAR)
    for code, answers in returns.items():
        writer.write(folder / "retours" / f"{code}.xlsx", answers=answers)
    database = folder / "panorama.sqlite"
    collect(
        folder / "retours",
        small_survey,
        YEAR,
        output=folder / "sortie",
        database=database,
        workers=2,
    )
    path = consolidate(small_survey, YEAR, database, folder / "master.xlsx")
    return {"path": path, "returns": returns, "database": database, "folder": folder}


@pytest.fixture(scope="module")
def cached(master) -> openpyxl.Workbook:
    return openpyxl.load_workbook(master["path"], data_only=True)


@pytest.fixture(scope="module")
def formulas(master) -> openpyxl.Workbook:
    return openpyxl.load_workbook(master["path"])


def all_rows(returns) -> list[tuple[str, dict]]:
    return [
        (code, row)
        for code, answers in returns.items()
        for _, row in sorted(answers.tables["applications"].items())
    ]


def table(sheet, key_column: int = 0, header_row: int = 4) -> dict[object, tuple]:
    found = {}
    for row in sheet.iter_rows(min_row=header_row + 1, values_only=True):
        if row[key_column] is None:
            break
        found[row[key_column]] = row
    return found


def test_data_sheet_has_every_row(master, cached, small_survey):
    sheet = cached["Données"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    expected = all_rows(master["returns"])
    assert len(rows) == len(expected)
    headers = [cell.value for cell in sheet[1]]
    assert headers[:5] == [
        "Code collectivité",
        "Collectivité",
        "Région",
        "Code domaine",
        "Domaine",
    ]
    first = rows[0]
    assert first[0] == "CEA"
    assert first[1] == "67-68 – Collectivité européenne d'Alsace"
    assert first[2] == "Grand Est"
    assert sheet.freeze_panes == "C2"
    assert sheet.auto_filter.ref is not None


def test_applications_per_domain(master, cached, small_survey):
    domains = small_survey.vocabularies["domains"]
    expected = Counter(
        domains.by_label[row["domain"]].code for _, row in all_rows(master["returns"])
    )
    bodies = defaultdict(set)
    for code, row in all_rows(master["returns"]):
        bodies[domains.by_label[row["domain"]].code].add(code)
    found = table(cached["Domaines"])
    for code in domains.by_code:
        assert found[code][2] == expected.get(code, 0), code
        assert found[code][3] == len(bodies.get(code, ())), code


def test_satisfaction_per_product(master, cached, small_survey):
    products = small_survey.vocabularies["products"]
    ratings = defaultdict(list)
    raters = defaultdict(set)
    for code, row in all_rows(master["returns"]):
        product = products.lookup(row["product"]).code
        ratings[product].append(row["satisfaction"])
        raters[product].add(code)
    found = table(cached["Satisfaction produits"])
    assert set(found) == set(ratings)
    for product, scores in ratings.items():
        line = found[product]
        assert line[2] == len(raters[product])
        assert line[3] == len(raters[product])
        assert line[4] == len(scores)
        assert line[5] == pytest.approx(statistics.mean(scores))
        assert list(line[6:11]) == [scores.count(score) for score in range(1, 6)]


def test_satisfaction_per_vendor(master, cached, small_survey):
    vendors = small_survey.vocabularies["vendors"]
    ratings = defaultdict(list)
    raters = defaultdict(set)
    for code, row in all_rows(master["returns"]):
        entry = vendors.lookup(row["vendor"])
        if entry is not None:
            key = entry.code
        else:
            plain = "".join(
                ch
                for ch in unicodedata.normalize("NFKD", row["vendor_other"])
                if not unicodedata.combining(ch)
            )
            key = "AUTRE:" + plain.lower()
        ratings[key].append(row["satisfaction"])
        raters[key].add(code)
    found = table(cached["Satisfaction éditeurs"])
    for key, scores in ratings.items():
        assert found[key][2] == len(raters[key]), key
        assert found[key][5] == pytest.approx(statistics.mean(scores)), key


def test_products_by_domain_count_bodies_once(master, cached, small_survey):
    domains, products = (
        small_survey.vocabularies["domains"],
        small_survey.vocabularies["products"],
    )
    bodies = defaultdict(set)
    applications = Counter()
    for code, row in all_rows(master["returns"]):
        pair = (
            domains.by_label[row["domain"]].code,
            products.lookup(row["product"]).code,
        )
        bodies[pair].add(code)
        applications[pair] += 1
    found = {
        (row[0], row[2]): row
        for row in cached["Produits par domaine"].iter_rows(min_row=5, values_only=True)
        if row[0]
    }
    assert set(found) == set(bodies)
    for pair in bodies:
        assert found[pair][4] == len(bodies[pair])
        assert found[pair][5] == applications[pair]


def test_renewals_matrix(master, cached, small_survey):
    domains, renewal = (
        small_survey.vocabularies["domains"],
        small_survey.vocabularies["renewal"],
    )
    counts = Counter(
        (domains.by_label[row["domain"]].code, renewal.by_label[row["renewal"]].code)
        for _, row in all_rows(master["returns"])
    )
    sheet = cached["Renouvellements"]
    header = [cell.value for cell in sheet[4]]
    found = table(sheet)
    for (domain, code), count in counts.items():
        column = header.index(renewal.by_code[code].label)
        assert found[domain][column] == count


def test_response_rate_by_region(master, cached, small_survey):
    regions = small_survey.vocabularies["regions"]
    expected = Counter()
    answered = Counter()
    for entry in small_survey.respondents.offered(YEAR):
        region = regions.by_code[entry.links["regions"]].label
        expected[region] += 1
        answered[region] += entry.code in BODIES
    found = table(cached["Réponses (résumé)"])
    for region in expected:
        assert found[region][1] == expected[region]
        assert found[region][2] == answered[region]
        assert found[region][3] == pytest.approx(answered[region] / expected[region])
    summary = {
        row[0]: row[1]
        for row in cached["Synthèse"].iter_rows(min_row=4, max_row=9, values_only=True)
    }
    assert summary["Collectivités attendues"] == 100
    assert summary["Collectivités ayant répondu"] == len(BODIES)
    assert summary["Applications déclarées"] == len(all_rows(master["returns"]))
    scores = [row["satisfaction"] for _, row in all_rows(master["returns"])]
    assert summary["Satisfaction moyenne (1 à 5)"] == pytest.approx(
        statistics.mean(scores)
    )


def test_body_wide_choices(master, cached):
    counts = Counter(
        answers.forms["choices"]["office_suite"]
        for answers in master["returns"].values()
    )
    found = {
        row[0]: row[1]
        for row in cached["Choix communs"].iter_rows(min_row=5, values_only=True)
        if row[0]
    }
    for suite, count in counts.items():
        assert found[suite] == count


def test_summaries_are_formulas(formulas):
    assert formulas["Domaines"]["C5"].data_type == "f"
    assert formulas["Domaines"]["C5"].value.startswith("=COUNTIF('Données'!$D$2:$D$")
    assert formulas["Satisfaction produits"]["F5"].value.startswith(
        "=IFERROR(AVERAGEIFS("
    )
    assert (
        formulas["Synthèse"]["B5"].value == "=COUNTIF('Réponses'!$D$2:$D$101,\"Oui\")"
    )


def test_respondent_text_never_a_formula(master, formulas):
    sheet = formulas["Données"]
    texts = {
        cell.value: cell
        for row in sheet.iter_rows(min_row=2)
        for cell in row
        if cell.value in INJECTIONS
    }
    assert set(texts) == set(INJECTIONS)
    for cell in texts.values():
        assert cell.data_type == "s"
    # XlsxWriter numbers sheet parts in workbook order.
    data_sheet = f"xl/worksheets/sheet{formulas.sheetnames.index('Données') + 1}.xml"
    with zipfile.ZipFile(master["path"]) as package:
        assert b"<f>" not in package.read(data_sheet)


def test_conditional_formats_and_charts(master, formulas):
    def rules(sheet):
        return [
            rule
            for area in formulas[sheet].conditional_formatting
            for rule in area.rules
        ]

    assert any(rule.type == "colorScale" for rule in rules("Données"))
    assert any(rule.type == "dataBar" for rule in rules("Domaines"))
    low = [
        rule
        for rule in rules("Satisfaction produits")
        if rule.type == "expression" and "<2.5" in rule.formula[0]
    ]
    assert low and ">=3" in low[0].formula[0]
    assert any(rule.type == "cellIs" for rule in rules("Renouvellements"))
    with zipfile.ZipFile(master["path"]) as package:
        charts = [
            name
            for name in package.namelist()
            if re.match(r"xl/charts/chart\d+\.xml", name)
        ]
    assert len(charts) >= 5


def test_same_inputs_same_file(master, small_survey, tmp_path):
    again = consolidate(small_survey, YEAR, master["database"], tmp_path / "again.xlsx")
    assert again.read_bytes() == master["path"].read_bytes()


def test_master_passes_schema_check(master):
    assert validate_xlsx(master["path"]) == []
    board = master["folder"] / "sortie" / f"tableau-de-bord-{YEAR}.xlsx"
    assert validate_xlsx(board) == []


def test_cli_consolidate(master, small_survey, tmp_path):
    runner = CliRunner()
    base = [
        "--vocabularies",
        str(small_survey.directory),
        "consolidate",
        "--db",
        str(master["database"]),
    ]
    result = runner.invoke(
        main, [*base, "--year", str(YEAR), "-o", str(tmp_path / "m.xlsx")]
    )
    assert result.exit_code == 0, result.output
    assert f"({len(BODIES)} réponses" in result.output
    missing = runner.invoke(main, [*base, "--year", str(YEAR + 5)])
    assert missing.exit_code == 2
    assert f"aucune réponse acceptée pour {YEAR + 5}" in missing.output
    no_database = runner.invoke(
        main,
        [
            "--vocabularies",
            str(small_survey.directory),
            "consolidate",
            "--db",
            str(tmp_path / "absent.sqlite"),
        ],
    )
    assert no_database.exit_code == 2
    assert not Path(tmp_path / "absent.sqlite").exists()
