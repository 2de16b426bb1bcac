"""The dropdown lists of one year's workbook, as they are written on the hidden sheet.

Each choice field has a flat list (the entries offered that year, then
« Autre (préciser) » when the field accepts a free value). Each cascade has a
two-column table of (parent label, child label) rows grouped by parent, in
which the dropdown formula finds the block of the chosen parent with
MATCH and COUNTIF.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from panorama_xl.layout import Cascade, Field, Layout
from panorama_xl.vocabulary import OTHER_LABEL, Entry, Vocabulary

YES_NO_LABELS = ("Oui", "Non")


@dataclass
class ChoiceLists:
    """Labels of every dropdown of ``year``'s workbook."""

    layout: Layout
    year: int
    flat: dict[str, list[str]] = field(default_factory=dict)
    cascade_rows: dict[int, list[tuple[str, str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for sheet in self.layout.sheets:
            for item in sheet.fields:
                if item.type == "choice":
                    self.flat[item.key] = self._labels(item)
        for cascade in self.layout.cascades:
            self.cascade_rows[cascade.number] = self._cascade(cascade)
        self._folded = {
            key: {label.casefold() for label in labels}
            for key, labels in self.flat.items()
        }
        self._pairs = {
            number: {(p.casefold(), c.casefold()) for p, c in rows}
            for number, rows in self.cascade_rows.items()
        }

    def _vocabulary(self, item: Field) -> Vocabulary:
        return self.layout.survey.vocabulary(item.column)

    def _labels(self, item: Field) -> list[str]:
        labels = [entry.label for entry in self._vocabulary(item).offered(self.year)]
        if item.column.other:
            labels.append(OTHER_LABEL)
        return labels

    def _field(self, key: str) -> Field:
        for sheet in self.layout.sheets:
            for item in sheet.fields:
                if item.key == key:
                    return item
        raise KeyError(key)

    def _cascade(self, cascade: Cascade) -> list[tuple[str, str]]:
        survey = self.layout.survey
        child = self._field(cascade.child)
        parent = self._field(cascade.parent)
        child_vocabulary = self._vocabulary(child)
        parent_vocabulary = self._vocabulary(parent)
        children: dict[str | None, list[Entry]] = {}
        for entry in child_vocabulary.offered(self.year):
            ancestor = survey.ancestor(entry, parent_vocabulary.key)
            children.setdefault(ancestor, []).append(entry)

        rows: list[tuple[str, str]] = []
        groups = [
            (entry.label, entry.code) for entry in parent_vocabulary.offered(self.year)
        ]
        if parent.column.other:
            # Under « Autre », offer the children that no parent entry claims.
            groups.append((OTHER_LABEL, None))
        for parent_label, parent_code in groups:
            for entry in children.get(parent_code, []):
                rows.append((parent_label, entry.label))
            if child.column.other:
                rows.append((parent_label, OTHER_LABEL))
        return rows

    def offers(self, key: str, label: object) -> bool:
        """Return True if ``label`` is in the flat list of field ``key``, ignoring case like COUNTIF."""
        return str(label).casefold() in self._folded[key]

    def pairs(
        self, cascade: Cascade, parent_label: object, child_label: object
    ) -> bool:
        """Return True if the cascade table has the (parent, child) row, ignoring case."""
        return (
            str(parent_label).casefold(),
            str(child_label).casefold(),
        ) in self._pairs[cascade.number]
