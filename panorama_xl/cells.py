"""Check one cell of a returned file against its field, whatever the dropdown did.

``CellChecker.check`` takes the raw value that the reader returned and gives
back the canonical value to store (a vocabulary code, an int, a date, a bool
or a text), the value to show in an annotated copy, and the problems found.
Cross-cell rules (required cells, cascades, duplicates) live in ``check.py``.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from xlsxwriter.utility import xl_rowcol_to_cell

from panorama_xl.layout import Field
from panorama_xl.normalize import (
    display_text,
    is_blank,
    looks_like_formula,
    normalize_text,
    parse_date,
    parse_email,
    parse_integer,
    parse_year,
    parse_yes_no,
)
from panorama_xl.problems import Problem
from panorama_xl.survey import Survey
from panorama_xl.vocabulary import OTHER_CODE, OTHER_LABEL, Vocabulary

#: Lists up to this size are spelled out in full in the « expected » column.
SHORT_LIST = 12


class Where(NamedTuple):
    """Location of a cell in the returned file and in the survey layout.

    ``cell`` is the A1 name, or a 0-based (row, column) pair turned into one
    only when a problem is reported: most cells have none.
    """

    sheet: str
    cell: str | tuple[int, int]
    sheet_key: str
    row: int | None

    @property
    def cell_name(self) -> str:
        if isinstance(self.cell, tuple):
            return xl_rowcol_to_cell(*self.cell)
        return self.cell


@dataclass
class CellResult:
    """Outcome of one cell: canonical value, display value and problems.

    Results may be shared between cells with the same value: read them, do
    not change them.
    """

    value: object = None
    display: object = None
    problems: list[Problem] = field(default_factory=list)


_NOWHERE = Where("", "", "", None)
_EMPTY = CellResult()


def locate(problems: list[Problem], where: Where) -> list[Problem]:
    """Return copies of problems found without a location, placed at ``where``."""
    return [
        replace(
            problem,
            sheet=where.sheet,
            cell=where.cell_name,
            sheet_key=where.sheet_key,
            row=where.row,
        )
        for problem in problems
    ]


_CACHE_LIMIT = 100_000


class CellChecker:
    """Normalises and checks the cells of one survey year."""

    def __init__(self, survey: Survey, year: int, date1904: bool = False):
        self.survey = survey
        self.year = year
        self.date1904 = date1904
        self._cache: dict[tuple, CellResult] = {}
        self._handlers = {
            "text": self._check_text,
            "email": self._check_email,
            "yes_no": self._check_yes_no,
            "integer": self._check_integer,
            "year": self._check_year,
            "date": self._check_date,
            "choice": self._check_choice,
        }

    def problem(
        self, code: str, item: Field, where: Where, value: object = "", **params: object
    ) -> Problem:
        """Create a problem located at ``where`` for field ``item``."""
        return Problem.of(
            code,
            sheet=where.sheet,
            cell=where.cell_name,
            column=item.label,
            value=display_text(value) if not isinstance(value, str) else value,
            sheet_key=where.sheet_key,
            field=item.key,
            row=where.row,
            **params,
        )

    def check(
        self, item: Field, raw: object, where: Where, formula: str | None = None
    ) -> CellResult:
        """Check one cell; ``formula`` is the cell's formula text when it has one."""
        if formula is not None:
            result = CellResult(
                problems=[self.problem("formula-in-cell", item, where, formula)]
            )
            if item.type == "text":
                result.value = result.display = formula
            else:
                result.display = formula
            return result
        result = self.value_of(item, raw)
        if not result.problems:
            return result
        return CellResult(result.value, result.display, locate(result.problems, where))

    def value_of(self, item: Field, raw: object) -> CellResult:
        """Check a value that is not a formula; its problems have no location yet.

        The same labels come back on every row, so each distinct value of a
        field is checked once per run.
        """
        if is_blank(raw):
            return _EMPTY
        key = (item.key, raw.__class__, raw)
        cached = self._cache.get(key)
        if cached is None:
            if len(self._cache) > _CACHE_LIMIT:
                self._cache.clear()
            cached = self._cache[key] = self._handlers[item.type](item, raw, _NOWHERE)
        return cached

    # Types -------------------------------------------------------------------------

    def _check_text(self, item: Field, raw: object, where: Where) -> CellResult:
        text = display_text(raw).replace("\u00a0", " ").strip()
        result = CellResult(text, text)
        if item.max_length and len(text) > item.max_length:
            result.problems.append(
                self.problem(
                    "text-too-long",
                    item,
                    where,
                    _shorten(text),
                    found=len(text),
                    expected=str(item.max_length),
                )
            )
        if isinstance(raw, str) and looks_like_formula(raw):
            result.problems.append(
                self.problem(
                    "formula-like-text",
                    item,
                    where,
                    _shorten(text),
                    found=raw.lstrip()[:1] or "tabulation",
                )
            )
        return result

    def _check_email(self, item: Field, raw: object, where: Where) -> CellResult:
        parsed = parse_email(raw)
        if parsed.ok:
            return CellResult(parsed.value, parsed.value)
        return CellResult(
            None, display_text(raw), [self.problem("email-invalid", item, where, raw)]
        )

    def _check_yes_no(self, item: Field, raw: object, where: Where) -> CellResult:
        parsed = parse_yes_no(raw)
        if parsed.ok:
            return CellResult(parsed.value, "Oui" if parsed.value else "Non")
        return CellResult(
            None, display_text(raw), [self.problem("yes-no-invalid", item, where, raw)]
        )

    def _check_integer(self, item: Field, raw: object, where: Where) -> CellResult:
        column = item.column
        expected = _integer_rule(column.min, column.max)
        parsed = parse_integer(raw, column.max)
        if not parsed.ok and column.vocabulary and isinstance(raw, str):
            entry = self.survey.vocabularies[column.vocabulary].lookup(raw)
            if entry is not None:
                return self._in_bounds(item, int(entry.code), raw, where, expected)
        if not parsed.ok:
            code = (
                "number-not-whole" if parsed.error == "not-whole" else "number-invalid"
            )
            return CellResult(
                None,
                display_text(raw),
                [self.problem(code, item, where, raw, expected=expected)],
            )
        return self._in_bounds(item, parsed.value, raw, where, expected)

    def _in_bounds(
        self, item: Field, number: int, raw: object, where: Where, expected: str
    ) -> CellResult:
        column = item.column
        if (column.min is not None and number < column.min) or (
            column.max is not None and number > column.max
        ):
            return CellResult(
                None,
                number,
                [
                    self.problem(
                        "number-out-of-range", item, where, number, expected=expected
                    )
                ],
            )
        return CellResult(number, number)

    def _check_year(self, item: Field, raw: object, where: Where) -> CellResult:
        column = item.column
        expected = (
            f"Année sur 4 chiffres, de {_number(column.min)} à {_number(column.max)}."
        )
        parsed = parse_year(raw, self.date1904)
        if not parsed.ok:
            return CellResult(
                None,
                display_text(raw),
                [self.problem("year-invalid", item, where, raw, expected=expected)],
            )
        year = parsed.value
        problems = []
        if parsed.note == "year-from-date":
            problems.append(
                self.problem("year-from-date", item, where, raw, found=year)
            )
        if (column.min is not None and year < column.min) or (
            column.max is not None and year > column.max
        ):
            hint = _year_hint(raw, self.date1904)
            return CellResult(
                None,
                display_text(raw),
                [
                    self.problem(
                        "number-out-of-range",
                        item,
                        where,
                        raw,
                        expected=expected + hint,
                    )
                ],
            )
        return CellResult(year, year, problems)

    def _check_date(self, item: Field, raw: object, where: Where) -> CellResult:
        column = item.column
        low, high = column.min, column.max
        expected = "Date au format jj/mm/aaaa"
        if isinstance(low, dt.date) and isinstance(high, dt.date):
            expected += f", du {low:%d/%m/%Y} au {high:%d/%m/%Y}"
        expected += "."
        parsed = parse_date(raw, self.date1904)
        if not parsed.ok:
            code = (
                "date-out-of-range"
                if parsed.error == "date-out-of-range"
                else "date-invalid"
            )
            return CellResult(
                None,
                display_text(raw),
                [self.problem(code, item, where, raw, expected=expected)],
            )
        day: dt.date = parsed.value
        problems = []
        if parsed.note in ("date-from-number", "date-from-text"):
            # Only jj/mm/aaaa text is ambiguous: aaaa-mm-jj says which part is the day.
            day_first = isinstance(raw, str) and not raw.strip()[:4].isdigit()
            order = " : le jour est lu avant le mois" if day_first else ""
            problems.append(
                self.problem(
                    parsed.note, item, where, raw, found=f"{day:%d/%m/%Y}", order=order
                )
            )
        if (isinstance(low, dt.date) and day < low) or (
            isinstance(high, dt.date) and day > high
        ):
            return CellResult(
                None,
                day,
                [
                    self.problem(
                        "date-out-of-range",
                        item,
                        where,
                        f"{day:%d/%m/%Y}",
                        expected=expected,
                    )
                ],
            )
        return CellResult(day, day, problems)

    def _check_choice(self, item: Field, raw: object, where: Where) -> CellResult:
        vocabulary = self.survey.vocabulary(item.column)
        text = display_text(raw)
        if item.column.other and normalize_text(text) in _OTHER_SPELLINGS:
            return CellResult(OTHER_CODE, OTHER_LABEL)
        entry = vocabulary.lookup(text)
        if entry is None:
            suggestion = self.suggest(vocabulary, text, item.column.other)
            expected = self.expected_values(vocabulary, item.column.other)
            return CellResult(
                None,
                text,
                [
                    self.problem(
                        "value-unknown",
                        item,
                        where,
                        text,
                        expected=expected,
                        suggestion=suggestion,
                    )
                ],
            )
        result = CellResult(entry.code, entry.label)
        if not entry.offered_in(self.year):
            result.problems.append(
                self.problem(
                    "value-retired",
                    item,
                    where,
                    text,
                    found=self.year,
                )
            )
        return result

    # Help for the department ------------------------------------------------------

    def suggest(self, vocabulary: Vocabulary, text: str, other: bool) -> str:
        """Return a « did you mean » sentence with the closest offered labels, or the fallback."""
        matches = closest_labels(vocabulary, text, self.year)
        parts = []
        if matches:
            parts.append(
                "Vouliez-vous dire "
                + " ou ".join(f"« {label} »" for label in matches)
                + " ?"
            )
        if other:
            parts.append(
                f"Sinon, choisissez « {OTHER_LABEL} » et écrivez la valeur dans la colonne de précision."
            )
        elif not matches:
            parts.append("Choisissez une valeur dans la liste déroulante.")
        return " ".join(parts)

    def expected_values(self, vocabulary: Vocabulary, other: bool) -> str:
        labels = [entry.label for entry in vocabulary.offered(self.year)]
        if other:
            labels.append(OTHER_LABEL)
        if len(labels) <= SHORT_LIST:
            return "Une valeur parmi : " + " ; ".join(labels) + "."
        return f"Une valeur de la liste déroulante ({len(labels)} choix)."


