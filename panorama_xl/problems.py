"""The catalogue of problems the checker can report, and the Problem record.

Every problem kind has a stable code (used in JSON reports, tests and the
history database), a severity and French templates for its message and its
suggestion. Checks create problems only through ``Problem.of``, so no message
text is built anywhere else.

Severities: an ``error`` blocks the consolidation of the return until the
department sends a corrected file; a ``warning`` is shown but the return is
accepted.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from dataclasses import field as dataclass_field

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class ProblemKind:
    """One entry of the catalogue."""

    code: str
    severity: str
    message: str
    suggestion: str = ""

    def fields(self) -> set[str]:
        """Return the placeholders the templates use."""
        names = set()
        for template in (self.message, self.suggestion):
            names.update(
                name for _, name, _, _ in string.Formatter().parse(template) if name
            )
        return names


_KINDS = [
    # The file itself ------------------------------------------------------------
    ProblemKind(
        "file-empty",
        ERROR,
        "Le fichier est vide.",
        "Enregistrez de nouveau le questionnaire et renvoyez-le.",
    ),
    ProblemKind(
        "file-too-large",
        ERROR,
        "Le fichier est trop volumineux pour un questionnaire ({detail}).",
        "Renvoyez le questionnaire sans feuilles, images ou lignes ajoutées.",
    ),
    ProblemKind(
        "file-not-spreadsheet",
        ERROR,
        "Ce fichier n'est pas un classeur ({detail}).",
        "Renvoyez le questionnaire au format .xlsx (Excel) ou .ods (LibreOffice).",
    ),
    ProblemKind(
        "file-encrypted",
        ERROR,
        "Le fichier est protégé par un mot de passe à l'ouverture : il ne peut pas être lu.",
        "Enregistrez-le de nouveau sans mot de passe et renvoyez-le.",
    ),
    ProblemKind(
        "file-corrupt",
        ERROR,
        "Le fichier est endommagé et ne peut pas être lu ({detail}).",
        "Ouvrez-le dans votre tableur, enregistrez-le de nouveau au format .xlsx et renvoyez-le.",
    ),
    ProblemKind(
        "file-unsafe",
        ERROR,
        "Le fichier a une structure refusée par sécurité ({detail}).",
        "Enregistrez de nouveau le questionnaire depuis Excel ou LibreOffice et renvoyez-le.",
    ),
    ProblemKind(
        "file-timeout",
        ERROR,
        "La lecture du fichier a dépassé le délai de {seconds} s.",
        "Enregistrez de nouveau le questionnaire au format .xlsx et renvoyez-le.",
    ),
    ProblemKind(
        "file-reader-failed",
        ERROR,
        "La lecture du fichier a échoué ({detail}).",
        "Enregistrez de nouveau le questionnaire au format .xlsx et renvoyez-le ; si le problème persiste, contactez la coordination.",
    ),
    ProblemKind(
        "file-macros",
        WARNING,
        "Le fichier contient des macros : elles n'ont pas été exécutées et ne sont pas conservées.",
        "Enregistrez le questionnaire au format .xlsx, sans macros.",
    ),
    ProblemKind(
        "file-legacy-format",
        WARNING,
        "Format Excel 97-2003 (.xls) : la protection et les formules du fichier ne peuvent pas être vérifiées.",
        "Enregistrez de préférence le questionnaire au format .xlsx.",
    ),
    # Which questionnaire ----------------------------------------------------------
    ProblemKind(
        "template-unknown",
        ERROR,
        "Ce classeur n'est pas le questionnaire « {title} » : son empreinte est absente.",
        "Recopiez vos réponses dans le questionnaire {year} envoyé par la coordination.",
    ),
    ProblemKind(
        "template-unknown-lookalike",
        ERROR,
        "Ce classeur ressemble au questionnaire mais son empreinte a disparu (feuilles recopiées dans un nouveau classeur ?).",
        "Recopiez vos réponses dans le questionnaire {year} envoyé par la coordination.",
    ),
    ProblemKind(
        "template-other-survey",
        ERROR,
        "Ce classeur est le questionnaire d'une autre enquête (« {found} » au lieu de « {expected} »).",
        "Utilisez le questionnaire {year} envoyé par la coordination.",
    ),
    ProblemKind(
        "template-wrong-year",
        ERROR,
        "Ce classeur est le questionnaire {found} ; la campagne en cours est celle de {expected}.",
        "Recopiez vos réponses dans le questionnaire {expected}.",
    ),
    ProblemKind(
        "template-old-version",
        ERROR,
        "Version {found} du questionnaire ; la version {expected} est attendue.",
        "Recopiez vos réponses dans le questionnaire à jour envoyé par la coordination.",
    ),
    ProblemKind(
        "template-changed",
        WARNING,
        "La définition du questionnaire (listes, questions ou aides) a changé depuis la préparation de cet exemplaire : les réponses ont été contrôlées avec la définition à jour.",
        "",
    ),
    ProblemKind(
        "respondent-mismatch",
        ERROR,
        "Ce questionnaire a été préparé pour {expected}, mais la feuille Identité indique {found}.",
        "Utilisez le questionnaire préparé pour votre collectivité, ou corrigez la collectivité.",
    ),
    ProblemKind(
        "respondent-unexpected",
        ERROR,
        "Le fichier devait venir de {expected} mais concerne {found}.",
        "Vérifiez l'expéditeur du fichier et la collectivité indiquée.",
    ),
    # Structure ------------------------------------------------------------------
    ProblemKind(
        "sheet-missing",
        ERROR,
        "La feuille « {sheet} » est absente.",
        "Recopiez vos réponses dans le questionnaire d'origine.",
    ),
    ProblemKind(
        "sheet-renamed",
        WARNING,
        "La feuille « {sheet} » a été renommée « {found} » : elle a été lue quand même.",
        "Gardez le nom d'origine des feuilles.",
    ),
    ProblemKind(
        "column-missing",
        ERROR,
        "La colonne « {column} » est absente de la feuille « {sheet} ».",
        "Rétablissez la colonne « {column} » ou recopiez vos réponses dans le questionnaire d'origine.",
    ),
    ProblemKind(
        "column-moved",
        WARNING,
        "La colonne « {column} » a été déplacée de {expected} en {found} : ses valeurs ont été lues à sa nouvelle place.",
        "Ne déplacez pas les colonnes du questionnaire.",
    ),
    ProblemKind(
        "column-renamed",
        WARNING,
        "L'en-tête « {found} » a été lu comme la colonne « {column} ».",
        "Gardez les en-têtes d'origine.",
    ),
    ProblemKind(
        "column-extra",
        WARNING,
        "La colonne « {found} » ne fait pas partie du questionnaire : ses {count} valeur(s) sont ignorées.",
        "Reportez ces informations dans « Commentaires » si elles sont utiles.",
    ),
    ProblemKind(
        "header-missing",
        ERROR,
        "L'en-tête de la feuille « {sheet} » est introuvable : les colonnes ne peuvent pas être reconnues.",
        "Rétablissez la ligne d'en-tête ou recopiez vos réponses dans le questionnaire d'origine.",
    ),
    ProblemKind(
        "header-moved",
        WARNING,
        "L'en-tête de la feuille « {sheet} » est en ligne {found} au lieu de {expected} (lignes insérées au-dessus) : les lignes ont été lues plus bas.",
        "Supprimez les lignes insérées au-dessus de l'en-tête.",
    ),
    ProblemKind(
        "merged-cells",
        WARNING,
        "Les cellules {found} sont fusionnées : seule la première valeur est lue.",
        "Annulez la fusion et remplissez chaque cellule.",
    ),
    ProblemKind(
        "protection-removed",
        WARNING,
        "La protection de la feuille « {sheet} » a été retirée.",
        "Pas d'action nécessaire ; à l'avenir, gardez la protection pour éviter les erreurs de saisie.",
    ),
    ProblemKind(
        "validation-removed",
        WARNING,
        "Les listes déroulantes de la feuille « {sheet} » ont disparu (collage ou autre tableur) : chaque valeur a été contrôlée une à une.",
        "",
    ),
    ProblemKind(
        "data-outside-area",
        WARNING,
        "{count} cellule(s) remplie(s) hors de la zone de saisie de la feuille « {sheet} » (première : {found}) : elles sont ignorées.",
        "Ne saisissez qu'à l'intérieur de la zone prévue ; au-delà de {expected} lignes, demandez un questionnaire plus grand à la coordination.",
    ),
    ProblemKind(
        "no-rows",
        ERROR,
        "Aucune ligne n'est remplie sur la feuille « {sheet} ».",
        "Déclarez au moins une application.",
    ),
    # Cells ----------------------------------------------------------------------
    ProblemKind(
        "required-missing",
        ERROR,
        "« {column} » est obligatoire{context}.",
        "{expected}",
    ),
    ProblemKind(
        "value-unknown",
        ERROR,
        "« {value} » ne fait pas partie de la liste « {column} ».",
        "{suggestion}",
    ),
    ProblemKind(
        "value-retired",
        WARNING,
        "« {value} » n'est pas proposé en {found} dans la liste « {column} ».",
        "Choisissez une valeur de la liste à jour.",
    ),
    ProblemKind(
        "cascade-mismatch",
        ERROR,
        "« {value} » ne correspond pas à « {parent} » ({parent_column}).",
        "{suggestion}",
    ),
    ProblemKind(
        "cascade-unusual",
        WARNING,
        "« {value} » est d'ordinaire rattaché à « {found} », pas à « {parent} » ({parent_column}).",
        "Vérifiez « {parent_column} » et « {column} ».",
    ),
    ProblemKind(
        "other-without-detail",
        ERROR,
        "« Autre (préciser) » est choisi dans « {parent_column} » mais la précision est vide.",
        "Écrivez la valeur dans « {column} ».",
    ),
    ProblemKind(
        "detail-without-other",
        WARNING,
        "« {column} » est rempli alors que « {parent_column} » n'est pas « Autre (préciser) » : la précision est ignorée.",
        "Choisissez « Autre (préciser) » ou videz la précision.",
    ),
    ProblemKind(
        "number-invalid", ERROR, "« {value} » n'est pas un nombre entier.", "{expected}"
    ),
    ProblemKind(
        "number-not-whole",
        ERROR,
        "« {value} » n'est pas un nombre entier.",
        "{expected}",
    ),
    ProblemKind(
        "number-out-of-range",
        ERROR,
        "{value} est hors des bornes de « {column} ».",
        "{expected}",
    ),
    ProblemKind(
        "year-invalid", ERROR, "« {value} » n'est pas une année.", "{expected}"
    ),
    ProblemKind(
        "year-from-date",
        WARNING,
        "Une date a été saisie dans « {column} » : seule l'année {found} est retenue.",
        "Saisissez l'année seule, sur 4 chiffres.",
    ),
    ProblemKind("date-invalid", ERROR, "« {value} » n'est pas une date.", "{expected}"),
    ProblemKind(
        "date-out-of-range",
        ERROR,
        "La date « {value} » est hors des bornes de « {column} ».",
        "{expected}",
    ),
    ProblemKind(
        "date-from-number",
        WARNING,
        "Le nombre {value} a été lu comme la date du {found}.",
        "Vérifiez la date et saisissez-la au format jj/mm/aaaa.",
    ),
    ProblemKind(
        "date-from-text",
        WARNING,
        "La date a été saisie comme texte (« {value} ») et lue comme le {found}.",
        "Vérifiez la date{order}.",
    ),
    ProblemKind(
        "email-invalid",
        ERROR,
        "« {value} » n'est pas une adresse électronique valide.",
        "Saisissez une adresse de la forme prenom.nom@departement.fr.",
    ),
    ProblemKind(
        "yes-no-invalid",
        ERROR,
        "« {value} » n'est ni Oui ni Non.",
        "Choisissez Oui ou Non.",
    ),
    ProblemKind(
        "text-too-long",
        ERROR,
        "Le texte fait {found} caractères, au-delà des {expected} permis.",
        "Raccourcissez le texte ; le détail peut aller dans « Commentaires ».",
    ),
    ProblemKind(
        "formula-in-cell",
        ERROR,
        "La cellule contient une formule ({value}) : seules des valeurs sont acceptées.",
        "Remplacez la formule par sa valeur (copier, puis collage spécial des valeurs).",
    ),
    ProblemKind(
        "formula-like-text",
        WARNING,
        "Le texte commence par « {found} » : il est conservé tel quel, comme texte, et ne sera jamais calculé.",
        "",
    ),
    ProblemKind(
        "duplicate-row",
        WARNING,
        "Ligne en double : même domaine, application, éditeur et produit que la ligne {found}.",
        "Supprimez l'une des deux lignes ou précisez l'application.",
    ),
]

CATALOGUE: dict[str, ProblemKind] = {kind.code: kind for kind in _KINDS}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


@dataclass(frozen=True)
class Problem:
    """A problem found in a returned file, located and worded for the department.

    ``sheet`` and ``cell`` locate it in the returned file as the department
    sees it; ``sheet_key``, ``field`` and ``row`` locate it in the survey's
    layout, for the annotated copy.
    """

    code: str
    severity: str
    message: str
    suggestion: str = ""
    sheet: str = ""
    cell: str = ""
    column: str = ""
    value: str = ""
    expected: str = ""
    sheet_key: str | None = None
    field: str | None = None
    row: int | None = None
    details: dict[str, str] = dataclass_field(default_factory=dict, compare=False)

    @classmethod
    def of(
        cls,
        code: str,
        *,
        sheet: str = "",
        cell: str = "",
        column: str = "",
        value: object = "",
        expected: str = "",
        sheet_key: str | None = None,
        field: str | None = None,
        row: int | None = None,
        **params: object,
    ) -> Problem:
        """Create a problem of the catalogue's kind ``code``, rendering its templates."""
        kind = CATALOGUE[code]
        text = "" if value is None else str(value)
        values = _Blank(
            {key: "" if item is None else str(item) for key, item in params.items()}
        )
        values.update(sheet=sheet, column=column, value=text, expected=expected)
        return cls(
            code=code,
            severity=kind.severity,
            message=kind.message.format_map(values),
            suggestion=kind.suggestion.format_map(values),
            sheet=sheet,
            cell=cell,
            column=column,
            value=text,
            expected=expected,
            sheet_key=sheet_key,
            field=field,
            row=row,
            details={key: str(item) for key, item in params.items()},
        )

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity,
            "sheet": self.sheet,
            "cell": self.cell,
            "column": self.column,
            "value": self.value,
            "message": self.message,
            "expected": self.expected,
            "suggestion": self.suggestion,
        }
