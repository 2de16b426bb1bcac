"""Collecting a campaign folder: the board accounts for every body and file, and the history is idempotent."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from panorama_xl.cli import main
from panorama_xl.collect import collect
from panorama_xl.history import History
from panorama_xl.template import QuestionnaireWriter

from .conftest import YEAR
from .returns import clean_answers


def answers_for(survey, code: str, rows: int = 5):
    answers = clean_answers(rows)
    answers.forms["identity"]["respondent"] = survey.respondents.by_code[code].label
    return answers


def set_mtime(path: Path, seconds: int) -> None:
    os.utime(path, (seconds, seconds))


@pytest.fixture
def campaign(small_survey, tmp_path) -> dict[str, object]:
    writer = QuestionnaireWriter(small_survey, YEAR)
    folder = tmp_path / "retours"
    (folder / "D07").mkdir(parents=True)
    (folder / "courriels").mkdir()
    base = 1_800_000_000

    files = {}
    files["D01"] = writer.write(
        folder / "Ain.xlsx", answers=answers_for(small_survey, "D01")
    )
    files["D02-old"] = writer.write(
        folder / "aisne-v1.xlsx", answers=answers_for(small_survey, "D02", 3)
    )
    files["D02-new"] = writer.write(
        folder / "aisne-v2.xlsx", answers=answers_for(small_survey, "D02", 4)
    )
    files["D03-valid"] = writer.write(
        folder / "allier.xlsx", answers=answers_for(small_survey, "D03")
    )
    broken = answers_for(small_survey, "D03")
    broken.tables["applications"][0]["satisfaction"] = 12
    files["D03-errors"] = writer.write(
        folder / "courriels" / "allier-corrige.xlsx", answers=broken
    )
    wrong = answers_for(small_survey, "D05")
    wrong.tables["applications"][1]["domain"] = "Sport"
    files["D05"] = writer.write(folder / "hautes-alpes.xlsx", answers=wrong)
    files["D07"] = writer.write(
        folder / "D07" / "reponse.xlsx",
        respondent="D07",
        answers=answers_for(small_survey, "D07"),
    )
    files["D08"] = folder / "courriels" / "panorama-2027-D08.xlsx"
    files["D08"].write_bytes(b"%PDF-1.4 scan")
    files["unknown"] = folder / "courriels" / "piece-jointe.xlsx"
    files["unknown"].write_text("texte", encoding="utf-8")
    files["foreign"] = folder / "autre.xlsx"
    openpyxl.Workbook().save(files["foreign"])
    for offset, path in enumerate(files.values()):
        set_mtime(path, base + 60 * offset)
    (folder / "~$Ain.xlsx").write_bytes(b"lock")
    return {
        "folder": folder,
        "files": files,
        "output": tmp_path / "sortie",
        "database": tmp_path / "panorama.sqlite",
    }


def run(campaign, survey):
    return collect(
        campaign["folder"],
        survey,
        YEAR,
        output=campaign["output"],
        database=campaign["database"],
        workers=2,
    )


def test_board_accounts_for_every_body(campaign, small_survey):
    result = run(campaign, small_survey)
    bodies = {body.code: body for body in result.bodies}
    assert len(bodies) == 100
    assert bodies["D01"].status == "valid"
    assert bodies["D02"].status == "valid"
    assert bodies["D02"].file == "aisne-v2.xlsx"
    assert bodies["D02"].others == ["aisne-v1.xlsx"]
    assert bodies["D03"].status == "valid"
    assert bodies["D03"].file == "allier.xlsx"
    assert "allier-corrige.xlsx" in bodies["D03"].note
    assert bodies["D05"].status == "errors"
    assert bodies["D07"].status == "valid"
    assert bodies["D08"].status == "unreadable"
    assert "nom du dossier ou du fichier" in bodies["D08"].note
    assert bodies["D09"].status == "missing"
    assert result.count("missing") == 94


def test_board_accounts_for_every_file(campaign, small_survey):
    result = run(campaign, small_survey)
    names = sorted(Path(summary.path).name for summary in result.files)
    assert names == sorted(path.name for path in campaign["files"].values())
    assert sorted(Path(summary.path).name for summary in result.unattributed) == [
        "autre.xlsx",
        "piece-jointe.xlsx",
    ]
    book = openpyxl.load_workbook(result.board)
    assert book.sheetnames == ["Tableau de bord", "Fichiers"]
    files_sheet = list(book["Fichiers"].iter_rows(min_row=2, values_only=True))
    assert len(files_sheet) == len(campaign["files"])
    board = {
        row[0]: row
        for row in book["Tableau de bord"].iter_rows(min_row=10, values_only=True)
        if row[0]
    }
    assert board["D02"][3] == "valide"
    assert board["D05"][3] == "erreurs à corriger"
    assert board["D09"][3] == "pas de réponse"
    counts = {
        row[1]: row[2]
        for row in openpyxl.load_workbook(result.board, data_only=True)[
            "Tableau de bord"
        ].iter_rows(min_row=4, max_row=8, values_only=True)
    }
    assert counts == {
        "valide": 4,
        "valide avec avertissements": 0,
        "erreurs à corriger": 1,
        "illisible": 1,
        "pas de réponse": 94,
    }


def test_annotated_copies_for_errors_only(campaign, small_survey):
    result = run(campaign, small_survey)
    written = sorted(
        path.name for path in (campaign["output"] / "a-corriger").iterdir()
    )
    assert written == [
        "allier-corrige-a-corriger.xlsx",
        "autre-a-corriger.xlsx",
        "hautes-alpes-a-corriger.xlsx",
    ]
    assert result.annotated_folder == campaign["output"] / "a-corriger"


def test_no_copy_for_replaced_file(campaign, small_survey):
    draft = answers_for(small_survey, "D01")
    draft.tables["applications"][0]["satisfaction"] = 12
    path = QuestionnaireWriter(small_survey, YEAR).write(
        campaign["folder"] / "ain-brouillon.xlsx", answers=draft
    )
    set_mtime(path, 1_000_000_000)  # received before the valid Ain.xlsx
    result = run(campaign, small_survey)
    summary = next(item for item in result.files if item.name == "ain-brouillon.xlsx")
    assert summary.status == "errors"
    assert summary.annotated == ""
    assert not (
        campaign["output"] / "a-corriger" / "ain-brouillon-a-corriger.xlsx"
    ).exists()


def test_history_keeps_latest_valid(campaign, small_survey):
    run(campaign, small_survey)
    with History(campaign["database"]) as history:
        stored = {item.respondent: item for item in history.returns(YEAR)}
        assert sorted(stored) == ["D01", "D02", "D03", "D07"]
        assert stored["D02"].file_name == "aisne-v2.xlsx"
        assert stored["D02"].rows == 4
        rows = list(history.applications(YEAR))
    assert len(rows) == 5 + 4 + 5 + 5
    respondent, source_row, values = rows[0]
    assert (respondent, source_row) == ("D01", 2)
    assert values["product"] == "ASTRE_GF"
    assert values["satisfaction"] == 4


def database_dump(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as connection:
        returns = connection.execute(
            "SELECT year, respondent, file_name, sha256, received_at, stored_at, status, rows FROM returns ORDER BY respondent"
        ).fetchall()
        applications = connection.execute(
            "SELECT return_id, sheet, position, source_row, data FROM applications ORDER BY return_id, position"
        ).fetchall()
        answers = connection.execute(
            "SELECT * FROM answers ORDER BY return_id, sheet, field"
        ).fetchall()
    return [returns, applications, answers]


def test_rerun_changes_nothing(campaign, small_survey):
    run(campaign, small_survey)
    before = database_dump(campaign["database"])
    again = run(campaign, small_survey)
    assert database_dump(campaign["database"]) == before
    storage = {Path(summary.path).name: summary.storage for summary in again.files}
    assert storage["Ain.xlsx"] == "unchanged"
    assert storage["aisne-v1.xlsx"] in ("unchanged", "kept-newer")


def test_corrected_file_replaces(campaign, small_survey, tmp_path):
    run(campaign, small_survey)
    writer = QuestionnaireWriter(small_survey, YEAR)
    corrected = writer.write(
        campaign["folder"] / "hautes-alpes-corrige.xlsx",
        answers=answers_for(small_survey, "D05", 2),
    )
    set_mtime(corrected, 1_900_000_000)
    newer_d01 = writer.write(
        campaign["folder"] / "ain-v2.xlsx", answers=answers_for(small_survey, "D01", 7)
    )
    set_mtime(newer_d01, 1_900_000_000)
    result = run(campaign, small_survey)
    bodies = {body.code: body for body in result.bodies}
    assert bodies["D05"].status == "valid"
    assert bodies["D05"].file == "hautes-alpes-corrige.xlsx"
    assert bodies["D01"].file == "ain-v2.xlsx"
    # The copy sent back for the first file of D05 is gone with its errors.
    written = sorted(
        path.name for path in (campaign["output"] / "a-corriger").iterdir()
    )
    assert written == ["allier-corrige-a-corriger.xlsx", "autre-a-corriger.xlsx"]
    with History(campaign["database"]) as history:
        stored = {item.respondent: item for item in history.returns(YEAR)}
        assert stored["D01"].rows == 7
        assert sum(1 for row in history.applications(YEAR) if row[0] == "D01") == 7


def test_years_accumulate(campaign, small_survey, tmp_path):
    run(campaign, small_survey)
    last_year = tmp_path / "2026"
    last_year.mkdir()
    QuestionnaireWriter(small_survey, YEAR - 1).write(
        last_year / "ain-2026.xlsx", answers=answers_for(small_survey, "D01", 2)
    )
    collect(
        last_year,
        small_survey,
        YEAR - 1,
        output=tmp_path / "sortie-2026",
        database=campaign["database"],
        workers=1,
    )
    with History(campaign["database"]) as history:
        assert history.years() == [YEAR - 1, YEAR]
        assert len(history.returns(YEAR)) == 4
        assert [item.respondent for item in history.returns(YEAR - 1)] == ["D01"]


def test_inputs_never_modified(campaign, small_survey):
    files = sorted(campaign["folder"].rglob("*"))
    before = {
        path: (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
        for path in files
        if path.is_file()
    }
    run(campaign, small_survey)
    after = {
        path: (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
        for path in files
        if path.is_file()
    }
    assert after == before


def test_cli_collect(campaign, small_survey):
    result = CliRunner().invoke(
        main,
        [
            "--vocabularies",
            str(small_survey.directory),
            "collect",
            str(campaign["folder"]),
            "--year",
            str(YEAR),
            "-o",
            str(campaign["output"]),
            "--db",
            str(campaign["database"]),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (
        "100 collectivités attendues — valide : 4, valide avec avertissements : 0, erreurs à corriger : 1, illisible : 1, pas de réponse : 94."
        in result.output
    )
    assert "D09   09 – Ariège" in result.output
    assert "2 fichier(s) non rattaché(s)" in result.output
    assert (campaign["output"] / f"tableau-de-bord-{YEAR}.xlsx").is_file()
