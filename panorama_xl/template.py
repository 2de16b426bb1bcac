"""Write the questionnaire workbook: blank, personalised, annotated or pre-filled.

One writer serves every workbook a department receives, so that a returned
copy rebuilt with its problems highlighted has exactly the dropdowns,
protection and fingerprint of the template.

Sheets, in order: « Accueil » (instructions and live summary), optionally
« Anomalies », the sheets of the definition, then the hidden « Listes »
(dropdown lists behind workbook-level defined names) and « Empreinte »
(the fingerprint).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from panorama_xl.answers import Answers, CellNote
from panorama_xl.choices import YES_NO_LABELS, ChoiceLists
from panorama_xl.fingerprint import Fingerprint
from panorama_xl.formulas import RuleSet
from panorama_xl.layout import (
    ANOMALIES_SHEET,
    COVER_SHEET,
    FINGERPRINT_SHEET,
    FORM_HEADER_ROW,
    FORM_HELP_COLUMN,
    FORM_INPUT_COLUMN,
    FORM_INTRO_ROW,
    FORM_LABEL_COLUMN,
    FORM_TITLE_ROW,
    LISTS_SHEET,
    STATUS_LABEL,
    STATUS_TO_FIX,
    Field,
    FormLayout,
    Layout,
    TableLayout,
    quote_sheet,
)
from panorama_xl.package import add_structure_protection, atomic_path, rewrite_member
from panorama_xl.survey import Survey
from panorama_xl.vocabulary import OTHER_LABEL

FONT = "Calibri"
INPUT_FILL = "#FFFFFF"
LOCKED_FILL = "#F2F2F2"
HEADER_FILL = "#1F4E78"
REQUIRED_HEADER_FILL = "#833C0B"
PROBLEM_FILL = "#F8CBAD"
TO_FILL_FILL = "#FFF2CC"
ERROR_NOTE_FILL = "#FF7C80"
WARNING_NOTE_FILL = "#FFD966"

NUMBER_FORMATS = {
    "text": "@",
    "choice": "@",
    "email": "@",
    "yes_no": "@",
    "integer": "0",
    "year": "0",
    "date": "dd/mm/yyyy",
}

SEVERITY_LABELS = {"error": "Erreur", "warning": "Avertissement"}

# Sheet protection: respondents may resize rows and columns, nothing else on locked cells.
PROTECTION_OPTIONS = {
    "format_columns": True,
    "format_rows": True,
    "select_locked_cells": True,
    "select_unlocked_cells": True,
}


# Functions that every Excel since 2007 and LibreOffice store under their plain name.
CLASSIC_FUNCTIONS = frozenset(
    "AND AVERAGE AVERAGEIF AVERAGEIFS COUNT COUNTA COUNTBLANK COUNTIF COUNTIFS DATE FIND "
    "IF IFERROR INDEX INT ISERROR ISNUMBER LEN MATCH NOT OFFSET OR ROUND SUM SUMIF SUMIFS "
    "SUMPRODUCT".split()
)
_FUNCTION_CALL = re.compile(r"([A-Z][A-Z0-9._]*)\(")


class FormulaWorksheet(Worksheet):
    """A worksheet that skips XlsxWriter's dynamic-array rewriting for classic formulas.

    XlsxWriter runs about thirty regular expressions over every formula to add
    the ``_xlfn.`` prefix of dynamic-array functions. On the 1,000-character
    formula of the « Contrôle » column that took 2.6 ms a row, over 1 s a
    workbook. Formulas that call only ``CLASSIC_FUNCTIONS`` need no prefix and
    go straight through; any other formula takes XlsxWriter's own path.
    """

    def _prepare_formula(self, formula, expand_future_functions=False):
        names = set(_FUNCTION_CALL.findall(formula))
        if names <= CLASSIC_FUNCTIONS and not formula.startswith("{"):
            return formula[1:] if formula.startswith("=") else formula
        return super()._prepare_formula(formula, expand_future_functions)


FORM_LABEL_WIDTH = 44
FORM_HELP_WIDTH = 70
COVER_TEXT_WIDTH = 70
# Estimates for Calibri 10: characters per unit of column width, and points per line.
_CHARACTERS_PER_WIDTH = 1.15
_LINE_HEIGHT = 13.5


def row_height(*cells: tuple[str, float]) -> float:
    """Return a row height, in points, that shows every line of wrapped ``(text, width)`` cells.

    LibreOffice keeps the stored height when it opens an xlsx file, so rows
    of wrapped text must be given their height; Excel would adjust them. The
    line count is an estimate from the text length and the column width.
    """
    lines = 1
    for text, width in cells:
        per_line = max(int(width * _CHARACTERS_PER_WIDTH), 1)
        count = sum(
            max(1, -(-len(paragraph) // per_line)) for paragraph in text.split("\n")
        )
        lines = max(lines, count)
    return lines * _LINE_HEIGHT + 2


def questionnaire_name(year: int, respondent: str | None = None) -> str:
    """Return the file name of a questionnaire: ``panorama-2027.xlsx`` or ``panorama-2027-D26.xlsx``."""
    return (
        f"panorama-{year}-{respondent}.xlsx" if respondent else f"panorama-{year}.xlsx"
    )


class QuestionnaireWriter:
    """Writes the questionnaire workbooks of one survey and year.

    Everything that does not depend on the respondent (layout, dropdown lists,
    in-sheet rules) is computed once, so that writing a hundred personalised
    copies costs little more than writing their cells.
    """

    def __init__(self, survey: Survey, year: int, layout: Layout | None = None):
        self.survey = survey
        self.year = year
        self.layout = layout or Layout(survey)
        self.lists = ChoiceLists(self.layout, year)
        self.rules = {
            sheet.key: RuleSet(self.layout, sheet, self.lists)
            for sheet in self.layout.sheets
        }
        self._check_formula_lengths()

    def _check_formula_lengths(self) -> None:
        # Excel drops a data validation whose formula exceeds 255 characters.
        for table in self.layout.tables:
            for item in table.fields:
                formula = self._list_source(table, item)
                if formula is not None and len(formula) > 255:
                    raise ValueError(
                        f"dropdown formula of {item.key} is {len(formula)} characters long; "
                        "Excel accepts 255"
                    )

    # Public API --------------------------------------------------------------

    def write(
        self,
        path: Path | str,
        *,
        respondent: str | None = None,
        answers: Answers | None = None,
        notes: Sequence[CellNote] = (),
        created: dt.datetime | None = None,
    ) -> Path:
        """Write one workbook atomically and return its path.

        Args:
            path: destination file; its folder is created if needed.
            respondent: code of the responding body for a personalised copy;
                None for the blank copy, in which the body is picked from a list.
            answers: values to place in the input cells.
            notes: problems to highlight, and to list on an « Anomalies » sheet.
            created: creation date stored in the document properties.
        """
        path = Path(path)
        if respondent is not None and respondent not in self.survey.respondents.by_code:
            raise KeyError(f"unknown respondent code: {respondent}")
        answers = answers or Answers()
        if respondent is not None:
            form = self.layout.respondent_form
            label = self.survey.respondents.by_code[respondent].label
            answers.forms.setdefault(form.key, {})[
                self.survey.respondent_column.key
            ] = label

        with atomic_path(path) as temporary:
            _Book(self, temporary, respondent, answers, notes, created).build()
            rewrite_member(
                temporary,
                "xl/workbook.xml",
                lambda xml: add_structure_protection(
                    xml, self.survey.definition.password
                ),
            )
        return path

    # Helpers shared with _Book -------------------------------------------------

    def _list_source(self, table: TableLayout | FormLayout, item: Field) -> str | None:
        """Return the list validation source of a choice field, or None for other types."""
        if item.type != "choice":
            return None
        flat = self.layout.list_name(item.key)
        cascades = (
            self.layout.cascades_of(item.key) if isinstance(table, TableLayout) else []
        )
        if not cascades:
            return f"={flat}"
        rules = self.rules[table.key]
        formula = flat
        for cascade in reversed(cascades):
            parent = rules.ref(cascade.parent).replace("§R", str(table.first_row + 1))
            block = (
                f"OFFSET({cascade.entry_name},MATCH({parent},{cascade.parent_name},0)-1,0,"
                f"COUNTIF({cascade.parent_name},{parent}),1)"
            )
            formula = f'IF({parent}<>"",{block},{formula})'
        return "=" + formula


class _Book:
    """One workbook being written, with its xlsxwriter objects and formats."""

    def __init__(
        self,
        writer: QuestionnaireWriter,
        path: Path,
        respondent: str | None,
        answers: Answers,
        notes: Sequence[CellNote],
        created: dt.datetime | None,
    ):
        self.writer = writer
        self.survey = writer.survey
        self.layout = writer.layout
        self.year = writer.year
        self.respondent = respondent
        self.answers = answers
        self.notes = list(notes)
        self.created = created
        self.workbook = xlsxwriter.Workbook(
            str(path),
            {
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "default_date_format": "dd/mm/yyyy",
            },
        )
        self.workbook.worksheet_class = FormulaWorksheet
        self.formats: dict[tuple, Format] = {}
        self.notes_by_cell: dict[tuple[str, str, int | None], list[CellNote]] = {}
        for note in self.notes:
            if note.sheet and note.field:
                self.notes_by_cell.setdefault(
                    (note.sheet, note.field, note.row), []
                ).append(note)

    # Formats -------------------------------------------------------------------

    def fmt(self, name: str, **extra: object) -> Format:
        """Return a cached format built from a named base style plus ``extra`` properties."""
        key = (name, tuple(sorted(extra.items())))
        if key not in self.formats:
            base: dict[str, object] = {
                "font_name": FONT,
                "font_size": 10,
                "valign": "top",
            }
            base.update(_STYLES[name])
            base.update(extra)
            self.formats[key] = self.workbook.add_format(base)
        return self.formats[key]

    def input_format(
        self, field_type: str, severity: str | None = None, locked: bool = False
    ) -> Format:
        extra: dict[str, object] = {"num_format": NUMBER_FORMATS[field_type]}
        if severity is not None:
            extra["bg_color"] = (
                ERROR_NOTE_FILL if severity == "error" else WARNING_NOTE_FILL
            )
        if locked:
            return self.fmt("locked_input", **extra)
        return self.fmt("input", **extra)

    # Build ---------------------------------------------------------------------

    def build(self) -> None:
        book = self.workbook
        fingerprint = Fingerprint.for_workbook(self.survey, self.year, self.respondent)
        definition = self.survey.definition
        properties: dict[str, object] = {
            "title": f"{definition.title} {self.year}",
            "subject": definition.survey,
            "author": definition.organiser,
            "company": definition.organiser,
            "comments": "Questionnaire généré par panorama-xl",
        }
        if self.created is not None:
            properties["created"] = self.created
        book.set_properties(properties)
        for name, value in fingerprint.properties().items():
            book.set_custom_property(name, value, "text")

        cover = book.add_worksheet(COVER_SHEET)
        anomalies = book.add_worksheet(ANOMALIES_SHEET) if self.notes else None
        sheets = {
            layout.key: book.add_worksheet(layout.name) for layout in self.layout.sheets
        }
        lists = book.add_worksheet(LISTS_SHEET)
        stamp = book.add_worksheet(FINGERPRINT_SHEET)

        self.write_lists(lists)
        for layout in self.layout.sheets:
            if isinstance(layout, FormLayout):
                self.write_form(sheets[layout.key], layout)
            else:
                self.write_table(sheets[layout.key], layout)
        self.write_cover(cover)
        if anomalies is not None:
            self.write_anomalies(anomalies)
            anomalies.activate()
        self.write_fingerprint(stamp, fingerprint)
        book.close()

    # Hidden sheets -------------------------------------------------------------

    def write_lists(self, sheet: Worksheet) -> None:
        """Write every dropdown list and define a workbook-level name for each."""
        header = self.fmt("header")
        column = 0
        name = quote_sheet(LISTS_SHEET)
        for key, labels in self.writer.lists.flat.items():
            sheet.write_string(0, column, key, header)
            for row, label in enumerate(labels, start=1):
                sheet.write_string(row, column, label)
            letter = xl_col_to_name(column)
            self.workbook.define_name(
                self.layout.list_name(key),
                f"={name}!${letter}$2:${letter}${len(labels) + 1}",
            )
            column += 1
        for cascade in self.layout.cascades:
            rows = self.writer.lists.cascade_rows[cascade.number]
            sheet.write_string(
                0, column, f"{cascade.child} par {cascade.parent} : parent", header
            )
            sheet.write_string(
                0, column + 1, f"{cascade.child} par {cascade.parent} : valeur", header
            )
            for row, (parent, child) in enumerate(rows, start=1):
                sheet.write_string(row, column, parent)
                sheet.write_string(row, column + 1, child)
            last = max(len(rows), 1) + 1
            parent_letter, entry_letter = (
                xl_col_to_name(column),
                xl_col_to_name(column + 1),
            )
            self.workbook.define_name(
                cascade.parent_name,
                f"={name}!${parent_letter}$2:${parent_letter}${last}",
            )
            self.workbook.define_name(
                cascade.entry_name, f"={name}!${entry_letter}$2:${entry_letter}${last}"
            )
            column += 2
        sheet.set_column(0, column, 30)
        sheet.hide()
        sheet.protect(self.survey.definition.password, PROTECTION_OPTIONS)

    def write_fingerprint(self, sheet: Worksheet, fingerprint: Fingerprint) -> None:
        header = self.fmt("header")
        sheet.write_row(0, 0, ["Clé", "Libellé", "Valeur"], header)
        for row, (key, label, value) in enumerate(fingerprint.rows(), start=1):
            sheet.write_string(row, 0, key)
            sheet.write_string(row, 1, label)
            sheet.write_string(row, 2, value)
        sheet.set_column(0, 0, 14)
        sheet.set_column(1, 1, 28)
        sheet.set_column(2, 2, 70)
        sheet.hide()
        sheet.protect(self.survey.definition.password, PROTECTION_OPTIONS)

    # Data validation -------------------------------------------------------------

    def validation(
        self, table: TableLayout | FormLayout, item: Field
    ) -> dict[str, object] | None:
        """Return the xlsxwriter data validation of a field, with French messages."""
        column = item.column
        label = item.label
        options: dict[str, object]
        if item.type == "choice":
            source = self.writer._list_source(table, item)
            options = {"validate": "list", "source": source}
            message = f"Choisissez « {label} » dans la liste déroulante."
            if column.other and not item.is_companion:
                message += f" Si la valeur manque, choisissez « {OTHER_LABEL} » et précisez-la à droite."
        elif item.type in ("integer", "year"):
            options = {
                "validate": "integer",
                "criteria": "between",
                "minimum": column.min,
                "maximum": column.max,
            }
            noun = (
                "une année sur 4 chiffres"
                if item.type == "year"
                else "un nombre entier"
            )
            message = f"« {label} » : saisissez {noun} de {_number(column.min)} à {_number(column.max)}."
        elif item.type == "date":
            options = {
                "validate": "date",
                "criteria": "between",
                "minimum": column.min,
                "maximum": column.max,
            }
            message = (
                f"« {label} » : saisissez une date au format jj/mm/aaaa, entre le "
                f"{column.min:%d/%m/%Y} et le {column.max:%d/%m/%Y}."
            )
        elif item.type == "yes_no":
            options = {"validate": "list", "source": list(YES_NO_LABELS)}
            message = f"« {label} » : choisissez Oui ou Non."
        elif item.type == "email":
            cell = xl_rowcol_to_cell(*self.first_cell(table, item))
            options = {
                "validate": "custom",
                "value": f'=AND(ISERROR(FIND(" ",{cell})),ISNUMBER(FIND(".",{cell},IFERROR(FIND("@",{cell}),LEN({cell})+1)+2)))',
            }
            message = f"« {label} » : saisissez une adresse électronique, par exemple prenom.nom@departement.fr."
        else:
            limit = item.max_length or 32767
            options = {"validate": "length", "criteria": "<=", "value": limit}
            message = f"« {label} » : {limit} caractères au plus."
        options.update(
            {
                "ignore_blank": True,
                "input_title": item.title[:32],
                "input_message": item.help[:255],
                "error_title": "Valeur non valide",
                "error_message": message[:255],
                "error_type": "stop",
            }
        )
        return options

    def first_cell(
        self, table: TableLayout | FormLayout, item: Field
    ) -> tuple[int, int]:
        if isinstance(table, TableLayout):
            return table.first_row, table.column_of[item.key]
        return table.row_of[item.key], FORM_INPUT_COLUMN

    # Cell values ---------------------------------------------------------------

    def write_value(
        self,
        sheet: Worksheet,
        row: int,
        column: int,
        value: object,
        cell_format: Format,
    ) -> None:
        """Write one input value with the writer matching its Python type; text is never a formula."""
        if value is None or value == "":
            sheet.write_blank(row, column, None, cell_format)
        elif isinstance(value, bool):
            sheet.write_string(
                row,
                column,
                YES_NO_LABELS[0] if value else YES_NO_LABELS[1],
                cell_format,
            )
        elif isinstance(value, (int, float)):
            sheet.write_number(row, column, value, cell_format)
        elif isinstance(value, (dt.date, dt.datetime)):
            sheet.write_datetime(row, column, value, cell_format)
        else:
            sheet.write_string(row, column, str(value), cell_format)

    def note_for(
        self, sheet_key: str, field_key: str, row: int | None
    ) -> tuple[str | None, str | None]:
        """Return the severity and comment text of the notes on one cell."""
        notes = self.notes_by_cell.get((sheet_key, field_key, row))
        if not notes:
            return None, None
        severity = (
            "error" if any(note.severity == "error" for note in notes) else "warning"
        )
        lines = []
        for note in notes:
            line = (
                f"{SEVERITY_LABELS.get(note.severity, note.severity)} : {note.message}"
            )
            if note.suggestion:
                line += f" {note.suggestion}"
            lines.append(line)
        return severity, "\n".join(lines)

    # Form sheets -----------------------------------------------------------------

    def write_form(self, sheet: Worksheet, form: FormLayout) -> None:
        """Write a form sheet: one question per line, label, answer and help."""
        definition = form.sheet
        sheet.write_string(
            FORM_TITLE_ROW, FORM_LABEL_COLUMN, definition.name, self.fmt("title")
        )
        if definition.intro:
            sheet.write_string(
                FORM_INTRO_ROW, FORM_LABEL_COLUMN, definition.intro, self.fmt("text")
            )
        header = self.fmt("header")
        sheet.write_string(
            FORM_HEADER_ROW, FORM_LABEL_COLUMN, "Question (* obligatoire)", header
        )
        sheet.write_string(FORM_HEADER_ROW, FORM_INPUT_COLUMN, "Réponse", header)
        sheet.write_string(FORM_HEADER_ROW, FORM_HELP_COLUMN, "Aide", header)

        values = self.answers.forms.get(form.key, {})
        rules = self.writer.rules[form.key]
        respondent_key = self.survey.respondent_column.key
        for item in form.fields:
            row = form.row_of[item.key]
            sheet.write_string(row, FORM_LABEL_COLUMN, item.header, self.fmt("label"))
            sheet.write_string(row, FORM_HELP_COLUMN, item.help, self.fmt("help"))
            sheet.set_row(
                row,
                row_height(
                    (item.header, FORM_LABEL_WIDTH), (item.help, FORM_HELP_WIDTH)
                ),
            )
            severity, comment = self.note_for(form.key, item.key, None)
            fixed = item.key == respondent_key and self.respondent is not None
            cell_format = self.input_format(item.type, severity, locked=fixed)
            self.write_value(
                sheet, row, FORM_INPUT_COLUMN, values.get(item.key), cell_format
            )
            if comment:
                sheet.write_comment(
                    row,
                    FORM_INPUT_COLUMN,
                    comment,
                    {"author": "panorama-xl", "x_scale": 2, "y_scale": 2},
                )
            if not fixed:
                sheet.data_validation(
                    row,
                    FORM_INPUT_COLUMN,
                    row,
                    FORM_INPUT_COLUMN,
                    self.validation(form, item),
                )
                invalid = rules.condition(item.key, row + 1, exclude=("required",))
                if invalid:
                    sheet.conditional_format(
                        row,
                        FORM_INPUT_COLUMN,
                        row,
                        FORM_INPUT_COLUMN,
                        {
                            "type": "formula",
                            "criteria": "=" + invalid,
                            "format": self.cf_format(PROBLEM_FILL),
                        },
                    )
                if item.required:
                    sheet.conditional_format(
                        row,
                        FORM_INPUT_COLUMN,
                        row,
                        FORM_INPUT_COLUMN,
                        {"type": "blanks", "format": self.cf_format(TO_FILL_FILL)},
                    )
        sheet.set_column(FORM_LABEL_COLUMN, FORM_LABEL_COLUMN, FORM_LABEL_WIDTH)
        widest = max((item.column.width for item in form.fields), default=40)
        sheet.set_column(FORM_INPUT_COLUMN, FORM_INPUT_COLUMN, max(widest, 40))
        sheet.set_column(FORM_HELP_COLUMN, FORM_HELP_COLUMN, FORM_HELP_WIDTH)
        sheet.set_landscape()
        sheet.set_paper(9)
        sheet.fit_to_pages(1, 0)
        sheet.protect(self.survey.definition.password, PROTECTION_OPTIONS)

    def cf_format(self, colour: str) -> Format:
        key = ("cf", colour)
        if key not in self.formats:
            self.formats[key] = self.workbook.add_format({"bg_color": colour})
        return self.formats[key]

    # Table sheets ------------------------------------------------------------------

    def write_table(self, sheet: Worksheet, table: TableLayout) -> None:
        """Write a table sheet: header, formatted input rows, rules and the status column."""
        rules = self.writer.rules[table.key]
        for column, item in enumerate(table.fields):
            style = "required_header" if item.required else "header"
            sheet.write_string(table.header_row, column, item.header, self.fmt(style))
            sheet.set_column(
                column, column, item.column.width if not item.is_companion else 22
            )
        sheet.write_string(
            table.header_row, table.status_column, STATUS_LABEL, self.fmt("header")
        )
        sheet.set_column(table.status_column, table.status_column, 12)
        sheet.set_row(table.header_row, 42)

        rows = self.answers.tables.get(table.key, {})
        plain = [self.input_format(item.type) for item in table.fields]
        status_format = self.fmt("status")
        for index in range(table.rows):
            row = table.first_row + index
            values = rows.get(index, {})
            for column, item in enumerate(table.fields):
                cell_format = plain[column]
                if self.notes_by_cell:
                    severity, comment = self.note_for(table.key, item.key, index)
                    if severity is not None:
                        cell_format = self.input_format(item.type, severity)
                        sheet.write_comment(
                            row,
                            column,
                            comment,
                            {"author": "panorama-xl", "x_scale": 2, "y_scale": 2},
                        )
                self.write_value(sheet, row, column, values.get(item.key), cell_format)
            full_row = {item.key: values.get(item.key) for item in table.fields}
            sheet.write_formula(
                row,
                table.status_column,
                rules.status_formula(row + 1),
                status_format,
                rules.status_value(full_row),
            )

        first, last = table.first_row, table.last_row
        for column, item in enumerate(table.fields):
            sheet.data_validation(
                first, column, last, column, self.validation(table, item)
            )
            condition = rules.condition(item.key, first + 1)
            if condition:
                sheet.conditional_format(
                    first,
                    column,
                    last,
                    column,
                    {
                        "type": "formula",
                        "criteria": "=" + condition,
                        "format": self.cf_format(PROBLEM_FILL),
                    },
                )
        status_letter = xl_col_to_name(table.status_column)
        sheet.conditional_format(
            first,
            table.status_column,
            last,
            table.status_column,
            {
                "type": "formula",
                "criteria": f'=${status_letter}{first + 1}="{STATUS_TO_FIX}"',
                "format": self.cf_format(PROBLEM_FILL),
            },
        )
        sheet.freeze_panes(table.first_row, 0)
        sheet.repeat_rows(table.header_row)
        sheet.set_landscape()
        sheet.set_paper(9)
        sheet.fit_to_pages(1, 0)
        sheet.protect(self.survey.definition.password, PROTECTION_OPTIONS)

    # Cover sheet ----------------------------------------------------------------------

    def write_cover(self, sheet: Worksheet) -> None:
        """Write « Accueil »: instructions, the scale, the contact and a live summary."""
        definition = self.survey.definition
        sheet.set_column(0, 0, 52)
        sheet.set_column(1, 1, COVER_TEXT_WIDTH)
        sheet.write_string(0, 0, f"{definition.title} {self.year}", self.fmt("title"))
        sheet.write_string(1, 0, definition.organiser, self.fmt("text"))
        row = 3
        if self.respondent is not None:
            label = self.survey.respondents.by_code[self.respondent].label
            sheet.write_string(row, 0, "Questionnaire de", self.fmt("label"))
            sheet.write_string(row, 1, label, self.fmt("strong"))
        else:
            sheet.write_string(row, 0, "Questionnaire vierge", self.fmt("label"))
            first_form = self.layout.respondent_form.name
            sheet.write_string(
                row,
                1,
                f"Choisissez votre collectivité sur la feuille « {first_form} ».",
                self.fmt("text"),
            )
        row += 2

        sheet.write_string(row, 0, "Comment remplir", self.fmt("section"))
        row += 1
        for number, text in enumerate(definition.instructions, start=1):
            sheet.write_string(row, 0, f"{number}.", self.fmt("label", align="right"))
            sheet.write_string(row, 1, text, self.fmt("wrap"))
            sheet.set_row(row, row_height((text, COVER_TEXT_WIDTH)))
            row += 1
        row += 1

        if definition.scale is not None:
            sheet.write_string(row, 0, definition.scale.title, self.fmt("section"))
            row += 1
            for entry in reversed(
                self.survey.vocabularies[definition.scale.vocabulary].entries
            ):
                sheet.write_string(row, 0, entry.code, self.fmt("label", align="right"))
                text = entry.label + (
                    f" ({entry.description})" if entry.description else ""
                )
                sheet.write_string(row, 1, text, self.fmt("text"))
                row += 1
            row += 1

        sheet.write_string(row, 0, "Contact", self.fmt("section"))
        row += 1
        contact = definition.contact
        for label, value in (
            ("Nom", contact.name),
            ("Courriel", contact.email),
            ("Téléphone", contact.phone),
        ):
            if value:
                sheet.write_string(row, 0, label, self.fmt("label"))
                sheet.write_string(row, 1, value, self.fmt("text"))
                row += 1
        row += 1

        sheet.write_string(
            row,
            0,
            "Suivi de la saisie (mis à jour pendant la saisie)",
            self.fmt("section"),
        )
        row += 1
        for label, formula, value in self.summary_formulas():
            sheet.write_string(row, 0, label, self.fmt("label"))
            sheet.write_formula(row, 1, formula, self.fmt("number"), value)
            row += 1
        row += 1
        sheet.write_string(row, 0, "Enquête, version, année", self.fmt("small"))
        sheet.write_string(
            row,
            1,
            f"{definition.survey}, version {definition.version}, {self.year}",
            self.fmt("small"),
        )
        sheet.set_paper(9)
        sheet.fit_to_pages(1, 0)
        sheet.protect(definition.password, PROTECTION_OPTIONS)
        sheet.activate()

    def summary_formulas(self) -> list[tuple[str, str, int]]:
        """Return (label, formula, cached value) for the cover's live summary."""
        summary: list[tuple[str, str, int]] = []
        for table in self.layout.tables:
            rules = self.writer.rules[table.key]
            letter = xl_col_to_name(table.status_column)
            area = f"{quote_sheet(table.name)}!${letter}${table.first_row + 1}:${letter}${table.last_row + 1}"
            rows = self.answers.tables.get(table.key, {})
            statuses = [
                rules.status_value(
                    {item.key: values.get(item.key) for item in table.fields}
                )
                for values in rows.values()
            ]
            filled = sum(1 for status in statuses if status)
            to_fix = sum(1 for status in statuses if status == STATUS_TO_FIX)
            summary.append(
                (f"{table.name} : lignes remplies", f'=COUNTIF({area},"?*")', filled)
            )
            summary.append(
                (
                    f"{table.name} : lignes à corriger",
                    f'=COUNTIF({area},"{STATUS_TO_FIX}")',
                    to_fix,
                )
            )
        parts: list[str] = []
        count = 0
        for form in self.layout.forms:
            rules = self.writer.rules[form.key]
            values = {
                item.key: self.answers.forms.get(form.key, {}).get(item.key)
                for item in form.fields
            }
            flagged = rules.flagged(values)
            count += len(flagged)
            for item in form.fields:
                condition = rules.condition(item.key, 0)
                if condition:
                    parts.append(
                        "("
                        + condition.replace("$B$", f"{quote_sheet(form.name)}!$B$")
                        + ")"
                    )
        names = ", ".join(form.name for form in self.layout.forms)
        summary.append(
            (
                f"{names} : réponses à compléter ou corriger",
                "=" + "+".join(parts) if parts else "=0",
                count,
            )
        )
        return summary

    # Anomalies sheet ------------------------------------------------------------------

    def write_anomalies(self, sheet: Worksheet) -> None:
        """List every note with a link to its cell."""
        headers = [
            "Gravité",
            "Feuille",
            "Cellule",
            "Colonne",
            "Valeur trouvée",
            "Problème",
            "Suggestion",
            "Code",
        ]
        widths = [14, 16, 9, 24, 28, 70, 50, 22]
        sheet.write_string(0, 0, "Anomalies à corriger", self.fmt("title"))
        for column, (text, width) in enumerate(zip(headers, widths)):
            sheet.write_string(2, column, text, self.fmt("header"))
            sheet.set_column(column, column, width)
        order = {"error": 0, "warning": 1}
        notes = sorted(self.notes, key=lambda note: order.get(note.severity, 2))
        for offset, note in enumerate(notes):
            row = 3 + offset
            style = self.fmt("wrap")
            sheet.write_string(
                row,
                0,
                SEVERITY_LABELS.get(note.severity, note.severity),
                self.fmt(
                    "wrap",
                    bg_color=ERROR_NOTE_FILL
                    if note.severity == "error"
                    else WARNING_NOTE_FILL,
                ),
            )
            location = self.note_location(note)
            if location is not None:
                sheet_name, cell, column_label = location
                sheet.write_string(row, 1, sheet_name, style)
                sheet.write_url(
                    row,
                    2,
                    f"internal:{quote_sheet(sheet_name)}!{cell}",
                    self.fmt("link"),
                    cell,
                )
                sheet.write_string(row, 3, column_label, style)
            sheet.write_string(row, 4, note.value, style)
            sheet.write_string(row, 5, note.message, style)
            sheet.write_string(row, 6, note.suggestion, style)
            sheet.write_string(row, 7, note.code, style)
        sheet.freeze_panes(3, 0)
        sheet.autofilter(2, 0, 2 + max(len(notes), 1), len(headers) - 1)

    def note_location(self, note: CellNote) -> tuple[str, str, str] | None:
        if not note.sheet or not note.field:
            return None
        layout = self.layout.sheet(note.sheet)
        item = layout.field(note.field)
        return layout.name, layout.cell(note.field, note.row or 0), item.label


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_STYLES: dict[str, dict[str, object]] = {
    "title": {"bold": True, "font_size": 14, "font_color": HEADER_FILL},
    "section": {"bold": True, "font_size": 11, "font_color": HEADER_FILL, "bottom": 1},
    "header": {
        "bold": True,
        "font_color": "#FFFFFF",
        "bg_color": HEADER_FILL,
        "text_wrap": True,
        "border": 1,
    },
    "required_header": {
        "bold": True,
        "font_color": "#FFFFFF",
        "bg_color": REQUIRED_HEADER_FILL,
        "text_wrap": True,
        "border": 1,
    },
    "label": {"bold": True, "text_wrap": True},
    "strong": {"bold": True, "font_size": 12},
    "text": {},
    "wrap": {"text_wrap": True},
    "help": {"text_wrap": True, "italic": True, "font_color": "#404040"},
    "small": {"font_size": 8, "font_color": "#808080"},
    "number": {"bold": True, "align": "left"},
    "link": {"font_color": "#0563C1", "underline": 1},
    "status": {"bg_color": LOCKED_FILL, "align": "center"},
    "input": {
        "locked": False,
        "bg_color": INPUT_FILL,
        "border": 1,
        "border_color": "#BFBFBF",
    },
    "locked_input": {
        "locked": True,
        "bg_color": LOCKED_FILL,
        "border": 1,
        "border_color": "#BFBFBF",
        "bold": True,
    },
}


