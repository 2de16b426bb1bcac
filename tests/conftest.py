"""Shared fixtures: the bundled survey, generated workbooks and LibreOffice."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from panorama_xl.libreoffice import unavailable_reason
from panorama_xl.survey import Survey, bundled_directory, load_survey
from panorama_xl.template import QuestionnaireWriter

YEAR = 2027
# Third-party spreadsheets from public test suites, kept outside the repository.
REALFILES = Path(
    os.environ.get(
        "PANORAMA_REALFILES",
        Path(__file__).resolve().parents[2] / "shared" / "realfiles",
    )
)


@pytest.fixture(scope="session")
def survey() -> Survey:
    return load_survey()


@pytest.fixture(scope="session")
def writer(survey: Survey) -> QuestionnaireWriter:
    return QuestionnaireWriter(survey, YEAR)


@pytest.fixture(scope="session")
def blank_template(
    writer: QuestionnaireWriter, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    return writer.write(tmp_path_factory.mktemp("templates") / "panorama-2027.xlsx")


@pytest.fixture(scope="session")
def personal_template(
    writer: QuestionnaireWriter, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    path = tmp_path_factory.mktemp("templates") / "panorama-2027-D26.xlsx"
    return writer.write(path, respondent="D26")


def copy_vocabularies(target: Path, **changes: object) -> Path:
    """Copy the bundled vocabularies to ``target`` and apply ``changes`` to survey.yaml.

    ``rows=20`` shortens every table sheet, which keeps tests that write many
    workbooks fast.
    """
    shutil.copytree(
        bundled_directory(), target, ignore=shutil.ignore_patterns("__pycache__")
    )
    if changes:
        definition = yaml.safe_load(
            (target / "survey.yaml").read_text(encoding="utf-8")
        )
        for sheet in definition["sheets"]:
            if "rows" in changes and sheet["kind"] == "table":
                sheet["rows"] = changes["rows"]
        (target / "survey.yaml").write_text(
            yaml.safe_dump(definition, allow_unicode=True, sort_keys=False),
            encoding="utf-8",
        )
    return target


@pytest.fixture(scope="session")
def small_survey(tmp_path_factory: pytest.TempPathFactory) -> Survey:
    """The bundled survey with 20 input rows instead of 500."""
    return load_survey(
        copy_vocabularies(tmp_path_factory.mktemp("vocabularies") / "small", rows=20)
    )


@pytest.fixture(scope="session")
def libreoffice() -> None:
    """Skip the test with the reason when LibreOffice cannot be driven here."""
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(f"LibreOffice indisponible : {reason}")


@pytest.fixture(scope="session")
def realfiles() -> Path:
    """The folder of third-party spreadsheets; skipped when it is not next to the project."""
    if not REALFILES.is_dir():
        pytest.skip(
            f"third-party spreadsheets not found at {REALFILES} (set PANORAMA_REALFILES)"
        )
    return REALFILES
