"""Collect a campaign: check every returned file, store the accepted ones, and say who answered.

``collect`` walks a folder, checks each file in worker processes, stores the
accepted returns in the history database (the latest valid file of each body
wins), writes the annotated copy of every return with errors, and builds
the campaign board: every expected body with its status, and every file
with what became of it.

A file is attributed to a body by its content (fingerprint or Identité
sheet). A sub-folder named after a body's code (``D26/``) also says who the
files inside must come from; for a file that cannot be read, a body code in
its name is used to attribute it on the board.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from panorama_xl.annotate import SUFFIX, annotated_name
from panorama_xl.check import (
    STATUS_ERRORS,
    STATUS_LABELS,
    STATUS_UNREADABLE,
    FileReport,
)
from panorama_xl.history import History
from panorama_xl.runner import Task, check_many
from panorama_xl.safety import Limits
from panorama_xl.survey import Survey

STATUS_MISSING = "missing"

#: Board statuses, from best to worst, with their French labels.
BOARD_LABELS = {**STATUS_LABELS, STATUS_MISSING: "pas de réponse"}

ANNOTATED_FOLDER = "a-corriger"


@dataclass
class FileSummary:
    """What became of one file of the campaign folder."""

    path: str
    status: str
    respondent: str | None
    attributed_by_name: bool
    rows: int
    errors: int
    warnings: int
    received: str
    sha256: str
    first_problem: str = ""
    annotated: str = ""
    storage: str = ""

    @property
    def name(self) -> str:
        return Path(self.path).name


@dataclass
class BodyStatus:
    """One expected body on the board."""

    code: str
    label: str
    region: str
    status: str
    file: str = ""
    received: str = ""
    rows: int = 0
    errors: int = 0
    warnings: int = 0
    others: list[str] = field(default_factory=list)
    note: str = ""


@dataclass
class Campaign:
    """The outcome of one collect run."""

    year: int
    files: list[FileSummary]
    bodies: list[BodyStatus]
    board: Path | None = None
    annotated_folder: Path | None = None
    #: Questionnaire year of each file that has a fingerprint, by path.
    template_years: dict[str, str] = field(default_factory=dict)

    @property
    def unattributed(self) -> list[FileSummary]:
        return [summary for summary in self.files if summary.respondent is None]

    def count(self, status: str) -> int:
        return sum(1 for body in self.bodies if body.status == status)


def campaign_files(directory: Path, exclude: list[Path]) -> list[Path]:
    """Return the files of the campaign folder, sorted, without hidden files, office lock files or ``exclude``."""
    excluded = [path.resolve() for path in exclude]
    found = []
    for path in sorted(directory.rglob("*")):
        if not path.is_file() or path.name.startswith((".", "~$")):
            continue
        resolved = path.resolve()
        if any(resolved == item or item in resolved.parents for item in excluded):
            continue
        found.append(path)
    return found


class Attribution:
    """Find the body a path points to, from a folder name or a token of the file name."""

    def __init__(self, survey: Survey, year: int):
        codes = [entry.code for entry in survey.respondents.offered(year)]
        self.codes = {code.upper(): code for code in codes}
        longest_first = sorted(codes, key=len, reverse=True)
        self.pattern = re.compile(
            r"(?<![A-Za-z0-9])("
            + "|".join(re.escape(code) for code in longest_first)
            + r")(?![A-Za-z0-9])",
            re.IGNORECASE,
        )

    def from_folders(self, path: Path, root: Path) -> str | None:
        """Return the body code of the nearest folder named after one, between ``root`` and ``path``."""
        for folder in path.relative_to(root).parents:
            if folder.name.upper() in self.codes:
                return self.codes[folder.name.upper()]
        return None

    def from_name(self, path: Path) -> str | None:
        match = self.pattern.search(path.stem)
        return self.codes[match.group(1).upper()] if match else None


def collect(
    directory: Path,
    survey: Survey,
    year: int,
    *,
    output: Path,
    database: Path,
    workers: int | None = None,
    limits: Limits | None = None,
    progress: Callable[[FileSummary], None] | None = None,
) -> Campaign:
    """Check and store a campaign folder, write the annotated copies and the board.

    Reports are handled as they arrive and only a short summary of each is
    kept, so memory does not grow with the number of files.
    """
    from panorama_xl.board import write_board

    directory = Path(directory)
    output = Path(output)
    annotated_folder = output / ANNOTATED_FOLDER
    attribution = Attribution(survey, year)
    paths = campaign_files(directory, [output, database])
    # Names are decided here, in path order, so that workers never pick the same one.
    taken: set[str] = set()
    tasks = [
        Task(
            path,
            attribution.from_folders(path, directory),
            annotated_folder / annotated_name(path, taken),
        )
        for path in paths
    ]
    expected = {str(task.path): task.expected_respondent for task in tasks}
    summaries: list[FileSummary] = []
    template_years: dict[str, str] = {}

    with History(database) as history:
        for report in check_many(tasks, survey, year, workers=workers, limits=limits):
            if report.fingerprint is not None:
                template_years[report.path] = report.fingerprint.year
            summary = _summarise(report, attribution, expected.get(report.path))
            summary.annotated = report.annotated
            if report.accepted and report.respondent:
                summary.storage = history.store(report, year)
            summaries.append(summary)
            if progress is not None:
                progress(summary)
        stored = {item.respondent: item for item in history.returns(year)}

    _drop_needless_copies(summaries, stored, annotated_folder)
    summaries.sort(key=lambda summary: summary.path)
    bodies = _board_rows(survey, year, summaries, stored)
    written = any(summary.annotated for summary in summaries)
    campaign = Campaign(
        year,
        summaries,
        bodies,
        annotated_folder=annotated_folder if written else None,
        template_years=template_years,
    )
    campaign.board = write_board(
        campaign, survey, output / f"tableau-de-bord-{year}.xlsx"
    )
    return campaign


def _drop_needless_copies(
    summaries: list[FileSummary], stored: dict, folder: Path
) -> None:
    """Keep in ``folder`` only the annotated copies of files that still need correcting.

    Removes the copy of a file that a later accepted return replaced, and any
    copy left by an earlier run, which would otherwise be sent back by mistake.
    """
    for summary in summaries:
        accepted = stored.get(summary.respondent or "")
        if (
            summary.annotated
            and accepted is not None
            and (summary.received, summary.name)
            < (accepted.received_at, accepted.file_name)
        ):
            Path(summary.annotated).unlink(missing_ok=True)
            summary.annotated = ""
    if not folder.is_dir():
        return
    current = {
        Path(summary.annotated).name for summary in summaries if summary.annotated
    }
    for path in folder.glob(f"*{SUFFIX}*.xlsx"):
        if path.name not in current:
            path.unlink()


def _summarise(
    report: FileReport, attribution: Attribution, folder_code: str | None
) -> FileSummary:
    """Summarise a report; a file whose content names no body is attributed by folder, then name."""
    respondent = report.respondent
    by_name = False
    if respondent is None:
        respondent = folder_code or attribution.from_name(Path(report.path))
        by_name = respondent is not None
    first = report.errors[0].message if report.errors else ""
    return FileSummary(
        path=report.path,
        status=report.status,
        respondent=respondent,
        attributed_by_name=by_name,
        rows=report.row_count(),
        errors=len(report.errors),
        warnings=len(report.warnings),
        received=report.modified,
        sha256=report.sha256,
        first_problem=first,
    )


def _board_rows(
    survey: Survey, year: int, summaries: list[FileSummary], stored: dict
) -> list[BodyStatus]:
    regions = survey.vocabularies.get("regions")
    by_body: dict[str, list[FileSummary]] = {}
    for summary in summaries:
        if summary.respondent:
            by_body.setdefault(summary.respondent, []).append(summary)
    bodies = []
    for entry in survey.respondents.offered(year):
        region_code = entry.links.get("regions", "")
        region = (
            regions.by_code[region_code].label
            if regions and region_code in regions.by_code
            else region_code
        )
        files = sorted(
            by_body.get(entry.code, []), key=lambda item: (item.received, item.name)
        )
        body = BodyStatus(entry.code, entry.label, region, STATUS_MISSING)
        kept = stored.get(entry.code)
        if kept is not None:
            body.status = kept.status
            body.file = kept.file_name
            body.received = kept.received_at
            body.rows = kept.rows
            body.warnings = kept.warnings
            body.others = [item.name for item in files if item.sha256 != kept.sha256]
            newer = [
                item.name
                for item in files
                if item.sha256 != kept.sha256
                and (item.received, item.name) > (kept.received_at, kept.file_name)
                and item.status in (STATUS_ERRORS, STATUS_UNREADABLE)
            ]
            if newer:
                body.note = "fichier plus récent non retenu (erreurs) : " + ", ".join(
                    newer
                )
        elif files:
            readable = [item for item in files if item.status != STATUS_UNREADABLE]
            chosen = (readable or files)[-1]
            body.status = chosen.status
            body.file = chosen.name
            body.received = chosen.received
            body.rows = chosen.rows
            body.errors = chosen.errors
            body.warnings = chosen.warnings
            body.others = [item.name for item in files if item is not chosen]
            body.note = chosen.first_problem
            if chosen.attributed_by_name:
                body.note = "Rattaché par le nom du dossier ou du fichier. " + body.note
        bodies.append(body)
    return bodies
