"""LibreOffice recalculates the master workbook and finds the numbers cached in it."""

from __future__ import annotations

import math

import openpyxl
import pytest

from panorama_xl.collect import collect
from panorama_xl.consolidate import consolidate
from panorama_xl.libreoffice import Job, run_jobs
from panorama_xl.template import QuestionnaireWriter

from .conftest import YEAR
from .test_consolidate import campaign_answers

pytestmark = pytest.mark.libreoffice


@pytest.fixture(scope="module")
def recalculated(libreoffice, small_survey, tmp_path_factory):
    folder = tmp_path_factory.mktemp("recalculation")
    writer = QuestionnaireWriter(small_survey, YEAR)
    for code, answers in campaign_answers(small_survey).items():
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
    master = consolidate(small_survey, YEAR, database, folder / "master.xlsx")
    (result,) = run_jobs([Job(master, [folder / "master.lo.xlsx"], recalculate=True)])
    assert result.error is None
    return master, folder / "master.lo.xlsx"


def test_libreoffice_reproduces_every_cached_value(recalculated):
    master, recomputed = recalculated
    formulas = openpyxl.load_workbook(master)
    cached = openpyxl.load_workbook(master, data_only=True)
    libreoffice = openpyxl.load_workbook(recomputed, data_only=True)
    compared = 0
    mismatches = []
    for sheet in formulas.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type != "f":
                    continue
                compared += 1
                mine = cached[sheet.title][cell.coordinate].value
                theirs = libreoffice[sheet.title][cell.coordinate].value
                if mine in (None, "") and theirs in (None, ""):
                    continue
                if (
                    isinstance(mine, (int, float))
                    and isinstance(theirs, (int, float))
                    and math.isclose(mine, theirs, rel_tol=1e-9, abs_tol=1e-12)
                ):
                    continue
                mismatches.append(
                    (sheet.title, cell.coordinate, mine, theirs, cell.value)
                )
    assert compared > 200
    assert mismatches == []
