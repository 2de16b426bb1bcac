"""Normalisation of cell values as Excel and LibreOffice return them.

A value typed in a dropdown cell, pasted from another application or saved by
another spreadsheet program can reach the checker as an int, a float, a bool,
a date, a datetime or a string with odd spacing. The functions here turn each
into the canonical value of its column type, or report why it cannot.

Accepted forms, by column type (anything else is reported):

* text: any value; numbers are written back without a trailing ``.0``.
* integer: ``4``, ``4.0``, ``"4"``, ``" 4 "``, ``"4,0"``, ``"4/5"`` when 5 is the
  column maximum, and the label of the column's vocabulary (``"Satisfait"``).
* year: ``2027``, ``2027.0``, ``"2027"``; a date is reduced to its year with a
  warning.
* date: a date or datetime cell; a bare serial number (1900 or 1904 system)
  with a warning; text in ``jj/mm/aaaa``, ``jj-mm-aaaa``, ``jj.mm.aaaa`` or
  ``aaaa-mm-jj`` form with a warning, days always read before months.
* yes/no: ``oui``/``non`` in any case, ``o``/``n``, ``vrai``/``faux``, ``yes``/``no``,
  ``true``/``false``, ``1``/``0`` and the booleans of the file.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_SPACES = re.compile(r"[\s\u00a0\u2007\u202f\u200b\ufeff]+")
_TRANSLATION = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "`": "'",
        "\u00b4": "'",
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u0153": "oe",
        "\u0152": "oe",
        "\u00e6": "ae",
        "\u00c6": "ae",
        "\u00df": "ss",
    }
)
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")

#: First characters that make Excel or LibreOffice read a typed text as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@")


def normalize_text(value: object) -> str:
    """Return a comparison key: no accents, case folded, single spaces, plain dashes and quotes."""
    return _normalize_string(display_text(value))


# Returns repeat the same labels on every row: caching the key saves most of the work.
@lru_cache(maxsize=65536)
def _normalize_string(text: str) -> str:
    text = text.translate(_TRANSLATION)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _SPACES.sub(" ", text).strip().casefold()


def compact_text(value: object) -> str:
    """Return ``normalize_text`` with everything but letters and digits removed."""
    return _NOT_ALNUM.sub("", normalize_text(value))


def display_text(value: object) -> str:
    """Return the text a spreadsheet shows for a plain value (no number format applied)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def clean_text(value: object) -> str:
    """Return the text of a cell with outer spaces removed and inner runs of spaces collapsed."""
    return _SPACES.sub(" ", display_text(value)).strip()


_INVISIBLE = " \t\n\r\x0b\x0c\u00a0\u2007\u202f\u200b\ufeff"


