"""Where every question of the survey sits in the workbook.

The layout is computed once from the survey definition. The writer places
cells with it and the checker reads them back with it, so that the two cannot
drift apart: a column moved in a returned file is found by comparing its
header row with the layout.

Rows and columns are 0-based here, as in xlsxwriter and python-calamine;
``cell_name`` gives the A1 form shown to people.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from panorama_xl.definition import Column, Sheet
from panorama_xl.survey import Survey

COVER_SHEET = "Accueil"
LISTS_SHEET = "Listes"
FINGERPRINT_SHEET = "Empreinte"
ANOMALIES_SHEET = "Anomalies"

STATUS_LABEL = "Contrôle"
STATUS_OK = "OK"
STATUS_TO_FIX = "À corriger"
#: Suffix added to the header of a required column.
REQUIRED_MARK = " *"

# Form sheets: a title, the introduction, a header, then one line per field.
FORM_TITLE_ROW = 0
FORM_INTRO_ROW = 1
FORM_HEADER_ROW = 3
FORM_FIRST_ROW = 4
FORM_LABEL_COLUMN = 0
FORM_INPUT_COLUMN = 1
FORM_HELP_COLUMN = 2


@dataclass(frozen=True)
class Field:
    """One input: a question of the definition, or the précision column of an 'other' question."""

    key: str
    label: str
    column: Column
    companion_of: str | None = None

    @property
    def is_companion(self) -> bool:
        return self.companion_of is not None

    @property
    def type(self) -> str:
        return "text" if self.is_companion else self.column.type

    @property
    def required(self) -> bool:
        return False if self.is_companion else self.column.required

    @property
    def header(self) -> str:
        return self.label + (REQUIRED_MARK if self.required else "")

    @property
    def max_length(self) -> int | None:
        return 255 if self.is_companion else self.column.max_length

    @property
    def help(self) -> str:
        if self.is_companion:
            return (
                "À remplir seulement si vous avez choisi « Autre (préciser) » à gauche."
            )
        return self.column.help

    @property
    def title(self) -> str:
        return "Précision" if self.is_companion else self.column.input_title


def expand_fields(sheet: Sheet) -> tuple[Field, ...]:
    """Return the inputs of a sheet in order, each 'other' question followed by its précision."""
    fields: list[Field] = []
    for column in sheet.columns:
        fields.append(Field(column.key, column.label, column))
        if column.other:
            fields.append(
                Field(
                    column.other_key,
                    column.other_label,
                    column,
                    companion_of=column.key,
                )
            )
    return tuple(fields)


@dataclass(frozen=True)
class TableLayout:
    """A table sheet: a header row, then ``rows`` input rows, then a status column."""

    sheet: Sheet
    fields: tuple[Field, ...]
    header_row: int = 0

    @property
    def name(self) -> str:
        return self.sheet.name

    @property
    def key(self) -> str:
        return self.sheet.key

    @property
    def first_row(self) -> int:
        return self.header_row + 1

    @property
    def rows(self) -> int:
        return self.sheet.rows

    @property
    def last_row(self) -> int:
        return self.first_row + self.rows - 1

    @property
    def status_column(self) -> int:
        return len(self.fields)

    @cached_property
    def column_of(self) -> dict[str, int]:
        return {field.key: index for index, field in enumerate(self.fields)}

    def field(self, key: str) -> Field:
        return self.fields[self.column_of[key]]

    def cell(self, key: str, row_index: int) -> str:
        """Return the A1 name of field ``key`` in input row ``row_index`` (0 = first input row)."""
        return xl_rowcol_to_cell(self.first_row + row_index, self.column_of[key])

    def column_range(self, key: str, absolute: bool = True) -> str:
        """Return the input range of one field, as ``$A$2:$A$501``."""
        letter = xl_col_to_name(self.column_of[key])
        if absolute:
            return f"${letter}${self.first_row + 1}:${letter}${self.last_row + 1}"
        return f"{letter}{self.first_row + 1}:{letter}{self.last_row + 1}"

    @property
    def input_range(self) -> str:
        last = xl_col_to_name(len(self.fields) - 1)
        return f"A{self.first_row + 1}:{last}{self.last_row + 1}"


@dataclass(frozen=True)
class FormLayout:
    """A form sheet: one field per line, with its label on the left and its help on the right."""

    sheet: Sheet
    fields: tuple[Field, ...]

    @property
    def name(self) -> str:
        return self.sheet.name

    @property
    def key(self) -> str:
        return self.sheet.key

    @cached_property
    def row_of(self) -> dict[str, int]:
        return {
            field.key: FORM_FIRST_ROW + index for index, field in enumerate(self.fields)
        }

    def field(self, key: str) -> Field:
        return self.fields[self.row_of[key] - FORM_FIRST_ROW]

    def cell(self, key: str, row_index: int | None = None) -> str:
        """Return the A1 name of the input cell of field ``key``."""
        return xl_rowcol_to_cell(self.row_of[key], FORM_INPUT_COLUMN)


@dataclass(frozen=True)
class Cascade:
    """A dropdown narrowed by a parent column: defined names of its two-column table."""

    child: str
    parent: str
    number: int

    @property
    def parent_name(self) -> str:
        return f"cas{self.number}_p"

    @property
    def entry_name(self) -> str:
        return f"cas{self.number}_e"


class Layout:
    """Positions of every sheet, field and list of a survey's workbook."""

    def __init__(self, survey: Survey):
        self.survey = survey
        self.forms: list[FormLayout] = []
        self.tables: list[TableLayout] = []
        for sheet in survey.definition.sheets:
            fields = expand_fields(sheet)
            if sheet.kind == "form":
                self.forms.append(FormLayout(sheet, fields))
            else:
                self.tables.append(TableLayout(sheet, fields))
        self.cascades: list[Cascade] = []
        for table in self.tables:
            for field in table.fields:
                for parent in field.column.depends_on if not field.is_companion else ():
                    self.cascades.append(
                        Cascade(field.key, parent, len(self.cascades) + 1)
                    )

    @property
    def sheets(self) -> list[FormLayout | TableLayout]:
        by_key = {layout.key: layout for layout in [*self.forms, *self.tables]}
        return [by_key[sheet.key] for sheet in self.survey.definition.sheets]

    def sheet(self, key: str) -> FormLayout | TableLayout:
        for layout in self.sheets:
            if layout.key == key:
                return layout
        raise KeyError(key)

    def cascades_of(self, child: str) -> list[Cascade]:
        return [cascade for cascade in self.cascades if cascade.child == child]

    @staticmethod
    def list_name(field_key: str) -> str:
        """Return the defined name of a choice field's full list."""
        return f"lst_{field_key}"

    @cached_property
    def respondent_form(self) -> FormLayout:
        key = self.survey.respondent_column.key
        for form in self.forms:
            if key in form.row_of:
                return form
        raise KeyError(key)


def quote_sheet(name: str) -> str:
    """Quote a sheet name for a formula, doubling any apostrophe inside it."""
    return "'" + name.replace("'", "''") + "'"
