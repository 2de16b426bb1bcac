"""LibreOffice Calc, headless, as a real respondent's spreadsheet program.

Used by the demo (returns filled through LibreOffice itself), by the tests
(round trips, fills, recalculation) and by the user guide's pictures. Nothing
in the check or consolidation stages needs LibreOffice.

Each batch starts one ``soffice`` with a private profile and runs
``lo_worker.py`` under a Python that has the ``uno`` module.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from panorama_xl.errors import PanoramaError

WORKER = Path(__file__).with_name("lo_worker.py")

_PROFILE_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""


class LibreOfficeError(PanoramaError):
    """LibreOffice is missing, did not start, or failed a job."""


def soffice_path() -> str | None:
    """Return the path of ``soffice``, or None when LibreOffice is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


@lru_cache(maxsize=1)
def uno_python() -> str | None:
    """Return a Python interpreter that can ``import uno``, or None."""
    candidates = [sys.executable, "/usr/bin/python3", shutil.which("python3") or ""]
    for candidate in dict.fromkeys(c for c in candidates if c):
        try:
            done = subprocess.run(
                [candidate, "-c", "import uno"], capture_output=True, timeout=30
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return candidate
    return None


def unavailable_reason() -> str | None:
    """Return why LibreOffice cannot be driven here, or None when it can."""
    if soffice_path() is None:
        return "LibreOffice (soffice) n'est pas installé : paquet Debian libreoffice-calc-nogui"
    if uno_python() is None:
        return "aucun Python n'a le module uno : paquet Debian python3-uno"
    return None


@dataclass
class Job:
    """One workbook to open, optionally fill, and store under one or more names."""

    input: Path
    outputs: list[Path] = field(default_factory=list)
    cells: list[tuple[str, str, object]] = field(default_factory=list)
    mode: str = "type"
    check_validity: str | None = None
    recalculate: bool = False
    password: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "input": str(self.input),
            "outputs": [str(path) for path in self.outputs],
            "cells": [
                [sheet, cell, _jsonable(value)] for sheet, cell, value in self.cells
            ],
            "mode": self.mode,
            "check_validity": self.check_validity,
            "recalculate": self.recalculate,
            "password": self.password,
        }


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


@dataclass
class JobResult:
    """What LibreOffice did with one job."""

    saved: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    unreachable: list[tuple[str, str]] = field(default_factory=list)
    invalid: list[tuple[str, str, str]] = field(default_factory=list)
    error: str | None = None


def run_jobs(jobs: list[Job], *, timeout: float = 600) -> list[JobResult]:
    """Run the jobs in one headless LibreOffice session and return one result per job.

    Raises:
        LibreOfficeError: LibreOffice is not installed, did not start, or the
            batch exceeded ``timeout`` seconds.
    """
    reason = unavailable_reason()
    if reason is not None:
        raise LibreOfficeError(reason)
    python = uno_python()
    assert python is not None
    with tempfile.TemporaryDirectory(prefix="panorama-lo-") as profile:
        user = Path(profile) / "user"
        user.mkdir(parents=True)
        (user / "registrymodifications.xcu").write_text(
            _PROFILE_SETTINGS, encoding="utf-8"
        )
        request = {"profile": profile, "jobs": [job.to_json() for job in jobs]}
        environment = dict(os.environ, SOFFICE=soffice_path() or "soffice")
        # The system Python must not pick up this virtual environment's packages.
        environment.pop("PYTHONPATH", None)
        environment.pop("PYTHONHOME", None)
        try:
            done = subprocess.run(
                [python, str(WORKER)],
                input=json.dumps(request),
                capture_output=True,
                text=True,
                timeout=timeout,
                env=environment,
            )
        except subprocess.TimeoutExpired as error:
            raise LibreOfficeError(
                f"LibreOffice n'a pas terminé en {timeout:.0f} s"
            ) from error
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 and len(lines) < len(jobs):
        raise LibreOfficeError(
            f"LibreOffice a échoué (code {done.returncode}) : {done.stderr.strip()[-500:]}"
        )
    results = []
    for line in lines:
        data = json.loads(line)
        results.append(
            JobResult(
                saved=data.get("saved", []),
                refused=[tuple(item) for item in data.get("refused", [])],
                unreachable=[tuple(item) for item in data.get("unreachable", [])],
                invalid=[tuple(item) for item in data.get("invalid", [])],
                error=data.get("error"),
            )
        )
    return results


def convert(source: Path, target: Path, **options: object) -> Path:
    """Open ``source`` in LibreOffice and store it as ``target`` (format from the extension)."""
    (result,) = run_jobs([Job(Path(source), [Path(target)])], **options)  # type: ignore[arg-type]
    if result.error or not Path(target).is_file():
        raise LibreOfficeError(
            f"conversion de {source} en {target} impossible : {result.error}"
        )
    return Path(target)
