"""The demo campaign: every body and file accounted for, with and without LibreOffice."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from panorama_xl.cli import main
from panorama_xl.demo import LIBREOFFICE_RETURNS, MISSING, MISTAKES, run_demo

from .conftest import YEAR
from .ooxml import validate_xlsx


def statuses(result) -> dict[str, int]:
    counts: dict[str, int] = {}
    for body in result.campaign.bodies:
        counts[body.status] = counts.get(body.status, 0) + 1
    return counts


def test_demo_without_libreoffice(small_survey, tmp_path):
    messages: list[str] = []
    result = run_demo(
        tmp_path / "demo",
        small_survey,
        YEAR,
        seed=7,
        libreoffice=False,
        workers=2,
        say=messages.append,
    )
    assert result.libreoffice is False
    assert "tous écrits en Python" in messages[1]
    files = sorted(path for path in result.returns.rglob("*") if path.is_file())
    assert len(files) == 100 - MISSING + MISTAKES["two-versions"]
    counts = statuses(result)
    assert counts["missing"] == MISSING
    assert counts["unreadable"] == MISTAKES["encrypted"] + MISTAKES["not-a-spreadsheet"]
    assert (
        counts["errors"]
        == MISTAKES["typos"] + MISTAKES["missing-cells"] + MISTAKES["last-year"]
    )
    assert counts["warnings"] == MISTAKES["unprotected"]
    assert sum(counts.values()) == 100
    assert result.master.is_file()
    assert validate_xlsx(result.master) == []
    assert result.board.is_file()
    # The first versions of the two-version bodies were replaced by valid ones:
    # only the returns still to correct keep an annotated copy.
    assert len(list(result.annotated.iterdir())) == counts["errors"]


def test_demo_is_reproducible(small_survey, tmp_path):
    first = run_demo(
        tmp_path / "a",
        small_survey,
        YEAR,
        seed=11,
        libreoffice=False,
        workers=2,
        say=lambda text: None,
    )
    written = first.master.read_bytes()
    # The same folder again: the demo replaces what it wrote before.
    second = run_demo(
        tmp_path / "a",
        small_survey,
        YEAR,
        seed=11,
        libreoffice=False,
        workers=2,
        say=lambda text: None,
    )
    assert second.master.read_bytes() == written


@pytest.mark.libreoffice
def test_demo_through_libreoffice(libreoffice, small_survey, tmp_path):
    result = run_demo(
        tmp_path / "demo",
        small_survey,
        YEAR,
        seed=3,
        libreoffice=True,
        workers=2,
        say=lambda text: None,
    )
    assert result.libreoffice is True
    assert result.fates["libreoffice-xlsx"] == LIBREOFFICE_RETURNS // 2
    assert result.fates["libreoffice-ods"] == LIBREOFFICE_RETURNS // 2
    formats = {summary.path.rsplit(".", 1)[-1] for summary in result.campaign.files}
    assert {"xlsx", "ods", "pdf"} <= formats
    counts = statuses(result)
    # One return typed into LibreOffice carries a formula and a rating out of range.
    assert (
        counts["errors"]
        == MISTAKES["typos"] + MISTAKES["missing-cells"] + MISTAKES["last-year"] + 1
    )
    assert counts["missing"] == MISSING
    typed = [
        summary for summary in result.campaign.files if summary.path.endswith(".ods")
    ]
    assert all(summary.status in ("valid", "warnings", "errors") for summary in typed)


def test_cli_demo(small_survey, tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "--vocabularies",
            str(small_survey.directory),
            "demo",
            "-o",
            str(tmp_path / "demo"),
            "--year",
            str(YEAR),
            "--no-libreoffice",
            "--workers",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "100 collectivités attendues" in result.output
    assert "classeur consolidé" in result.output
    assert (
        "Note : aucun retour n'est passé par LibreOffice (désactivé par --no-libreoffice)."
        in result.output
    )


def test_demo_rejects_foreign_folder(small_survey, tmp_path):
    folder = tmp_path / "build"
    folder.mkdir()
    history = folder / "panorama.sqlite"
    history.write_bytes(b"the coordinator's history")
    result = CliRunner().invoke(
        main,
        [
            "--vocabularies",
            str(small_survey.directory),
            "demo",
            "-o",
            str(folder),
            "--no-libreoffice",
        ],
    )
    assert result.exit_code == 2, result.output
    assert "ne viennent pas d'une démonstration" in result.output
    assert history.read_bytes() == b"the coordinator's history"
    assert sorted(path.name for path in folder.iterdir()) == ["panorama.sqlite"]
