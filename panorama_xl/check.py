"""Check one returned workbook and report exactly what the department must fix.

The steps, in order: identify and open the file safely (``reader``),
recognise the questionnaire from its fingerprint, find the sheets, columns
and header rows the department may have moved, read every input cell through
``CellChecker``, then apply the rules that span several cells (required
cells of started rows, « Autre » and its précision, cascades, duplicates).

A file never raises out of ``Checker.check``: whatever goes wrong becomes a
problem of the report, so that a batch always goes on with the next file.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from panorama_xl.cells import CellChecker, Where, locate
from panorama_xl.fingerprint import Fingerprint
from panorama_xl.layout import (
    FINGERPRINT_SHEET,
    FORM_FIRST_ROW,
    FORM_INPUT_COLUMN,
    FORM_LABEL_COLUMN,
    REQUIRED_MARK,
    STATUS_LABEL,
    Field,
    FormLayout,
    Layout,
    TableLayout,
)
from panorama_xl.normalize import display_text, is_blank, normalize_text
from panorama_xl.problems import ERROR, Problem
from panorama_xl.reader import SheetInfo, Workbook, open_workbook
from panorama_xl.safety import Limits, ReturnedFileError
from panorama_xl.survey import Survey
from panorama_xl.vocabulary import OTHER_CODE, OTHER_LABEL

#: How far below the expected header row a moved header is looked for.
HEADER_SEARCH_ROWS = 15
#: Extra rows read below the input area to find values typed outside it.
OVERFLOW_ROWS = 2000

STATUS_VALID = "valid"
STATUS_WARNINGS = "warnings"
STATUS_ERRORS = "errors"
STATUS_UNREADABLE = "unreadable"
#: File statuses, from best to worst, with the French labels shown in reports and on the board.
STATUS_LABELS = {
    STATUS_VALID: "valide",
    STATUS_WARNINGS: "valide avec avertissements",
    STATUS_ERRORS: "erreurs à corriger",
    STATUS_UNREADABLE: "illisible",
}


@dataclass
class Record:
    """One filled row of a table sheet.

    ``index`` is the input row in the survey layout (0 = first input row) and
    ``source_row`` the 1-based row number in the returned file. ``values`` holds
    the canonical values (codes, numbers, dates, texts) and ``display`` what an
    annotated copy shows in each cell.
    """

    index: int
    source_row: int
    values: dict[str, object] = field(default_factory=dict)
    display: dict[str, object] = field(default_factory=dict)


@dataclass
class FileReport:
    """Everything the checker found in one returned file."""

    path: str
    sha256: str = ""
    size: int = 0
    modified: str = ""
    format: str | None = None
    fingerprint: Fingerprint | None = None
    respondent: str | None = None
    problems: list[Problem] = field(default_factory=list)
    forms: dict[str, dict[str, object]] = field(default_factory=dict)
    form_display: dict[str, dict[str, object]] = field(default_factory=dict)
    tables: dict[str, list[Record]] = field(default_factory=dict)
    unreadable: bool = False
    seconds: float = 0.0
    annotated: str = ""

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.severity != ERROR]

    @property
    def status(self) -> str:
        if self.unreadable:
            return STATUS_UNREADABLE
        if self.errors:
            return STATUS_ERRORS
        if self.problems:
            return STATUS_WARNINGS
        return STATUS_VALID

    @property
    def accepted(self) -> bool:
        """Return True when the rows may go into the history: read, and no error."""
        return self.status in (STATUS_VALID, STATUS_WARNINGS)

    def row_count(self) -> int:
        return sum(len(records) for records in self.tables.values())


class _Stop(Exception):
    """Raised inside a check when one problem makes the rest of the file meaningless."""


class Checker:
    """Checks returned files against one survey year."""

    def __init__(self, survey: Survey, year: int, limits: Limits | None = None):
        self.survey = survey
        self.year = year
        self.layout = Layout(survey)
        self.limits = limits or Limits()
        # Kept across files so that their caches of checked values serve every file.
        self.cell_checkers = {
            date1904: CellChecker(survey, year, date1904) for date1904 in (False, True)
        }

    # Entry point -------------------------------------------------------------------

    def check(
        self, path: Path | str, expected_respondent: str | None = None
    ) -> FileReport:
        """Check one file; never raises for a problem of the file itself."""
        started = time.perf_counter()
        path = Path(path)
        report = FileReport(str(path))
        try:
            self._describe_file(path, report)
            book = open_workbook(path, self.limits)
        except ReturnedFileError as error:
            report.unreadable = True
            report.problems.append(
                Problem.of(
                    error.code, detail=error.detail, seconds=int(self.limits.seconds)
                )
            )
            report.seconds = time.perf_counter() - started
            return report
        except OSError as error:
            report.unreadable = True
            report.problems.append(Problem.of("file-corrupt", detail=str(error)))
            report.seconds = time.perf_counter() - started
            return report
        report.format = book.format
        try:
            _FileCheck(self, book, report, expected_respondent).run()
        except _Stop:
            pass
        except ReturnedFileError as error:
            report.unreadable = True
            report.problems.append(
                Problem.of(
                    error.code, detail=error.detail, seconds=int(self.limits.seconds)
                )
            )
        finally:
            book.close()
        report.problems.sort(key=self._reading_order)
        report.seconds = time.perf_counter() - started
        return report

    def _reading_order(self, problem: Problem) -> tuple[int, int, int]:
        """Sort key: whole-file problems first, then by sheet, row and column."""
        sheets = [layout.name for layout in self.layout.sheets]
        if not problem.sheet:
            return (-1, 0, 0)
        sheet = sheets.index(problem.sheet) if problem.sheet in sheets else len(sheets)
        match = _CELL.match(problem.cell)
        if match is None:
            return (sheet, -1, 0)
        return (sheet, int(match.group(2)), _column_number(match.group(1)))

    @staticmethod
    def _describe_file(path: Path, report: FileReport) -> None:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        stat = path.stat()
        report.sha256 = digest.hexdigest()
        report.size = stat.st_size
        report.modified = dt.datetime.fromtimestamp(
            stat.st_mtime, dt.timezone.utc
        ).isoformat(timespec="seconds")


class _FileCheck:
    """The check of one opened workbook; holds the state shared by the steps."""

    def __init__(
        self, checker: Checker, book: Workbook, report: FileReport, expected: str | None
    ):
        self.checker = checker
        self.survey = checker.survey
        self.layout = checker.layout
        self.year = checker.year
        self.book = book
        self.report = report
        self.expected = expected
        self.cells = checker.cell_checkers[book.date1904]
        self._required: dict[str, list[Field]] = {}

    def add(self, problem: Problem) -> None:
        self.report.problems.append(problem)

    def stop(self, problem: Problem) -> None:
        self.add(problem)
        raise _Stop

    def run(self) -> None:
        if self.book.macros:
            self.add(Problem.of("file-macros"))
        if self.book.format == "xls":
            self.add(Problem.of("file-legacy-format"))
        self.recognise_template()
        sheets = self.find_sheets()
        for layout in self.layout.sheets:
            info = sheets.get(layout.key)
            if info is None:
                continue
            self.check_sheet_structure(layout, info)
            if isinstance(layout, FormLayout):
                self.read_form(layout, info)
            else:
                self.read_table(layout, info)
        self.check_respondent()

    # Which questionnaire ------------------------------------------------------------

    def read_fingerprint(self) -> Fingerprint | None:
        found = Fingerprint.from_mapping(self.book.properties)
        if found is not None:
            return found
        info = self.book.sheet(FINGERPRINT_SHEET)
        if info is None:
            return None
        rows = self.book.values(info.name, 50)
        values = {
            display_text(row[0]): row[2] for row in rows[1:] if len(row) >= 3 and row[0]
        }
        return Fingerprint.from_mapping(values)

    def recognise_template(self) -> None:
        definition = self.survey.definition
        fingerprint = self.read_fingerprint()
        self.report.fingerprint = fingerprint
        if fingerprint is None:
            names = {normalize_text(info.name) for info in self.book.sheets}
            expected = {normalize_text(layout.name) for layout in self.layout.sheets}
            code = (
                "template-unknown-lookalike"
                if len(names & expected) >= 2
                else "template-unknown"
            )
            self.stop(Problem.of(code, title=definition.title, year=self.year))
        assert fingerprint is not None
        if fingerprint.survey != self.survey.id:
            self.stop(
                Problem.of(
                    "template-other-survey",
                    found=fingerprint.survey,
                    expected=self.survey.id,
                    year=self.year,
                )
            )
        if fingerprint.respondent in self.survey.respondents.by_code:
            # A personalised copy names its body even when it is the wrong questionnaire.
            # The check of the respondent, later, may replace it by another body or none.
            self.report.respondent = fingerprint.respondent
        if fingerprint.year != str(self.year):
            self.stop(
                Problem.of(
                    "template-wrong-year",
                    found=fingerprint.year,
                    expected=str(self.year),
                )
            )
        accepted = {definition.version, *definition.accepted_versions}
        if fingerprint.version not in accepted:
            self.stop(
                Problem.of(
                    "template-old-version",
                    found=fingerprint.version,
                    expected=definition.version,
                )
            )
        if fingerprint.digest != self.survey.digest:
            self.add(Problem.of("template-changed"))

    # Sheets ----------------------------------------------------------------------------

    def find_sheets(self) -> dict[str, SheetInfo]:
        """Map each sheet of the layout to the file's sheet, by name, then by similar name."""
        found: dict[str, SheetInfo] = {}
        by_key = {normalize_text(info.name): info for info in self.book.sheets}
        taken: set[str] = set()
        for layout in self.layout.sheets:
            info = self.book.sheet(layout.name) or by_key.get(
                normalize_text(layout.name)
            )
            if info is not None:
                found[layout.key] = info
                taken.add(info.name)
        for layout in self.layout.sheets:
            if layout.key in found:
                continue
            candidates = [
                info.name for info in self.book.sheets if info.name not in taken
            ]
            close = difflib.get_close_matches(layout.name, candidates, n=1, cutoff=0.6)
            if close:
                info = self.book.sheet(close[0])
                assert info is not None
                found[layout.key] = info
                taken.add(info.name)
                self.add(
                    Problem.of("sheet-renamed", sheet=layout.name, found=info.name)
                )
            else:
                self.add(Problem.of("sheet-missing", sheet=layout.name))
        return found

    def check_sheet_structure(
        self, layout: FormLayout | TableLayout, info: SheetInfo
    ) -> None:
        if info.protected is False:
            self.add(Problem.of("protection-removed", sheet=info.name))
        if info.validations == 0:
            self.add(Problem.of("validation-removed", sheet=info.name))
        for sqref in info.long_list_validations:
            self.add(Problem.of("validation-removed", sheet=info.name, cell=sqref))

    def merged_problems(
        self, info: SheetInfo, top: int, left: int, bottom: int, right: int
    ) -> None:
        for first_row, first_column, last_row, last_column in info.merged:
            if (
                first_row > bottom
                or last_row < top
                or first_column > right
                or last_column < left
            ):
                continue
            area = f"{xl_rowcol_to_cell(first_row, first_column)}:{xl_rowcol_to_cell(last_row, last_column)}"
            self.add(Problem.of("merged-cells", sheet=info.name, cell=area, found=area))

    # Form sheets -------------------------------------------------------------------------

    def read_form(self, form: FormLayout, info: SheetInfo) -> None:
        rows = self.book.values(
            info.name, FORM_FIRST_ROW + len(form.fields) + HEADER_SEARCH_ROWS
        )
        labels = {}
        for index, row in enumerate(rows):
            if row and len(row) > FORM_LABEL_COLUMN:
                labels.setdefault(_header_key(row[FORM_LABEL_COLUMN]), index)
        values: dict[str, object] = {}
        display: dict[str, object] = {}
        self.merged_problems(
            info,
            FORM_FIRST_ROW,
            FORM_INPUT_COLUMN,
            FORM_FIRST_ROW + len(form.fields),
            FORM_INPUT_COLUMN,
        )
        for item in form.fields:
            expected_row = form.row_of[item.key]
            row = expected_row
            if _header_key(_cell(rows, row, FORM_LABEL_COLUMN)) != _header_key(
                item.label
            ):
                row = labels.get(_header_key(item.label), expected_row)
            raw = _cell(rows, row, FORM_INPUT_COLUMN)
            where = Where(
                info.name, xl_rowcol_to_cell(row, FORM_INPUT_COLUMN), form.key, None
            )
            result = self.cells.check(
                item, raw, where, info.formula(row, FORM_INPUT_COLUMN)
            )
            values[item.key] = result.value
            display[item.key] = result.display
            self.report.problems.extend(result.problems)
            if (
                item.required
                and is_blank(raw)
                and (row, FORM_INPUT_COLUMN) not in info.formulas
            ):
                self.add(
                    self.cells.problem(
                        "required-missing",
                        item,
                        where,
                        "",
                        context="",
                        expected=_required_hint(item),
                    )
                )
        self.other_rules(
            form.fields,
            values,
            display,
            lambda key: Where(
                info.name,
                xl_rowcol_to_cell(form.row_of[key], FORM_INPUT_COLUMN),
                form.key,
                None,
            ),
        )
        self.report.forms[form.key] = values
        self.report.form_display[form.key] = display

    # Table sheets --------------------------------------------------------------------------

    def read_table(self, table: TableLayout, info: SheetInfo) -> None:
        max_rows = table.header_row + HEADER_SEARCH_ROWS + table.rows + OVERFLOW_ROWS
        rows = self.book.values(info.name, max_rows)
        header_row, columns = self.map_columns(table, info, rows)
        if header_row is None:
            return
        first = header_row + 1
        last = first + table.rows - 1
        mapped = sorted(columns.values())
        if mapped:
            self.merged_problems(info, first, min(mapped), last, max(mapped))
        self.overflow(table, info, rows, last, columns)

        # Formulas of the input columns only: the « Contrôle » column has one on every row.
        formula_rows = {row for row, column in info.formulas if column in set(mapped)}
        records: list[Record] = []
        for index in range(table.rows):
            row = first + index
            values = rows[row] if row < len(rows) else []
            # Most rows of the 500 are empty: skip them before building anything.
            filled = [
                values[column]
                for column in mapped
                if column < len(values) and values[column] not in ("", None)
            ]
            if row not in formula_rows and all(is_blank(value) for value in filled):
                continue
            raw = {
                key: values[column] if column < len(values) else None
                for key, column in columns.items()
            }
            if row in formula_rows:
                formulas = {
                    key: info.formula(row, column) for key, column in columns.items()
                }
            else:
                formulas = dict.fromkeys(columns)
            records.append(
                self.read_row(table, info, index, row, raw, formulas, columns)
            )
        if not records:
            self.add(Problem.of("no-rows", sheet=info.name, sheet_key=table.key))
        self.duplicates(table, info, records, columns)
        self.report.tables[table.key] = records

    def map_columns(
        self, table: TableLayout, info: SheetInfo, rows: list[list[object]]
    ) -> tuple[int | None, dict[str, int]]:
        """Find the header row and the column of each field; report what moved."""
        wanted = {_header_key(item.label): item for item in table.fields}
        best_row, best_score = None, 0
        for row in range(
            table.header_row, min(len(rows), table.header_row + HEADER_SEARCH_ROWS)
        ):
            score = sum(1 for value in rows[row] if _header_key(value) in wanted)
            if score > best_score:
                best_row, best_score = row, score
        if best_row is None or best_score < max(2, len(table.fields) // 3):
            self.add(Problem.of("header-missing", sheet=info.name, sheet_key=table.key))
            return None, {}
        if best_row != table.header_row:
            self.add(
                Problem.of(
                    "header-moved",
                    sheet=info.name,
                    found=best_row + 1,
                    expected=table.header_row + 1,
                )
            )

        header = rows[best_row]
        columns: dict[str, int] = {}
        leftovers: list[tuple[int, str]] = []
        for column, value in enumerate(header):
            key = _header_key(value)
            item = wanted.get(key)
            if item is not None and item.key not in columns:
                columns[item.key] = column
            elif key and key != _header_key(STATUS_LABEL):
                leftovers.append((column, display_text(value)))
        missing = [item for item in table.fields if item.key not in columns]
        for column, text in leftovers:
            labels = {_header_key(item.label): item for item in missing}
            close = difflib.get_close_matches(
                _header_key(text), list(labels), n=1, cutoff=0.75
            )
            if close:
                item = labels[close[0]]
                columns[item.key] = column
                missing.remove(item)
                self.add(
                    Problem.of(
                        "column-renamed",
                        sheet=info.name,
                        cell=xl_rowcol_to_cell(best_row, column),
                        column=item.label,
                        found=text,
                    )
                )
            else:
                count = sum(
                    1
                    for row in rows[best_row + 1 :]
                    if not is_blank(_cell([row], 0, column))
                )
                if count:
                    self.add(
                        Problem.of(
                            "column-extra",
                            sheet=info.name,
                            cell=xl_rowcol_to_cell(best_row, column),
                            found=text,
                            count=count,
                        )
                    )
        for item in missing:
            self.add(
                Problem.of(
                    "column-missing",
                    sheet=info.name,
                    column=item.label,
                    sheet_key=table.key,
                    field=item.key,
                )
            )
        for item in table.fields:
            column = columns.get(item.key)
            expected = table.column_of[item.key]
            if column is not None and column != expected:
                self.add(
                    Problem.of(
                        "column-moved",
                        sheet=info.name,
                        cell=xl_rowcol_to_cell(best_row, column),
                        column=item.label,
                        expected=xl_col_to_name(expected),
                        found=xl_col_to_name(column),
                    )
                )
        return best_row, columns

    def overflow(
        self,
        table: TableLayout,
        info: SheetInfo,
        rows: list[list[object]],
        last: int,
        columns: dict[str, int],
    ) -> None:
        count = 0
        first_cell = ""
        for row in range(last + 1, len(rows)):
            for column in columns.values():
                if not is_blank(_cell(rows, row, column)):
                    count += 1
                    first_cell = first_cell or xl_rowcol_to_cell(row, column)
        if count:
            self.add(
                Problem.of(
                    "data-outside-area",
                    sheet=info.name,
                    cell=first_cell,
                    count=count,
                    found=first_cell,
                    expected=str(table.rows),
                )
            )

    def _required_fields(self, table: TableLayout) -> list[Field]:
        found = self._required.get(table.key)
        if found is None:
            found = self._required[table.key] = [
                item for item in table.fields if item.required
            ]
        return found

    def read_row(
        self,
        table: TableLayout,
        info: SheetInfo,
        index: int,
        row: int,
        raw: dict[str, object],
        formulas: dict[str, str | None],
        columns: dict[str, int],
    ) -> Record:
        record = Record(index, row + 1)

        def where(key: str) -> Where:
            return Where(
                info.name,
                (row, columns.get(key, table.column_of[key])),
                table.key,
                index,
            )

        value_of, check = self.cells.value_of, self.cells.check
        values, display, problems = record.values, record.display, self.report.problems
        for key, column in columns.items():
            item = table.fields[table.column_of[key]]
            formula = formulas[key]
            if formula is None:
                result = value_of(item, raw[key])
                if result.problems:
                    problems.extend(
                        locate(
                            result.problems,
                            Where(info.name, (row, column), table.key, index),
                        )
                    )
            else:
                result = check(
                    item,
                    raw[key],
                    Where(info.name, (row, column), table.key, index),
                    formula,
                )
                problems.extend(result.problems)
            values[key] = result.value
            display[key] = result.display
        for item in self._required_fields(table):
            if (
                item.key in columns
                and is_blank(raw[item.key])
                and not formulas[item.key]
            ):
                self.add(
                    self.cells.problem(
                        "required-missing",
                        item,
                        where(item.key),
                        "",
                        context=" dès que la ligne est commencée",
                        expected=_required_hint(item),
                    )
                )
        self.other_rules(table.fields, record.values, record.display, where)
        self.cascades(table.fields, record.values, where)
        return record

    # Rules across cells ------------------------------------------------------------------------

    def other_rules(
        self, fields, values: dict[str, object], display: dict[str, object], where
    ) -> None:
        """« Autre (préciser) » needs its précision; a précision needs « Autre »."""
        for item in fields:
            if not item.is_companion:
                continue
            if item.key not in values and item.companion_of not in values:
                continue
            parent = self._field(fields, item.companion_of)
            chosen = values.get(item.companion_of)
            detail = values.get(item.key)
            if chosen == OTHER_CODE and is_blank(detail):
                self.add(
                    self.cells.problem(
                        "other-without-detail",
                        item,
                        where(item.key),
                        "",
                        parent_column=parent.label,
                    )
                )
            elif chosen not in (OTHER_CODE, None) and not is_blank(detail):
                self.add(
                    self.cells.problem(
                        "detail-without-other",
                        item,
                        where(item.key),
                        display.get(item.key, ""),
                        parent_column=parent.label,
                    )
                )

    @staticmethod
    def _field(fields, key: str) -> Field:
        for item in fields:
            if item.key == key:
                return item
        raise KeyError(key)

    def cascades(self, fields, values: dict[str, object], where) -> None:
        """Check each child value against its parents: the first filled one strictly."""
        for item in fields:
            if item.is_companion or not item.column.depends_on:
                continue
            code = values.get(item.key)
            if code in (None, OTHER_CODE):
                continue
            vocabulary = self.survey.vocabulary(item.column)
            entry = vocabulary.by_code[code]
            strict = True
            for parent_key in item.column.depends_on:
                parent_code = values.get(parent_key)
                if parent_code is None:
                    continue
                parent = self._field(fields, parent_key)
                parent_vocabulary = self.survey.vocabulary(parent.column)
                ancestor = self.survey.ancestor_code(
                    vocabulary.key, code, parent_vocabulary.key
                )
                if ancestor is not None and ancestor != parent_code:
                    parent_label = (
                        OTHER_LABEL
                        if parent_code == OTHER_CODE
                        else parent_vocabulary.by_code[parent_code].label
                    )
                    if strict:
                        suggestion = self.cascade_suggestion(
                            item, entry.label, parent, parent_code, ancestor
                        )
                        self.add(
                            self.cells.problem(
                                "cascade-mismatch",
                                item,
                                where(item.key),
                                entry.label,
                                parent=parent_label,
                                parent_column=parent.label,
                                suggestion=suggestion,
                            )
                        )
                    else:
                        self.add(
                            self.cells.problem(
                                "cascade-unusual",
                                item,
                                where(item.key),
                                entry.label,
                                parent=parent_label,
                                parent_column=parent.label,
                                found=parent_vocabulary.by_code[ancestor].label,
                            )
                        )
                strict = False

    def cascade_suggestion(
        self, item: Field, label: str, parent: Field, parent_code: str, ancestor: str
    ) -> str:
        parent_vocabulary = self.survey.vocabulary(parent.column)
        proper = parent_vocabulary.by_code[ancestor].label
        vocabulary = self.survey.vocabulary(item.column)
        siblings = [
            entry.label
            for entry in vocabulary.offered(self.year)
            if self.survey.ancestor(entry, parent_vocabulary.key) == parent_code
        ]
        text = f"« {label} » relève de « {proper} » : corrigez « {parent.label} »"
        if siblings:
            shown = " ; ".join(siblings[:6]) + (" ; …" if len(siblings) > 6 else "")
            text += f", ou choisissez pour « {item.label} » une valeur de « {parent_vocabulary.by_code[parent_code].label} » : {shown}"
        return text + "."

    def duplicates(
        self,
        table: TableLayout,
        info: SheetInfo,
        records: list[Record],
        columns: dict[str, int],
    ) -> None:
        keys = [
            key
            for key in (
                "domain",
                "application",
                "vendor",
                "vendor_other",
                "product",
                "product_other",
            )
            if key in table.column_of
        ]
        if "application" not in keys:
            return
        seen: dict[tuple, int] = {}
        for record in records:
            signature = tuple(
                normalize_text(record.values.get(key) or "") for key in keys
            )
            if not any(signature):
                continue
            if signature in seen:
                column = columns.get("application", table.column_of["application"])
                cell = xl_rowcol_to_cell(record.source_row - 1, column)
                item = table.field("application")
                self.add(
                    self.cells.problem(
                        "duplicate-row",
                        item,
                        Where(info.name, cell, table.key, record.index),
                        record.display.get("application", ""),
                        found=seen[signature],
                    )
                )
            else:
                seen[signature] = record.source_row

    # Respondent ---------------------------------------------------------------------------------

    def check_respondent(self) -> None:
        column = self.survey.respondent_column
        form = self.layout.respondent_form
        chosen = self.report.forms.get(form.key, {}).get(column.key)
        fingerprint = self.report.fingerprint
        personalised = (
            fingerprint.respondent if fingerprint and fingerprint.respondent else None
        )
        respondents = self.survey.respondents
        if personalised and chosen and personalised != chosen:
            self._replace_problems(
                Problem.of(
                    "respondent-mismatch",
                    sheet=form.name,
                    cell=form.cell(column.key),
                    column=column.label,
                    expected=_respondent_name(respondents, personalised),
                    found=_respondent_name(respondents, chosen),
                    sheet_key=form.key,
                    field=column.key,
                )
            )
            return
        respondent = chosen or personalised
        self.report.respondent = respondent
        if self.expected and respondent and respondent != self.expected:
            self._replace_problems(
                Problem.of(
                    "respondent-unexpected",
                    expected=_respondent_name(respondents, self.expected),
                    found=_respondent_name(respondents, respondent),
                )
            )

    def _replace_problems(self, problem: Problem) -> None:
        """Keep only ``problem``: the rest of a file sent by the wrong body is not worth reading."""
        self.report.problems = [
            p for p in self.report.problems if p.code.startswith("file-")
        ] + [problem]
        self.report.respondent = None


_CELL = re.compile(r"^([A-Z]{1,3})(\d+)")


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def _respondent_name(respondents, code: str) -> str:
    entry = respondents.by_code.get(code)
    return entry.label if entry else code


def _header_key(value: object) -> str:
    text = display_text(value).strip()
    if text.endswith(REQUIRED_MARK.strip()):
        text = text[: -len(REQUIRED_MARK.strip())]
    return normalize_text(text)


def _cell(rows: list[list[object]], row: int, column: int) -> object:
    if row < len(rows) and column < len(rows[row]):
        return rows[row][column]
    return None


def _required_hint(item: Field) -> str:
    if item.type == "yes_no":
        return "Choisissez Oui ou Non."
    if item.type == "choice":
        return f"Choisissez « {item.label} » dans la liste déroulante."
    return f"Remplissez « {item.label} »."