def is_blank(value: object) -> bool:
    """Return True for an empty cell, including a cell that contains only spaces."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip(_INVISIBLE)
    return False


def looks_like_formula(text: str) -> bool:
    """Return True if ``text`` would be read as a formula when typed or pasted in a cell."""
    if text[:1] in ("\t", "\r", "\n"):
        return True
    return text.lstrip()[:1] in FORMULA_PREFIXES


@dataclass(frozen=True)
class Parsed:
    """Outcome of a conversion: the value, or the reason it failed, and an optional note.

    ``note`` is set when the value was converted from a form that deserves a
    warning (a date typed as text, a date in a year column).
    """

    value: object = None
    error: str | None = None
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


_INTEGER_TEXT = re.compile(r"^[+]?(\d{1,9})(?:[.,]0+)?$")
_FRACTION_TEXT = re.compile(r"^(\d{1,3})(?:[.,]0+)?\s*/\s*(\d{1,3})$")


def parse_integer(value: object, maximum: float | None = None) -> Parsed:
    """Convert ``value`` to an int; ``maximum`` allows the ``"4/5"`` form."""
    if isinstance(value, bool):
        return Parsed(error="not-a-number")
    if isinstance(value, int):
        return Parsed(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return Parsed(error="not-a-number")
        if value.is_integer():
            return Parsed(int(value))
        return Parsed(error="not-whole")
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        return Parsed(error="not-a-number")
    text = clean_text(value).replace(" ", "")
    match = _INTEGER_TEXT.match(text)
    if match:
        return Parsed(int(match.group(1)))
    match = _FRACTION_TEXT.match(text)
    if match and maximum is not None and int(match.group(2)) == int(maximum):
        return Parsed(int(match.group(1)))
    if re.fullmatch(r"[+-]?\d+[.,]\d+", text):
        return Parsed(error="not-whole")
    return Parsed(error="not-a-number")


# Day 0 of each date system, so that serial + epoch gives the date.
_EPOCH_1900 = dt.date(1899, 12, 30)
_EPOCH_1904 = dt.date(1904, 1, 1)


def serial_to_date(serial: float, date1904: bool = False) -> dt.date | None:
    """Convert a spreadsheet serial number to a date, or None when out of Python's range.

    The 1900 system counts from 30/12/1899, so that serials above 60 match
    Excel, which treats 1900 as a leap year. The 1904 system counts from 01/01/1904.
    """
    if not math.isfinite(serial) or serial < 1:
        return None
    epoch = _EPOCH_1904 if date1904 else _EPOCH_1900
    try:
        return epoch + dt.timedelta(days=int(serial))
    except OverflowError:
        return None


_DMY_TEXT = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")
_ISO_TEXT = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2})?)?$"
)


def parse_date(value: object, date1904: bool = False) -> Parsed:
    """Convert ``value`` to a date (see the module docstring for the accepted forms)."""
    if isinstance(value, dt.datetime):
        return Parsed(value.date())
    if isinstance(value, dt.date):
        return Parsed(value)
    if isinstance(value, bool):
        return Parsed(error="not-a-date")
    if isinstance(value, (int, float)):
        converted = serial_to_date(float(value), date1904)
        if converted is None:
            return Parsed(error="date-out-of-range")
        return Parsed(converted, note="date-from-number")
    text = clean_text(value)
    match = _ISO_TEXT.match(text)
    if match:
        year, month, day = (int(part) for part in match.groups())
        return _checked_date(year, month, day, "date-from-text")
    match = _DMY_TEXT.match(text)
    if match:
        day, month, year = (int(part) for part in match.groups())
        if year < 100:
            year += 2000
        return _checked_date(year, month, day, "date-from-text")
    return Parsed(error="not-a-date")


def _checked_date(year: int, month: int, day: int, note: str) -> Parsed:
    try:
        return Parsed(dt.date(year, month, day), note=note)
    except ValueError:
        return Parsed(error="not-a-date")


def parse_year(value: object, date1904: bool = False) -> Parsed:
    """Convert ``value`` to a year; a date is accepted with the note ``year-from-date``."""
    if isinstance(value, (dt.date, dt.datetime)):
        return Parsed(value.year, note="year-from-date")
    parsed = parse_integer(value)
    if parsed.ok:
        return parsed
    if isinstance(value, str):
        as_date = parse_date(value, date1904)
        if as_date.ok:
            return Parsed(as_date.value.year, note="year-from-date")
    return Parsed(error="not-a-year")


_YES = {"oui", "o", "vrai", "yes", "y", "true", "1", "x"}
_NO = {"non", "n", "faux", "no", "false", "0"}


def parse_yes_no(value: object) -> Parsed:
    """Convert ``value`` to True (oui) or False (non)."""
    if isinstance(value, bool):
        return Parsed(value)
    if isinstance(value, (int, float)) and value in (0, 1):
        return Parsed(bool(value))
    key = normalize_text(value)
    if key in _YES:
        return Parsed(True)
    if key in _NO:
        return Parsed(False)
    return Parsed(error="not-yes-no")


_EMAIL = re.compile(r"^[^@\s;,<>()\[\]]+@[^@\s;,<>()\[\]]+\.[A-Za-z]{2,}$")


def parse_email(value: object) -> Parsed:
    """Check an e-mail address and return it without outer spaces or a ``mailto:`` prefix."""
    text = clean_text(value)
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    if _EMAIL.match(text):
        return Parsed(text)
    return Parsed(error="not-an-email")