# Batch generation -------------------------------------------------------------------

_worker_writer: QuestionnaireWriter | None = None


def _start_worker(directory: str | None, year: int) -> None:
    global _worker_writer
    from panorama_xl.survey import load_survey

    _worker_writer = QuestionnaireWriter(load_survey(directory), year)


def _write_in_worker(job: tuple[str, str | None]) -> str:
    path, respondent = job
    assert _worker_writer is not None
    return str(_worker_writer.write(path, respondent=respondent))


def write_templates(
    survey: Survey,
    year: int,
    directory: Path | str,
    respondents: Sequence[str] = (),
    *,
    blank: bool = True,
    workers: int | None = None,
    progress: Callable[[Path], None] | None = None,
) -> list[Path]:
    """Write the blank questionnaire and one personalised copy per respondent code.

    Copies are written by ``workers`` processes (default: one per CPU) when
    there are more than a few; each file is written atomically.

    Returns:
        The paths written, blank copy first.
    """
    directory = Path(directory)
    jobs: list[tuple[str, str | None]] = []
    if blank:
        jobs.append((str(directory / questionnaire_name(year)), None))
    for code in respondents:
        if code not in survey.respondents.by_code:
            raise KeyError(code)
        jobs.append((str(directory / questionnaire_name(year, code)), code))

    workers = workers or os.cpu_count() or 1
    written: list[Path] = []
    if workers <= 1 or len(jobs) < 8:
        writer = QuestionnaireWriter(survey, year)
        for path, code in jobs:
            written.append(writer.write(path, respondent=code))
            if progress:
                progress(written[-1])
        return written

    # Workers reload the survey from its folder: cheaper than pickling the models.
    with ProcessPoolExecutor(
        max_workers=workers,
        initializer=_start_worker,
        initargs=(str(survey.directory), year),
    ) as pool:
        for result in pool.map(_write_in_worker, jobs, chunksize=4):
            written.append(Path(result))
            if progress:
                progress(written[-1])
    return written
