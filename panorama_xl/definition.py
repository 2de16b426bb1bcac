"""The survey definition: sheets, columns and their rules, read from YAML.

The definition lists the questions; ``layout.py`` decides where each question
sits in the workbook, and ``survey.py`` checks the definition against the
vocabularies.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ColumnType = Literal["text", "choice", "integer", "year", "date", "email", "yes_no"]
Bound = int | float | dt.date

# Excel limits that make a workbook fail to open or drop a feature silently.
MAX_INPUT_TITLE = 32
MAX_INPUT_MESSAGE = 255
MAX_ERROR_TITLE = 32
MAX_ERROR_MESSAGE = 255
MAX_SHEET_NAME = 31
MAX_CELL_TEXT = 32767
MAX_ROWS = 1_048_575


class Column(BaseModel):
    """A question: one column of a table sheet, or one line of a form sheet."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    label: str
    title: str | None = Field(
        default=None, description="Input message title; defaults to the label."
    )
    help: str = ""
    type: ColumnType = "text"
    vocabulary: str | None = None
    required: bool = False
    min: Bound | None = None
    max: Bound | None = None
    max_length: int | None = None
    depends_on: tuple[str, ...] = Field(
        default=(),
        description="Keys of the parent columns, in order of preference: the "
        "dropdown is narrowed by the first parent that is filled in.",
    )
    other: bool = Field(
        default=False,
        description="Offer 'Autre (préciser)' and add a companion free-text column.",
    )
    width: float = 18
    role: Literal["respondent"] | None = None

    @property
    def input_title(self) -> str:
        return self.title or self.label

    @property
    def other_key(self) -> str:
        return f"{self.key}_other"

    @property
    def other_label(self) -> str:
        return f"{self.label} : précision"


class Sheet(BaseModel):
    """A visible sheet of the questionnaire.

    A ``form`` sheet has each question once, one per line; a ``table`` sheet
    has a header row and one input row per item (an application).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    name: str
    kind: Literal["form", "table"]
    intro: str = ""
    rows: int = Field(default=500, ge=1, le=MAX_ROWS - 1)
    columns: tuple[Column, ...]


class Contact(BaseModel):
    """Whom respondents write to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    email: str
    phone: str = ""


class SatisfactionScale(BaseModel):
    """Vocabulary and title of the satisfaction scale shown on the cover sheet."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vocabulary: str
    title: str = "Échelle de satisfaction"


class SurveyDefinition(BaseModel):
    """The whole survey: identity, cover texts and sheets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    survey: str = Field(
        description="Stable identifier of the survey, kept across years."
    )
    title: str
    version: str
    accepted_versions: tuple[str, ...] = Field(
        default=(),
        description="Earlier versions whose returns are still accepted this year.",
    )
    organiser: str
    contact: Contact
    password: str = Field(
        min_length=1,
        max_length=15,
        description="Sheet protection password: a guard against slips, not security.",
    )
    instructions: tuple[str, ...] = ()
    scale: SatisfactionScale | None = None
    sheets: tuple[Sheet, ...]

    @model_validator(mode="after")
    def _password_is_ascii(self) -> SurveyDefinition:
        if not self.password.isascii():
            raise ValueError("le mot de passe de protection doit être en ASCII")
        return self

    def sheet(self, key: str) -> Sheet:
        """Return the sheet whose key is ``key``."""
        for sheet in self.sheets:
            if sheet.key == key:
                return sheet
        raise KeyError(key)
