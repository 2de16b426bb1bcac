"""The in-sheet checks: formulas that flag a cell while the respondent types.

Each rule is written twice, as an Excel formula (for conditional formatting,
the « Contrôle » column and the cover summary) and as a Python function that
computes the same answer. The Python twin gives the cached values stored with
the formulas, so that a viewer that does not recalculate on load, such as
LibreOffice by default, shows the right status when the file is opened.

These rules are a typing aid. The checker (``check.py``) applies the full
rules, with normalisation, suggestions and the cross-row checks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property

from xlsxwriter.utility import xl_col_to_name

from panorama_xl.choices import YES_NO_LABELS, ChoiceLists
from panorama_xl.layout import (
    FORM_INPUT_COLUMN,
    STATUS_OK,
    STATUS_TO_FIX,
    Field,
    FormLayout,
    Layout,
    TableLayout,
)
from panorama_xl.normalize import display_text, is_blank
from panorama_xl.vocabulary import OTHER_LABEL

#: Placeholder for the 1-based row number in rule templates.
ROW = "§R"
_EXCEL_EPOCH = dt.date(1899, 12, 30)

Row = Mapping[str, object]


@dataclass(frozen=True)
class Rule:
    """One in-sheet check on one field.

    ``formula`` is an Excel condition (without ``=``) in which ``§R`` stands for
    the row number; ``test`` computes the same condition from the row's values.
    """

    field: str
    kind: str
    formula: str
    test: Callable[[Row], bool]

    def at(self, row_number: int) -> str:
        return self.formula.replace(ROW, str(row_number))


def _blank(value: object) -> bool:
    return value is None or value == ""


def _as_number(value: object) -> float | None:
    """Return the number Excel sees in a cell (dates as serials), or None for text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return float((value - _EXCEL_EPOCH).days)
    return None


def _excel_date(value: dt.date) -> str:
    return f"DATE({value.year},{value.month},{value.day})"


