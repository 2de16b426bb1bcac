"""The history database: every accepted return, year after year, in SQLite.

One row of ``returns`` per (year, respondent), with the file's hash and
received date; its form answers in ``answers`` and its application rows in
``applications``, each row's values as a JSON object of canonical values
(vocabulary codes, numbers, ISO dates, texts). The consolidated workbook and
any later comparison between years are built from this database, never from
the returned files.

Storing is idempotent: the same file stored twice changes nothing, and a
return is replaced only by a file received later (ties broken by name).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from panorama_xl.check import FileReport

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS returns (
    id INTEGER PRIMARY KEY,
    year INTEGER NOT NULL,
    respondent TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    received_at TEXT NOT NULL,
    stored_at TEXT NOT NULL,
    format TEXT,
    survey TEXT,
    version TEXT,
    digest TEXT,
    status TEXT NOT NULL,
    warnings INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    UNIQUE (year, respondent)
);
CREATE TABLE IF NOT EXISTS answers (
    return_id INTEGER NOT NULL REFERENCES returns(id) ON DELETE CASCADE,
    sheet TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT,
    PRIMARY KEY (return_id, sheet, field)
);
CREATE TABLE IF NOT EXISTS applications (
    return_id INTEGER NOT NULL REFERENCES returns(id) ON DELETE CASCADE,
    sheet TEXT NOT NULL,
    position INTEGER NOT NULL,
    source_row INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (return_id, sheet, position)
);
CREATE INDEX IF NOT EXISTS returns_by_year ON returns (year);
"""

STORED = "stored"
REPLACED = "replaced"
UNCHANGED = "unchanged"
KEPT_NEWER = "kept-newer"


def _encode(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return json.dumps(value.isoformat())
    return json.dumps(value, ensure_ascii=False)


def _decode(text: str | None) -> object:
    return None if text is None else json.loads(text)


@dataclass(frozen=True)
class StoredReturn:
    """One accepted return as stored."""

    id: int
    year: int
    respondent: str
    file_name: str
    file_path: str
    sha256: str
    received_at: str
    status: str
    warnings: int
    rows: int


class History:
    """The history database at ``path``; created on first use."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.connection = sqlite3.connect(self.path)
        self.connection.execute("PRAGMA foreign_keys = ON")
        self.connection.executescript(_SCHEMA)
        self.connection.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )
        self.connection.commit()

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Writing -------------------------------------------------------------------------

    def store(self, report: FileReport, year: int) -> str:
        """Store an accepted return; return what happened (stored, replaced, unchanged, kept-newer).

        Raises:
            ValueError: the report is not accepted or has no respondent.
        """
        if not report.accepted or not report.respondent:
            raise ValueError(
                f"only accepted returns with a respondent are stored: {report.path}"
            )
        received = report.modified
        name = Path(report.path).name
        with self.connection:
            row = self.connection.execute(
                "SELECT id, sha256, received_at, file_name FROM returns WHERE year = ? AND respondent = ?",
                (year, report.respondent),
            ).fetchone()
            if row is not None:
                stored_id, sha256, stored_received, stored_name = row
                if sha256 == report.sha256:
                    return UNCHANGED
                if (received, name) < (stored_received, stored_name):
                    return KEPT_NEWER
                self.connection.execute(
                    "DELETE FROM returns WHERE id = ?", (stored_id,)
                )
            fingerprint = report.fingerprint
            cursor = self.connection.execute(
                "INSERT INTO returns (year, respondent, file_name, file_path, sha256, received_at, stored_at,"
                " format, survey, version, digest, status, warnings, rows)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    year,
                    report.respondent,
                    name,
                    str(report.path),
                    report.sha256,
                    received,
                    dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    report.format,
                    fingerprint.survey if fingerprint else None,
                    fingerprint.version if fingerprint else None,
                    fingerprint.digest if fingerprint else None,
                    report.status,
                    len(report.warnings),
                    report.row_count(),
                ),
            )
            return_id = cursor.lastrowid
            self.connection.executemany(
                "INSERT INTO answers (return_id, sheet, field, value) VALUES (?, ?, ?, ?)",
                [
                    (return_id, sheet, field, _encode(value))
                    for sheet, values in report.forms.items()
                    for field, value in values.items()
                ],
            )
            self.connection.executemany(
                "INSERT INTO applications (return_id, sheet, position, source_row, data) VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        return_id,
                        sheet,
                        record.index,
                        record.source_row,
                        json.dumps(
                            {
                                key: _plain(value)
                                for key, value in record.values.items()
                            },
                            ensure_ascii=False,
                            sort_keys=True,
                        ),
                    )
                    for sheet, records in report.tables.items()
                    for record in records
                ],
            )
        return REPLACED if row is not None else STORED

    # Reading -------------------------------------------------------------------------

    def returns(self, year: int) -> list[StoredReturn]:
        """Return the accepted returns of ``year``, by respondent code."""
        rows = self.connection.execute(
            "SELECT id, year, respondent, file_name, file_path, sha256, received_at, status, warnings, rows"
            " FROM returns WHERE year = ? ORDER BY respondent",
            (year,),
        ).fetchall()
        return [StoredReturn(*row) for row in rows]

    def answers(self, return_id: int) -> dict[str, dict[str, object]]:
        """Return the form answers of one return, by sheet and field."""
        found: dict[str, dict[str, object]] = {}
        for sheet, field, value in self.connection.execute(
            "SELECT sheet, field, value FROM answers WHERE return_id = ? ORDER BY sheet, field",
            (return_id,),
        ):
            found.setdefault(sheet, {})[field] = _decode(value)
        return found

    def applications(
        self, year: int, sheet: str = "applications"
    ) -> Iterator[tuple[str, int, dict[str, object]]]:
        """Yield (respondent, source row, values) for every application row of ``year``, in a stable order."""
        with closing(self.connection.cursor()) as cursor:
            cursor.execute(
                "SELECT r.respondent, a.source_row, a.data FROM applications a JOIN returns r ON r.id = a.return_id"
                " WHERE r.year = ? AND a.sheet = ? ORDER BY r.respondent, a.position",
                (year, sheet),
            )
            for respondent, source_row, data in cursor:
                yield respondent, source_row, json.loads(data)

    def years(self) -> list[int]:
        return [
            row[0]
            for row in self.connection.execute(
                "SELECT DISTINCT year FROM returns ORDER BY year"
            )
        ]

    def counts(self) -> tuple[int, int]:
        """Return the number of stored returns and application rows, all years together."""
        returns = self.connection.execute("SELECT COUNT(*) FROM returns").fetchone()[0]
        rows = self.connection.execute("SELECT COUNT(*) FROM applications").fetchone()[
            0
        ]
        return returns, rows


def _plain(value: object) -> object:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value
