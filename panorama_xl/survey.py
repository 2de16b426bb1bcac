"""Load the survey definition and its vocabularies, and check them together.

``load_survey(directory)`` reads ``survey.yaml`` and every other ``*.yaml`` file
of the directory as a vocabulary. Every mistake is collected before raising,
so that the coordinator can fix them all in one pass: each names the file,
the key path (``sheets[applications].columns[product].depends_on``) and the fix.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from panorama_xl.definition import (
    MAX_INPUT_MESSAGE,
    MAX_INPUT_TITLE,
    MAX_SHEET_NAME,
    Column,
    Sheet,
    SurveyDefinition,
)
from panorama_xl.errors import DefinitionError, DefinitionIssue
from panorama_xl.normalize import normalize_text
from panorama_xl.vocabulary import (
    CODE_PATTERN,
    OTHER_CODE,
    OTHER_LABEL,
    Entry,
    Vocabulary,
)

DEFINITION_FILE = "survey.yaml"
#: Sheets the writer adds itself; the definition may not use these names.
RESERVED_SHEET_NAMES = ("Accueil", "Listes", "Empreinte", "Anomalies")
_FORBIDDEN_SHEET_CHARACTERS = set("[]:*?/\\")


def bundled_directory() -> Path:
    """Return the directory of the vocabularies shipped with the package.

    In a source checkout (and an editable install) this is the top-level
    ``vocabularies/`` folder; a wheel installs the same files as the data
    package ``panorama_xl.vocabularies``.
    """
    checkout = Path(__file__).resolve().parent.parent / "vocabularies"
    if (checkout / DEFINITION_FILE).is_file():
        return checkout
    return Path(str(resources.files("panorama_xl.vocabularies")))


@dataclass(frozen=True, eq=False)
class Survey:
    """A checked survey definition with the vocabularies it uses."""

    definition: SurveyDefinition
    vocabularies: dict[str, Vocabulary]
    directory: Path
    _columns: dict[str, tuple[Sheet, Column]] = field(default_factory=dict, repr=False)
    _ancestors: dict[tuple[str, str, str], str | None] = field(
        default_factory=dict, repr=False
    )

    def __post_init__(self) -> None:
        for sheet in self.definition.sheets:
            for column in sheet.columns:
                self._columns[column.key] = (sheet, column)

    @property
    def id(self) -> str:
        return self.definition.survey

    @property
    def version(self) -> str:
        return self.definition.version

    @cached_property
    def digest(self) -> str:
        """SHA-256 of the definition and vocabularies, blind to YAML comments and layout."""
        content = {
            "definition": self.definition.model_dump(mode="json"),
            "vocabularies": {
                key: vocabulary.model_dump(mode="json")
                for key, vocabulary in sorted(self.vocabularies.items())
            },
        }
        text = json.dumps(
            content, sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def column(self, key: str) -> Column:
        """Return the column (or form field) whose key is ``key``."""
        return self._columns[key][1]

    def sheet_of(self, key: str) -> Sheet:
        """Return the sheet that contains the column ``key``."""
        return self._columns[key][0]

    def vocabulary(self, column: Column) -> Vocabulary:
        """Return the vocabulary of a choice column."""
        if column.vocabulary is None:
            raise KeyError(f"column {column.key} has no vocabulary")
        return self.vocabularies[column.vocabulary]

    @cached_property
    def respondent_column(self) -> Column:
        """Return the form field that names the responding body."""
        for sheet in self.definition.sheets:
            for column in sheet.columns:
                if column.role == "respondent":
                    return column
        raise KeyError("respondent")

    @property
    def respondents(self) -> Vocabulary:
        return self.vocabulary(self.respondent_column)

    def ancestor_code(self, vocabulary_key: str, code: str, target: str) -> str | None:
        """Return what ``ancestor`` gives for entry ``code`` of ``vocabulary_key``, computed once."""
        key = (vocabulary_key, code, target)
        if key not in self._ancestors:
            entry = self.vocabularies[vocabulary_key].by_code[code]
            self._ancestors[key] = self.ancestor(entry, target)
        return self._ancestors[key]

    def ancestor(
        self, entry: Entry, vocabulary_key: str, seen: frozenset[str] = frozenset()
    ) -> str | None:
        """Return the code of ``entry``'s ancestor in ``vocabulary_key``, following links.

        A product linked to a sub-domain has the sub-domain's domain as its
        ancestor in the domain vocabulary.
        """
        if vocabulary_key in entry.links:
            return entry.links[vocabulary_key]
        for linked_key, code in sorted(entry.links.items()):
            if linked_key in seen or linked_key not in self.vocabularies:
                continue
            linked = self.vocabularies[linked_key].by_code.get(code)
            if linked is not None:
                found = self.ancestor(linked, vocabulary_key, seen | {linked_key})
                if found is not None:
                    return found
        return None


def load_survey(directory: Path | str | None = None) -> Survey:
    """Load and check the survey definition and vocabularies of ``directory``.

    Args:
        directory: folder with ``survey.yaml`` and the vocabulary files; the
            bundled vocabularies when None.

    Raises:
        DefinitionError: listing every mistake found, with its file, key path and fix.
    """
    folder = Path(directory) if directory is not None else bundled_directory()
    issues: list[DefinitionIssue] = []
    definition_path = folder / DEFINITION_FILE
    if not definition_path.is_file():
        raise DefinitionError(
            [
                DefinitionIssue(
                    str(definition_path),
                    "",
                    "fichier de définition introuvable.",
                    f"placez la définition de l'enquête dans {DEFINITION_FILE}.",
                )
            ]
        )

    raw = _read_yaml(definition_path, issues)
    definition = (
        _parse(SurveyDefinition, raw, definition_path, issues)
        if raw is not None
        else None
    )

    vocabularies: dict[str, Vocabulary] = {}
    broken: set[str] = set()
    for path in sorted(folder.glob("*.yaml")):
        if path.name == DEFINITION_FILE:
            continue
        data = _read_yaml(path, issues)
        if data is None:
            broken.add(path.stem)
            continue
        if isinstance(data, dict):
            data = {"key": path.stem, **data}
        vocabulary = _parse(Vocabulary, data, path, issues)
        if vocabulary is not None:
            vocabularies[vocabulary.key] = vocabulary
        else:
            broken.add(path.stem)

    if definition is None:
        raise DefinitionError(issues)
    for key, vocabulary in vocabularies.items():
        issues.extend(
            lint_vocabulary(vocabulary, vocabularies, folder / f"{key}.yaml", broken)
        )
    if not broken:
        # A vocabulary that failed to load would be reported again as unknown.
        issues.extend(lint_definition(definition, vocabularies, definition_path))
    if issues:
        raise DefinitionError(issues)
    return Survey(definition, vocabularies, folder)


def _read_yaml(path: Path, issues: list[DefinitionIssue]) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        issues.append(
            DefinitionIssue(
                str(path),
                "",
                f"lecture impossible ({error}).",
                "enregistrez le fichier en UTF-8.",
            )
        )
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"ligne {mark.line + 1}, colonne {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        issues.append(
            DefinitionIssue(
                str(path),
                where,
                f"YAML invalide : {problem}.",
                "corrigez la syntaxe à cet endroit (indentation, deux-points, guillemets).",
            )
        )
        return None
    if not isinstance(data, dict):
        issues.append(
            DefinitionIssue(
                str(path),
                "",
                "le fichier doit contenir un dictionnaire de clés.",
                "commencez le fichier par des lignes « clé: valeur ».",
            )
        )
        return None
    return data


_FIXES = {
    "missing": "ajoutez cette clé.",
    "extra_forbidden": "supprimez cette clé ou corrigez son nom.",
    "literal_error": "choisissez l'une des valeurs indiquées.",
    "string_type": "écrivez un texte (entre guillemets s'il commence par un chiffre).",
    "int_type": "écrivez un nombre entier.",
    "int_parsing": "écrivez un nombre entier.",
    "bool_type": "écrivez true ou false.",
    "bool_parsing": "écrivez true ou false.",
    "greater_than_equal": "augmentez la valeur.",
    "less_than_equal": "réduisez la valeur.",
    "string_too_long": "raccourcissez le texte.",
    "string_too_short": "complétez le texte.",
}


def _parse(model: type, data: Any, path: Path, issues: list[DefinitionIssue]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        for detail in error.errors():
            issues.append(
                DefinitionIssue(
                    str(path),
                    _key_path(data, detail["loc"]),
                    _french_message(detail),
                    _FIXES.get(detail["type"], ""),
                )
            )
        return None


def _french_message(detail: dict[str, Any]) -> str:
    kind = detail["type"]
    if kind == "missing":
        return "clé obligatoire absente."
    if kind == "extra_forbidden":
        return "clé inconnue."
    if kind == "literal_error":
        expected = detail.get("ctx", {}).get("expected", "")
        return f"valeur {detail.get('input')!r} non prévue ; valeurs possibles : {expected}."
    return f"valeur {detail.get('input')!r} refusée ({detail['msg']})."


def _key_path(data: Any, loc: Iterable[Any]) -> str:
    """Render a pydantic location as ``sheets[applications].columns[product].type``."""
    parts: list[str] = []
    node = data
    for step in loc:
        if isinstance(step, int):
            item = node[step] if isinstance(node, list) and step < len(node) else None
            name = None
            if isinstance(item, dict):
                name = item.get("key") or item.get("code")
            parts[-1:] = [f"{parts[-1] if parts else ''}[{name or step}]"]
            node = item
        else:
            parts.append(str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return ".".join(parts)


def lint_vocabulary(
    vocabulary: Vocabulary,
    vocabularies: dict[str, Vocabulary],
    path: Path,
    broken: set[str] | frozenset[str] = frozenset(),
) -> list[DefinitionIssue]:
    """Check one vocabulary: unique codes and labels, valid codes and links.

    Links to the ``broken`` vocabularies, whose files failed to load and are
    reported already, are not reported again.
    """
    issues: list[DefinitionIssue] = []
    file = str(path)

    def add(where: str, message: str, fix: str) -> None:
        issues.append(DefinitionIssue(file, where, message, fix))

    for linked in vocabulary.links:
        if linked not in vocabularies and linked not in broken:
            add(
                "links",
                f"le vocabulaire lié « {linked} » n'existe pas.",
                "créez le fichier correspondant ou retirez-le de links.",
            )

    codes: dict[str, int] = {}
    labels: dict[str, str] = {}
    spellings: dict[str, str] = {}
    for position, entry in enumerate(vocabulary.entries):
        where = f"entries[{entry.code or position}]"
        if not CODE_PATTERN.match(entry.code):
            add(
                f"{where}.code",
                f"code « {entry.code} » invalide (espaces ou caractères spéciaux).",
                "utilisez lettres, chiffres, points, tirets ou soulignés, sans espace.",
            )
        if entry.code.upper() == OTHER_CODE or entry.label == OTHER_LABEL:
            add(
                where,
                f"« {OTHER_CODE} » et « {OTHER_LABEL} » sont réservés à l'entrée ajoutée par les colonnes « other ».",
                "retirez cette entrée et mettez other: true sur la colonne.",
            )
        if entry.code in codes:
            add(
                f"{where}.code",
                f"code « {entry.code} » en double (déjà à la position {codes[entry.code] + 1}).",
                "donnez un code unique à chaque entrée.",
            )
        codes.setdefault(entry.code, position)
        if entry.label in labels:
            add(
                f"{where}.label",
                f"libellé « {entry.label} » en double (déjà utilisé par {labels[entry.label]}).",
                "les listes déroulantes affichent les libellés : rendez-les uniques.",
            )
        labels.setdefault(entry.label, entry.code)
        if any(ch in entry.label for ch in "*?~") or entry.label[:1] in "<>=":
            add(
                f"{where}.label",
                f"libellé « {entry.label} » : COUNTIF et MATCH liraient *, ?, ~ ou un <, > ou = initial comme un motif.",
                "retirez ces caractères du libellé (ils restent possibles dans aliases).",
            )
        if len(entry.label) > MAX_INPUT_MESSAGE:
            add(
                f"{where}.label",
                f"libellé de {len(entry.label)} caractères (maximum {MAX_INPUT_MESSAGE}).",
                "raccourcissez le libellé et mettez le détail dans description.",
            )
        for spelling in (entry.label, *entry.aliases):
            key = normalize_text(spelling)
            owner = spellings.setdefault(key, entry.code)
            if owner != entry.code:
                add(
                    f"{where}.aliases",
                    f"« {spelling} » désigne déjà l'entrée {owner}.",
                    "retirez cet alias ou précisez-le.",
                )
        for linked_key, code in entry.links.items():
            if linked_key not in vocabulary.links:
                add(
                    f"{where}.links.{linked_key}",
                    f"lien vers « {linked_key} », absent de la liste links du vocabulaire.",
                    f"ajoutez {linked_key} à links ou retirez ce lien.",
                )
            elif (
                linked_key in vocabularies
                and code not in vocabularies[linked_key].by_code
            ):
                add(
                    f"{where}.links.{linked_key}",
                    f"code « {code} » inconnu dans le vocabulaire {linked_key}.",
                    _did_you_mean(code, vocabularies[linked_key].by_code),
                )
    return issues


def _did_you_mean(value: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(candidates), n=3, cutoff=0.5)
    if close:
        return "vouliez-vous dire " + " ou ".join(f"« {c} »" for c in close) + " ?"
    return "vérifiez le code."


def lint_definition(
    definition: SurveyDefinition, vocabularies: dict[str, Vocabulary], path: Path
) -> list[DefinitionIssue]:
    """Check the definition against the vocabularies and Excel's limits."""
    issues: list[DefinitionIssue] = []
    file = str(path)

    def add(where: str, message: str, fix: str) -> None:
        issues.append(DefinitionIssue(file, where, message, fix))

    sheet_keys: set[str] = set()
    sheet_names: set[str] = set()
    column_keys: set[str] = set()
    respondent_fields = 0
    table_sheets = 0
    for sheet in definition.sheets:
        where = f"sheets[{sheet.key}]"
        if sheet.key in sheet_keys:
            add(
                where,
                f"clé de feuille « {sheet.key} » en double.",
                "donnez une clé unique à chaque feuille.",
            )
        sheet_keys.add(sheet.key)
        issues.extend(_sheet_name_issues(sheet.name, f"{where}.name", file))
        if sheet.name.casefold() in sheet_names:
            add(
                f"{where}.name",
                f"nom de feuille « {sheet.name} » en double.",
                "donnez un nom unique à chaque feuille.",
            )
        sheet_names.add(sheet.name.casefold())
        table_sheets += sheet.kind == "table"
        by_key = {column.key: column for column in sheet.columns}
        for column in sheet.columns:
            column_where = f"{where}.columns[{column.key}]"
            keys = [column.key] + ([column.other_key] if column.other else [])
            for key in keys:
                if not CODE_PATTERN.match(key):
                    add(
                        f"{column_where}.key",
                        f"clé « {key} » invalide.",
                        "utilisez lettres, chiffres et soulignés, sans espace.",
                    )
                if key in column_keys:
                    add(
                        f"{column_where}.key",
                        f"clé « {key} » en double dans l'enquête.",
                        "donnez une clé unique à chaque colonne (les colonnes « other » ajoutent la clé <clé>_other).",
                    )
                column_keys.add(key)
            issues.extend(
                _column_issues(column, by_key, vocabularies, column_where, file)
            )
            if column.role == "respondent":
                respondent_fields += 1
                if sheet.kind != "form":
                    add(
                        column_where,
                        "le champ du répondant doit être sur une feuille de type form.",
                        "déplacez-le dans la feuille d'identité.",
                    )
    if respondent_fields != 1:
        add(
            "sheets",
            f"{respondent_fields} champ(s) portent role: respondent ; il en faut exactement un.",
            "mettez role: respondent sur le champ qui désigne la collectivité.",
        )
    if table_sheets == 0:
        add(
            "sheets",
            "aucune feuille de type table.",
            "ajoutez la feuille des applications (kind: table).",
        )
    if definition.scale is not None and definition.scale.vocabulary not in vocabularies:
        add(
            "scale.vocabulary",
            f"vocabulaire « {definition.scale.vocabulary} » inconnu.",
            _did_you_mean(definition.scale.vocabulary, vocabularies),
        )
    return issues


