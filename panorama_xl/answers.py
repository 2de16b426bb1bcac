"""Values placed in a questionnaire, and notes attached to its cells.

The same writer produces the blank template (no answers), a personalised copy
(the respondent only), the annotated copy sent back after a check (the
department's values with notes on the cells to fix) and next year's copy
pre-filled with this year's answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Answers:
    """Cell values by sheet key and field key, as they should appear in the workbook.

    ``tables`` maps a table sheet's key to its rows by input row index
    (0 = first input row), so that row positions survive a round trip.
    """

    forms: dict[str, dict[str, object]] = field(default_factory=dict)
    tables: dict[str, dict[int, dict[str, object]]] = field(default_factory=dict)

    def form_value(self, sheet: str, key: str) -> object:
        return self.forms.get(sheet, {}).get(key)

    def row_count(self, sheet: str) -> int:
        return len(self.tables.get(sheet, {}))


@dataclass(frozen=True)
class CellNote:
    """A problem to show in an annotated workbook: on a cell, or on the whole file.

    ``sheet`` and ``field`` are keys of the survey definition; ``row`` is the
    input row index in a table sheet and None in a form sheet. A note without a
    sheet concerns the whole file and appears only on the « Anomalies » sheet.
    """

    severity: str
    code: str
    message: str
    suggestion: str = ""
    value: str = ""
    sheet: str | None = None
    field: str | None = None
    row: int | None = None
