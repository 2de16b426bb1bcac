"""The annotated copy the coordinator sends back: this year's template, filled with
the department's values, with every problem highlighted, commented and listed.

Rebuilding from the template, rather than editing the returned file, means
that dropdowns, protection and fingerprint are intact whatever the
department's program did to them, and the returned file is never modified.
"""

from __future__ import annotations

from pathlib import Path

from panorama_xl.answers import Answers, CellNote
from panorama_xl.check import FileReport
from panorama_xl.template import QuestionnaireWriter

SUFFIX = "-a-corriger"


def annotated_name(source: Path | str, taken: set[str] | None = None) -> str:
    """Return the source file's name with ``-a-corriger.xlsx``, numbered if ``taken`` has it.

    ``panorama-2027-D26.ods`` gives ``panorama-2027-D26-a-corriger.xlsx``.
    """
    stem = Path(source).stem + SUFFIX
    name = f"{stem}.xlsx"
    number = 2
    while taken is not None and name in taken:
        name = f"{stem}-{number}.xlsx"
        number += 1
    if taken is not None:
        taken.add(name)
    return name


def annotation(report: FileReport) -> tuple[Answers, list[CellNote]]:
    """Return the values to write back and the notes to attach, from a check report."""
    answers = Answers()
    for sheet, display in report.form_display.items():
        answers.forms[sheet] = {
            key: value for key, value in display.items() if value is not None
        }
    for sheet, records in report.tables.items():
        answers.tables[sheet] = {
            record.index: {
                key: value for key, value in record.display.items() if value is not None
            }
            for record in records
        }
    notes = [
        CellNote(
            severity=problem.severity,
            code=problem.code,
            message=problem.message,
            suggestion=problem.suggestion,
            value=problem.value,
            sheet=problem.sheet_key if problem.field else None,
            field=problem.field,
            row=problem.row,
        )
        for problem in report.problems
    ]
    return answers, notes


def write_annotated(
    report: FileReport, writer: QuestionnaireWriter, target: Path
) -> Path | None:
    """Write the annotated copy of one checked file to ``target``; None for an unreadable file."""
    if report.unreadable:
        return None
    answers, notes = annotation(report)
    respondent = (
        report.fingerprint.respondent
        if report.fingerprint and report.fingerprint.respondent
        else None
    )
    if respondent is not None and respondent not in writer.survey.respondents.by_code:
        respondent = None
    return writer.write(
        Path(target),
        respondent=respondent,
        answers=answers,
        notes=notes,
    )