def _sheet_name_issues(name: str, where: str, file: str) -> list[DefinitionIssue]:
    issues = []
    if not 1 <= len(name) <= MAX_SHEET_NAME:
        issues.append(
            DefinitionIssue(
                file,
                where,
                f"nom de feuille de {len(name)} caractères (Excel accepte de 1 à {MAX_SHEET_NAME}).",
                "raccourcissez le nom.",
            )
        )
    if (
        _FORBIDDEN_SHEET_CHARACTERS & set(name)
        or name.startswith("'")
        or name.endswith("'")
    ):
        issues.append(
            DefinitionIssue(
                file,
                where,
                f"nom de feuille « {name} » refusé par Excel (caractères [ ] : * ? / \\ ou apostrophe en bord).",
                "retirez ces caractères.",
            )
        )
    if name in RESERVED_SHEET_NAMES:
        issues.append(
            DefinitionIssue(
                file,
                where,
                f"le nom « {name} » est réservé aux feuilles ajoutées par l'outil.",
                "choisissez un autre nom.",
            )
        )
    return issues


def _column_issues(
    column: Column,
    siblings: dict[str, Column],
    vocabularies: dict[str, Vocabulary],
    where: str,
    file: str,
) -> list[DefinitionIssue]:
    issues: list[DefinitionIssue] = []

    def add(key: str, message: str, fix: str) -> None:
        issues.append(
            DefinitionIssue(file, f"{where}.{key}" if key else where, message, fix)
        )

    if len(column.input_title) > MAX_INPUT_TITLE:
        add(
            "title",
            f"titre du message de saisie de {len(column.input_title)} caractères (Excel en accepte {MAX_INPUT_TITLE}).",
            "ajoutez une clé title plus courte.",
        )
    if len(column.help) > MAX_INPUT_MESSAGE:
        add(
            "help",
            f"aide de {len(column.help)} caractères (Excel en accepte {MAX_INPUT_MESSAGE} dans un message de saisie).",
            "raccourcissez l'aide ; le détail peut aller sur la feuille Accueil.",
        )
    vocabulary = vocabularies.get(column.vocabulary) if column.vocabulary else None
    if column.vocabulary and vocabulary is None:
        add(
            "vocabulary",
            f"vocabulaire « {column.vocabulary} » inconnu.",
            _did_you_mean(column.vocabulary, vocabularies),
        )
    if column.type == "choice" and not column.vocabulary:
        add(
            "vocabulary",
            "une colonne de type choice doit nommer son vocabulaire.",
            "ajoutez vocabulary: <nom du fichier sans .yaml>.",
        )
    if column.type == "integer" and vocabulary is not None:
        bad = [entry.code for entry in vocabulary.entries if not entry.code.isdigit()]
        if bad:
            add(
                "vocabulary",
                f"le vocabulaire d'une colonne integer doit avoir des codes entiers ; codes refusés : {', '.join(bad)}.",
                "utilisez les valeurs de l'échelle comme codes.",
            )
    if column.type not in ("choice",) and (column.other or column.depends_on):
        add(
            "type",
            "other et depends_on ne s'appliquent qu'aux colonnes de type choice.",
            "passez la colonne en type choice ou retirez ces clés.",
        )
    if column.min is not None and column.max is not None and column.min > column.max:
        add(
            "min",
            f"min ({column.min}) est supérieur à max ({column.max}).",
            "inversez les bornes.",
        )
    if column.role == "respondent" and column.type != "choice":
        add(
            "type",
            "le champ du répondant doit être de type choice.",
            "mettez type: choice et vocabulary: respondents.",
        )
    for parent_key in column.depends_on:
        parent = siblings.get(parent_key)
        if parent is None:
            add(
                "depends_on",
                f"colonne parente « {parent_key} » absente de la feuille.",
                _did_you_mean(parent_key, siblings),
            )
            continue
        if (
            parent.type != "choice"
            or parent.vocabulary not in vocabularies
            or vocabulary is None
        ):
            add(
                "depends_on",
                f"la colonne parente « {parent_key} » doit être une colonne choice avec un vocabulaire.",
                "choisissez une colonne à liste déroulante comme parent.",
            )
            continue
        if not _links_reach(vocabulary, parent.vocabulary, vocabularies):
            add(
                "depends_on",
                f"aucune entrée de {vocabulary.key} n'est liée à {parent.vocabulary}.",
                f"ajoutez des liens links: {{{parent.vocabulary}: <code>}} aux entrées de {vocabulary.key}.",
            )
    return issues


def _links_reach(
    vocabulary: Vocabulary,
    target: str,
    vocabularies: dict[str, Vocabulary],
    seen: frozenset[str] = frozenset(),
) -> bool:
    if target in vocabulary.links:
        return True
    for linked in vocabulary.links:
        if linked in vocabularies and linked not in seen:
            if _links_reach(
                vocabularies[linked], target, vocabularies, seen | {vocabulary.key}
            ):
                return True
    return False
