"""Controlled vocabularies: the lists a respondent picks values from.

Each vocabulary is one YAML file of ``vocabularies/`` and its key is the file
name without ``.yaml``. An entry has a stable code (what the history database
stores), a French label (what the dropdown shows), optional aliases (other
spellings the checker accepts) and an optional year of retirement.

An entry may link to entries of other vocabularies: a sub-domain to its
domain, a product to its vendor and to its domain or sub-domain, a respondent
to its region. Cascading dropdowns are built from these links.
"""

from __future__ import annotations

import re
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, field_validator

from panorama_xl.normalize import compact_text, normalize_text

#: Label of the extra entry offered by columns that accept a free value.
OTHER_LABEL = "Autre (préciser)"
#: Code stored for that entry; no vocabulary may use it.
OTHER_CODE = "AUTRE"

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class Entry(BaseModel):
    """One value of a vocabulary."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    label: str
    aliases: tuple[str, ...] = ()
    since: int | None = Field(
        default=None, description="First survey year in which the entry is offered."
    )
    retired: int | None = Field(
        default=None,
        description="First survey year in which the entry is no longer offered.",
    )
    links: dict[str, str] = Field(
        default_factory=dict, description="Vocabulary key -> code of the linked entry."
    )
    insee_codes: tuple[str, ...] = ()
    description: str | None = None
    uncertain: bool = Field(
        default=False, description="The source of the entry is partial or unconfirmed."
    )

    @field_validator("label")
    @classmethod
    def _label_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("le libellé est vide")
        return value.strip()

    def offered_in(self, year: int) -> bool:
        """Return True if the entry appears in the dropdowns of ``year``'s template."""
        if self.since is not None and year < self.since:
            return False
        return self.retired is None or year < self.retired


class Vocabulary(BaseModel):
    """A named list of entries."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    label: str
    description: str | None = None
    links: tuple[str, ...] = Field(
        default=(), description="Keys of the vocabularies that entries may link to."
    )
    entries: tuple[Entry, ...]

    @cached_property
    def by_code(self) -> dict[str, Entry]:
        return {entry.code: entry for entry in self.entries}

    @cached_property
    def by_label(self) -> dict[str, Entry]:
        return {entry.label: entry for entry in self.entries}

    @cached_property
    def index(self) -> dict[str, Entry]:
        """Map every normalised code, label and alias to its entry."""
        index: dict[str, Entry] = {}
        # Labels and aliases first, codes last: a code never shadows a label.
        for entry in self.entries:
            for text in (entry.label, *entry.aliases):
                index.setdefault(normalize_text(text), entry)
        for entry in self.entries:
            index.setdefault(normalize_text(entry.code), entry)
        return index

    @cached_property
    def compact_index(self) -> dict[str, Entry]:
        """Map the letters and digits of every code, label and alias to its entry."""
        index: dict[str, Entry] = {}
        for entry in self.entries:
            for text in (entry.label, *entry.aliases, entry.code):
                key = compact_text(text)
                if key:
                    index.setdefault(key, entry)
        return index

    def offered(self, year: int) -> list[Entry]:
        """Return the entries offered in ``year``'s dropdowns, in file order."""
        return [entry for entry in self.entries if entry.offered_in(year)]

    def lookup(self, text: str) -> Entry | None:
        """Find the entry whose code, label or alias matches ``text``.

        The comparison ignores case, accents, repeated and non-breaking spaces
        (see ``normalize_text``), then everything but letters and digits.
        """
        entry = self.by_label.get(text) if isinstance(text, str) else None
        if entry is None:
            entry = self.index.get(normalize_text(text))
        if entry is None:
            key = compact_text(text)
            entry = self.compact_index.get(key) if key else None
        return entry