_OTHER_SPELLINGS = {
    normalize_text(OTHER_LABEL),
    "autre",
    "autres",
    "autre (a preciser)",
    "autre, preciser",
}


def closest_labels(
    vocabulary: Vocabulary, text: str, year: int, limit: int = 3
) -> list[str]:
    """Return up to ``limit`` offered labels that look like ``text``, best first.

    Labels that contain the text, or are contained in it, come first; then
    the closest by difflib's ratio on normalised text.
    """
    key = normalize_text(text)
    if not key:
        return []
    entries = vocabulary.offered(year)
    by_key: dict[str, str] = {}
    for entry in entries:
        for spelling in (entry.label, *entry.aliases):
            by_key.setdefault(normalize_text(spelling), entry.label)
    found: list[str] = []
    if len(key) >= 3:
        for spelling, label in by_key.items():
            if (
                (key in spelling or spelling in key)
                and len(spelling) >= 3
                and label not in found
            ):
                found.append(label)
    for spelling in difflib.get_close_matches(
        key, list(by_key), n=limit * 2, cutoff=0.6
    ):
        label = by_key[spelling]
        if label not in found:
            found.append(label)
    return found[:limit]


def _integer_rule(low: object, high: object) -> str:
    if low is not None and high is not None:
        return f"Nombre entier de {_number(low)} à {_number(high)}."
    return "Nombre entier."


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _year_hint(raw: object, date1904: bool) -> str:
    """Suggest the year of a date serial typed in a year cell (45731 is in 2025)."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        parsed = parse_date(raw, date1904)
        if parsed.ok and 1900 < parsed.value.year < 2200:
            return f" Le nombre {display_text(raw)} correspond à une date de {parsed.value.year} : saisissez l'année seule."
    return ""


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
