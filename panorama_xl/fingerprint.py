"""The fingerprint that lets the checker recognise a questionnaire and its version.

It is written twice, in the hidden sheet ``Empreinte`` and in the custom
document properties, because each survives a different accident: LibreOffice
keeps custom properties through xlsx and ods round trips, and a respondent who
copies the sheets into a new workbook keeps the hidden sheet. Every value is
stored as a string, since LibreOffice turns integer properties into floats.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from panorama_xl import __version__
from panorama_xl.survey import Survey

#: Prefix of the custom document property names.
PROPERTY_PREFIX = "panorama_"

#: French labels shown in the hidden sheet, in order, by attribute name.
LABELS = {
    "survey": "Enquête",
    "version": "Version du questionnaire",
    "year": "Année",
    "respondent": "Répondant",
    "digest": "Empreinte de la définition",
    "generator": "Générateur",
}


@dataclass(frozen=True)
class Fingerprint:
    """Identity of one generated workbook."""

    survey: str
    version: str
    year: str
    respondent: str
    digest: str
    generator: str

    @classmethod
    def for_workbook(
        cls, survey: Survey, year: int, respondent: str | None
    ) -> Fingerprint:
        """Return the fingerprint of ``year``'s workbook, personalised when ``respondent`` is set."""
        return cls(
            survey=survey.id,
            version=survey.version,
            year=str(year),
            respondent=respondent or "",
            digest=survey.digest,
            generator=f"panorama-xl {__version__}",
        )

    def properties(self) -> dict[str, str]:
        """Return the custom document properties, all strings."""
        return {PROPERTY_PREFIX + key: value for key, value in asdict(self).items()}

    def rows(self) -> list[tuple[str, str, str]]:
        """Return (key, French label, value) for the hidden sheet."""
        return [(key, LABELS[key], value) for key, value in asdict(self).items()]

    @classmethod
    def from_mapping(cls, values: dict[str, object]) -> Fingerprint | None:
        """Build a fingerprint from properties or sheet rows; None if the survey id is missing.

        Keys may carry the property prefix. Numbers are accepted and turned back
        into strings (``2027.0`` becomes ``"2027"``).
        """
        found: dict[str, str] = {}
        for name, value in values.items():
            key = (
                name[len(PROPERTY_PREFIX) :]
                if name.startswith(PROPERTY_PREFIX)
                else name
            )
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            found[key] = "" if value is None else str(value).strip()
        if not found.get("survey"):
            return None
        return cls(**{field.name: found.get(field.name, "") for field in fields(cls)})
