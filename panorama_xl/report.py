"""Render check reports for people (text) and for programs (JSON).

JSON fields are documented in ``docs/check-report-json.md``; the text form
is a summary line per file followed by a table of its problems.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Sequence

from panorama_xl.check import STATUS_LABELS, FileReport
from panorama_xl.survey import Survey

#: Version of the JSON document layout; raised when a field changes meaning.
JSON_FORMAT_VERSION = 1

SEVERITY_WORDS = {"error": "ERREUR", "warning": "AVERT."}
# Problems after which the file is not counted for any body, although it names one.
_RESPONDENT_CONFLICTS = ("respondent-mismatch", "respondent-unexpected")


def respondent_label(survey: Survey, code: str | None) -> str:
    if not code:
        return "collectivité non identifiée"
    entry = survey.respondents.by_code.get(code)
    return entry.label if entry else code


def summary_line(report: FileReport, survey: Survey) -> str:
    """Return the one-line summary of a file: status, body and counts."""
    parts = [f"{report.path} : {STATUS_LABELS[report.status]}"]
    if not report.unreadable:
        if report.respondent is None and any(
            problem.code in _RESPONDENT_CONFLICTS for problem in report.problems
        ):
            parts.append("collectivité à vérifier (voir ci-dessous)")
        else:
            parts.append(respondent_label(survey, report.respondent))
        parts.append(f"{report.row_count()} ligne(s) d'applications")
    parts.append(
        f"{len(report.errors)} erreur(s), {len(report.warnings)} avertissement(s)"
    )
    return " — ".join(parts)


def render_text(
    reports: Sequence[FileReport], survey: Survey, width: int | None = None
) -> str:
    """Render the reports as text: one summary line per file, then its problems as a table."""
    width = width or max(80, min(shutil.get_terminal_size((100, 20)).columns, 140))
    lines: list[str] = []
    for report in reports:
        lines.append(summary_line(report, survey))
        if report.problems:
            lines.extend(_problem_table(report, width))
        lines.append("")
    lines.append(_totals(reports))
    return "\n".join(lines)


def _problem_table(report: FileReport, width: int) -> list[str]:
    rows = [("Gravité", "Cellule", "Colonne", "Valeur", "Problème")]
    for problem in report.problems:
        location = f"{problem.sheet}!{problem.cell}" if problem.cell else problem.sheet
        rows.append(
            (
                SEVERITY_WORDS.get(problem.severity, problem.severity),
                location,
                problem.column,
                _clip(problem.value, 24),
                problem.message,
            )
        )
    widths = [max(len(row[index]) for row in rows) for index in range(4)]
    widths = [min(value, limit) for value, limit in zip(widths, (7, 22, 24, 24))]
    indent = 2 + sum(widths) + 2 * 4
    message_width = max(30, width - indent)
    out: list[str] = []
    for position, row in enumerate(rows):
        cells = [_clip(text, size).ljust(size) for text, size in zip(row[:4], widths)]
        wrapped = _wrap(row[4], message_width) or [""]
        out.append("  " + "  ".join(cells) + "  " + wrapped[0])
        out.extend(" " * indent + line for line in wrapped[1:])
        if position > 0:
            problem = report.problems[position - 1]
            for text in (
                f"→ {problem.suggestion}" if problem.suggestion else "",
                f"Attendu : {problem.expected}"
                if problem.expected and problem.expected not in problem.suggestion
                else "",
            ):
                for line in _wrap(text, message_width):
                    out.append(" " * indent + line)
    return out


_NO_BREAK_AS_SPACE = str.maketrans({"\u00a0": " "})


def _wrap(text: str, width: int) -> list[str]:
    """Wrap ``text`` without parting a word from its quotation marks or punctuation.

    French puts a space inside « » and before ? ! ; and :. Those spaces are
    made non-breaking while wrapping, then printed as plain spaces.
    """
    bound = (
        text.replace("« ", "«\u00a0")
        .replace(" »", "\u00a0»")
        .replace(" ?", "\u00a0?")
        .replace(" !", "\u00a0!")
        .replace(" ;", "\u00a0;")
        .replace(" :", "\u00a0:")
    )
    return [line.translate(_NO_BREAK_AS_SPACE) for line in textwrap.wrap(bound, width)]


def _clip(text: str, size: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= size else text[: size - 1] + "…"


def _totals(reports: Sequence[FileReport]) -> str:
    counts = {status: 0 for status in STATUS_LABELS}
    for report in reports:
        counts[report.status] += 1
    details = ", ".join(
        f"{label} : {counts[status]}" for status, label in STATUS_LABELS.items()
    )
    return f"{len(reports)} fichier(s) contrôlé(s) — {details}."


def report_to_json(report: FileReport, survey: Survey) -> dict[str, object]:
    """Return the JSON object of one file (see ``docs/check-report-json.md``)."""
    fingerprint = report.fingerprint
    return {
        "file": report.path,
        "status": report.status,
        "respondent": report.respondent,
        "respondent_label": respondent_label(survey, report.respondent)
        if report.respondent
        else None,
        "format": report.format,
        "sha256": report.sha256,
        "survey": fingerprint.survey if fingerprint else None,
        "year": _number(fingerprint.year) if fingerprint else None,
        "version": fingerprint.version if fingerprint else None,
        "rows": report.row_count(),
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "problems": [problem.to_json() for problem in report.problems],
    }


def _number(text: str) -> int | str:
    """Return a fingerprint's year as a number, like the document's own ``year``, or a non-numeric one unchanged."""
    return int(text) if text.isascii() and text.isdigit() else text


def render_json(reports: Sequence[FileReport], survey: Survey, year: int) -> str:
    document = {
        "format_version": JSON_FORMAT_VERSION,
        "survey": survey.id,
        "year": year,
        "files": [report_to_json(report, survey) for report in reports],
    }
    return json.dumps(document, ensure_ascii=False, indent=2)
