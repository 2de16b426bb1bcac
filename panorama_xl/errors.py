"""Exceptions raised by panorama_xl.

Two branches, as a caller handles them differently: input errors (a definition,
a vocabulary or an option that must be corrected by the coordinator) and file
errors (a file that cannot be read or written). Problems found in a returned
workbook are not exceptions: they are collected as ``Problem`` objects.
"""

from __future__ import annotations

from dataclasses import dataclass


class PanoramaError(Exception):
    """Base class of every error raised by panorama_xl."""


class InputError(PanoramaError, ValueError):
    """Invalid input given by the coordinator: definition, vocabulary or option."""


@dataclass(frozen=True)
class DefinitionIssue:
    """One mistake in a YAML file: where it is, what is wrong and how to fix it."""

    file: str
    path: str
    message: str
    fix: str = ""

    def __str__(self) -> str:
        where = f"{self.file}, {self.path}" if self.path else self.file
        text = f"{where} : {self.message}"
        if self.fix:
            text += f" Correction : {self.fix}"
        return text


class DefinitionError(InputError):
    """The survey definition or a vocabulary is invalid; ``issues`` lists every mistake."""

    def __init__(self, issues: list[DefinitionIssue]):
        self.issues = list(issues)
        lines = [str(issue) for issue in self.issues]
        super().__init__(
            f"{len(lines)} erreur(s) dans la définition de l'enquête :\n  - "
            + "\n  - ".join(lines)
        )


class FileError(PanoramaError, OSError):
    """A file could not be read or written."""