class RuleSet:
    """The in-sheet rules of one table or form sheet."""

    def __init__(
        self, layout: Layout, sheet: TableLayout | FormLayout, lists: ChoiceLists
    ):
        self.layout = layout
        self.sheet = sheet
        self.lists = lists
        self.rules: list[Rule] = []
        for item in sheet.fields:
            self.rules.extend(self._rules_for(item))

    # Cell references -------------------------------------------------------

    def ref(self, key: str) -> str:
        """Return the reference of field ``key`` in the rule's row, as ``$B§R`` or ``$B$5``."""
        if isinstance(self.sheet, TableLayout):
            return f"${xl_col_to_name(self.sheet.column_of[key])}{ROW}"
        row = self.sheet.row_of[key] + 1
        return f"${xl_col_to_name(FORM_INPUT_COLUMN)}${row}"

    @property
    def is_table(self) -> bool:
        return isinstance(self.sheet, TableLayout)

    def started(self) -> str:
        assert isinstance(self.sheet, TableLayout)
        last = xl_col_to_name(len(self.sheet.fields) - 1)
        return f"COUNTA($A{ROW}:${last}{ROW})>0"

    # Rules -----------------------------------------------------------------

    def _rules_for(self, item: Field) -> list[Rule]:
        rules: list[Rule] = []
        cell = self.ref(item.key)
        key = item.key

        if item.required:
            if self.is_table:
                formula = f'AND({self.started()},{cell}="")'
                rules.append(
                    Rule(
                        key,
                        "required",
                        formula,
                        lambda row, k=key: _started(row) and _blank(row.get(k)),
                    )
                )
            else:
                rules.append(
                    Rule(
                        key,
                        "required",
                        f'{cell}=""',
                        lambda row, k=key: _blank(row.get(k)),
                    )
                )

        if item.is_companion:
            parent = self.ref(item.companion_of)
            formula = f'AND({parent}="{OTHER_LABEL}",{cell}="")'
            rules.append(
                Rule(
                    key,
                    "other",
                    formula,
                    lambda row, k=key, p=item.companion_of: (
                        display_text(row.get(p)).casefold() == OTHER_LABEL.casefold()
                        and _blank(row.get(k))
                    ),
                )
            )

        kind = item.type
        column = item.column
        if kind == "choice":
            name = self.layout.list_name(key)
            formula = f'AND({cell}<>"",COUNTIF({name},{cell})=0)'
            rules.append(
                Rule(
                    key,
                    "list",
                    formula,
                    lambda row, k=key: (
                        not _blank(row.get(k))
                        and not self.lists.offers(k, display_text(row.get(k)))
                    ),
                )
            )
            rules.extend(self._cascade_rules(item))
        elif kind in ("integer", "year"):
            low, high = column.min, column.max
            parts = [f"{cell}<>INT({cell})"]
            if low is not None:
                parts.append(f"{cell}<{low}")
            if high is not None:
                parts.append(f"{cell}>{high}")
            formula = f'AND({cell}<>"",IF(ISNUMBER({cell}),OR({",".join(parts)}),TRUE))'
            rules.append(
                Rule(
                    key,
                    "number",
                    formula,
                    lambda row, k=key, lo=low, hi=high: _bad_number(row.get(k), lo, hi),
                )
            )
        elif kind == "date":
            low, high = column.min, column.max
            parts = ["FALSE"]
            if isinstance(low, dt.date):
                parts.append(f"{cell}<{_excel_date(low)}")
            if isinstance(high, dt.date):
                parts.append(f"{cell}>{_excel_date(high)}")
            formula = f'AND({cell}<>"",IF(ISNUMBER({cell}),OR({",".join(parts)}),TRUE))'
            low_n = _as_number(low) if isinstance(low, dt.date) else None
            high_n = _as_number(high) if isinstance(high, dt.date) else None
            rules.append(
                Rule(
                    key,
                    "date",
                    formula,
                    lambda row, k=key, lo=low_n, hi=high_n: _bad_number(
                        row.get(k), lo, hi, whole=False
                    ),
                )
            )
        elif kind == "email":
            formula = (
                f'AND({cell}<>"",OR(ISNUMBER(FIND(" ",{cell})),'
                f'ISERROR(FIND(".",{cell},IFERROR(FIND("@",{cell}),LEN({cell})+1)+2))))'
            )
            rules.append(
                Rule(key, "email", formula, lambda row, k=key: _bad_email(row.get(k)))
            )
        elif kind == "yes_no":
            yes, no = YES_NO_LABELS
            formula = f'AND({cell}<>"",{cell}<>"{yes}",{cell}<>"{no}")'
            rules.append(
                Rule(
                    key,
                    "yes_no",
                    formula,
                    lambda row, k=key: (
                        not _blank(row.get(k))
                        and display_text(row.get(k)).casefold()
                        not in {yes.casefold(), no.casefold()}
                    ),
                )
            )
        if item.max_length and kind in ("text", "email"):
            limit = item.max_length
            rules.append(
                Rule(
                    key,
                    "length",
                    f"LEN({cell})>{limit}",
                    lambda row, k=key, n=limit: len(display_text(row.get(k))) > n,
                )
            )
        return rules

    def _cascade_rules(self, item: Field) -> list[Rule]:
        cascades = self.layout.cascades_of(item.key)
        if not cascades:
            return []
        cell = self.ref(item.key)
        formula = "FALSE"
        for cascade in reversed(cascades):
            parent = self.ref(cascade.parent)
            test = f"COUNTIFS({cascade.parent_name},{parent},{cascade.entry_name},{cell})=0"
            formula = f'IF({parent}<>"",{test},{formula})'
        formula = f'AND({cell}<>"",{formula})'

        def test_row(row: Row, key: str = item.key) -> bool:
            value = row.get(key)
            if _blank(value):
                return False
            for cascade in cascades:
                parent_value = row.get(cascade.parent)
                if not _blank(parent_value):
                    return not self.lists.pairs(
                        cascade, display_text(parent_value), display_text(value)
                    )
            return False

        return [Rule(item.key, "cascade", formula, test_row)]

    # Combined forms ----------------------------------------------------------

    def rules_of(self, key: str, kinds: tuple[str, ...] | None = None) -> list[Rule]:
        return [
            rule
            for rule in self.rules
            if rule.field == key and (kinds is None or rule.kind in kinds)
        ]

    def condition(
        self, key: str, row_number: int, exclude: tuple[str, ...] = ()
    ) -> str | None:
        """Return the OR of the rules of field ``key`` at ``row_number``, or None if it has none."""
        parts = [
            rule.at(row_number)
            for rule in self.rules_of(key)
            if rule.kind not in exclude
        ]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else f"OR({','.join(parts)})"

    def flagged(self, row: Row, exclude: tuple[str, ...] = ()) -> set[str]:
        """Return the keys of the fields whose rules fire for ``row``."""
        return {
            rule.field
            for rule in self.rules
            if rule.kind not in exclude and rule.test(row)
        }

    def status_formula(self, row_number: int) -> str:
        """Return the « Contrôle » formula of one table row."""
        return self._status_template.replace(ROW, str(row_number))

    @cached_property
    def _status_template(self) -> str:
        # Built once with the row placeholder: every workbook of the year reuses it.
        parts = [rule.formula for rule in self.rules]
        last = xl_col_to_name(len(self.sheet.fields) - 1)
        return (
            f'=IF(COUNTA($A{ROW}:${last}{ROW})=0,"",'
            f'IF(OR({",".join(parts)}),"{STATUS_TO_FIX}","{STATUS_OK}"))'
        )

    def status_value(self, row: Row) -> str:
        """Return what ``status_formula`` computes for ``row``."""
        if not _started(row):
            return ""
        return (
            STATUS_TO_FIX if any(rule.test(row) for rule in self.rules) else STATUS_OK
        )


def _started(row: Row) -> bool:
    return any(not _blank(value) for value in row.values())


def _bad_number(
    value: object, low: float | None, high: float | None, whole: bool = True
) -> bool:
    if _blank(value):
        return False
    number = _as_number(value)
    if number is None:
        return True
    if whole and number != int(number):
        return True
    if low is not None and number < low:
        return True
    return high is not None and number > high


def _bad_email(value: object) -> bool:
    if _blank(value):
        return False
    text = display_text(value)
    if " " in text:
        return True
    at = text.find("@")
    start = at + 2 if at >= 0 else len(text) + 2
    return text.find(".", start) < 0


def is_blank_row(row: Row) -> bool:
    return all(is_blank(value) for value in row.values())
