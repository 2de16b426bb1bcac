"""Loading and linting the survey definition and the vocabularies."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from panorama_xl.errors import DefinitionError
from panorama_xl.survey import load_survey

from .conftest import YEAR, copy_vocabularies


def edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )


def applications(definition: dict) -> list[dict]:
    return next(
        sheet for sheet in definition["sheets"] if sheet["key"] == "applications"
    )["columns"]


def column(definition: dict, key: str) -> dict:
    for sheet in definition["sheets"]:
        for item in sheet["columns"]:
            if item["key"] == key:
                return item
    raise KeyError(key)


def issues_of(directory: Path) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        load_survey(directory)
    return [str(issue) for issue in caught.value.issues]


@pytest.fixture
def vocabularies(tmp_path: Path) -> Path:
    return copy_vocabularies(tmp_path / "vocabularies")


def test_bundled_survey_loads(survey):
    assert survey.id == "panorama-dsi-departements"
    assert len(survey.respondents.offered(YEAR)) == 100
    assert survey.respondent_column.key == "respondent"
    assert len(survey.digest) == 64


def test_special_respondents(survey):
    respondents = survey.respondents
    assert respondents.by_code["CEA"].insee_codes == ("67", "68")
    assert respondents.by_code["CDC"].insee_codes == ("2A", "2B")
    assert respondents.by_code["VDP"].insee_codes == ("75",)
    assert {
        entry.code for entry in respondents.offered(YEAR) if "69" in entry.insee_codes
    } == {"D69", "M69"}
    assert respondents.by_code["CTM"].offered_in(YEAR)
    assert not respondents.by_code["D972"].offered_in(YEAR)
    assert respondents.by_code["D67"].offered_in(2020)
    assert not respondents.by_code["CEA"].offered_in(2020)


def test_every_respondent_has_region(survey):
    regions = survey.vocabularies["regions"]
    for entry in survey.respondents.entries:
        assert entry.links["regions"] in regions.by_code, entry.code


def test_product_ancestors(survey):
    products = survey.vocabularies["products"]
    assert survey.ancestor(products.by_code["ASTRE_GF"], "domains") == "TRA"
    assert survey.ancestor(products.by_code["IODAS"], "domains") == "SOC"
    assert survey.ancestor(products.by_code["IODAS"], "vendors") is None


def test_lookup_ignores_case_accents_and_spaces(survey):
    domains = survey.vocabularies["domains"]
    assert domains.lookup("  solidarites,  SANTE et action\u00a0sociale ").code == "SOC"
    assert survey.vocabularies["products"].lookup("astre-gf").code == "ASTRE_GF"
    assert survey.respondents.lookup("Drôme").code == "D26"
    assert survey.respondents.lookup("CD 26").code == "D26"
    assert survey.respondents.lookup("Métropole de Lyon").code == "M69"
    assert survey.respondents.lookup("69") is None


def test_digest_ignores_comments(vocabularies, survey):
    path = vocabularies / "domains.yaml"
    path.write_text(
        "# another comment\n" + path.read_text(encoding="utf-8"), encoding="utf-8"
    )
    assert load_survey(vocabularies).digest == survey.digest


def test_digest_follows_vocabulary_change(vocabularies, survey):
    edit_yaml(
        vocabularies / "hosting.yaml",
        lambda data: data["entries"].append({"code": "NEW", "label": "Nouveau"}),
    )
    assert load_survey(vocabularies).digest != survey.digest


def test_unknown_vocabulary(vocabularies):
    edit_yaml(
        vocabularies / "survey.yaml",
        lambda data: column(data, "hosting").update(vocabulary="hostings"),
    )
    issues = issues_of(vocabularies)
    assert len(issues) == 1
    assert "survey.yaml, sheets[applications].columns[hosting].vocabulary" in issues[0]
    assert "vocabulaire « hostings » inconnu" in issues[0]
    assert "vouliez-vous dire « hosting »" in issues[0]


def test_duplicate_column_key(vocabularies):
    edit_yaml(
        vocabularies / "survey.yaml",
        lambda data: column(data, "renewal").update(key="hosting"),
    )
    issues = issues_of(vocabularies)
    assert any("clé « hosting » en double" in issue for issue in issues)


def test_duplicate_code_and_label(vocabularies):
    def duplicate(data):
        data["entries"].append({"code": "SAAS", "label": "Autre libellé"})
        data["entries"].append(
            {"code": "SAAS2", "label": "SaaS (service en ligne de l'éditeur)"}
        )

    edit_yaml(vocabularies / "hosting.yaml", duplicate)
    issues = issues_of(vocabularies)
    assert any(
        "hosting.yaml, entries[SAAS].code : code « SAAS » en double" in issue
        for issue in issues
    )
    assert any(
        "libellé « SaaS (service en ligne de l'éditeur) » en double" in issue
        for issue in issues
    )


def test_code_with_space(vocabularies):
    edit_yaml(
        vocabularies / "renewal.yaml",
        lambda data: data["entries"][0].update(code="AUCUN PREVU"),
    )
    issues = issues_of(vocabularies)
    assert any(
        "code « AUCUN PREVU » invalide" in issue and "sans espace" in issue
        for issue in issues
    )


def test_cascade_parent_missing(vocabularies):
    edit_yaml(
        vocabularies / "survey.yaml",
        lambda data: column(data, "subdomain").update(depends_on=["domaine"]),
    )
    issues = issues_of(vocabularies)
    assert len(issues) == 1
    assert "columns[subdomain].depends_on" in issues[0]
    assert "colonne parente « domaine » absente" in issues[0]
    assert "« domain »" in issues[0]


def test_cascade_without_links(vocabularies):
    edit_yaml(
        vocabularies / "survey.yaml",
        lambda data: column(data, "renewal").update(depends_on=["hosting"]),
    )
    issues = issues_of(vocabularies)
    assert any(
        "aucune entrée de renewal n'est liée à hosting" in issue for issue in issues
    )


def test_texts_over_excel_limits(vocabularies):
    def lengthen(data):
        column(data, "domain")["help"] = "x" * 256
        column(data, "domain")["title"] = "t" * 33
        data["sheets"][0]["name"] = "n" * 32

    edit_yaml(vocabularies / "survey.yaml", lengthen)
    issues = issues_of(vocabularies)
    assert any(
        "aide de 256 caractères (Excel en accepte 255" in issue for issue in issues
    )
    assert any(
        "titre du message de saisie de 33 caractères" in issue for issue in issues
    )
    assert any(
        "nom de feuille de 32 caractères (Excel accepte de 1 à 31)" in issue
        for issue in issues
    )


def test_reserved_and_invalid_sheet_names(vocabularies):
    def rename(data):
        data["sheets"][0]["name"] = "Listes"
        data["sheets"][1]["name"] = "Choix/communs"

    edit_yaml(vocabularies / "survey.yaml", rename)
    issues = issues_of(vocabularies)
    assert any("le nom « Listes » est réservé" in issue for issue in issues)
    assert any("« Choix/communs » refusé par Excel" in issue for issue in issues)


def test_unknown_key_and_bad_type(vocabularies):
    def spoil(data):
        column(data, "domain")["requird"] = True
        column(data, "hosting")["type"] = "liste"

    edit_yaml(vocabularies / "survey.yaml", spoil)
    issues = issues_of(vocabularies)
    assert any("columns[domain].requird : clé inconnue" in issue for issue in issues)
    assert any(
        "columns[hosting].type" in issue and "'choice'" in issue for issue in issues
    )


def test_broken_link(vocabularies):
    edit_yaml(
        vocabularies / "products.yaml",
        lambda data: data["entries"][0]["links"].update(vendors="INETUMM"),
    )
    issues = issues_of(vocabularies)
    assert any(
        "products.yaml, entries[ASTRE_GF].links.vendors : code « INETUMM » inconnu"
        in issue
        and "« INETUM »" in issue
        for issue in issues
    )


def test_reserved_other_entry(vocabularies):
    edit_yaml(
        vocabularies / "vendors.yaml",
        lambda data: data["entries"].append({"code": "AUTRE", "label": "Autre"}),
    )
    issues = issues_of(vocabularies)
    assert any(
        "« AUTRE » et « Autre (préciser) » sont réservés" in issue for issue in issues
    )


def test_wildcard_in_label(vocabularies):
    edit_yaml(
        vocabularies / "hosting.yaml",
        lambda data: data["entries"][0].update(label="Sur site*"),
    )
    issues = issues_of(vocabularies)
    assert any("COUNTIF et MATCH liraient" in issue for issue in issues)


def test_yaml_syntax_error(vocabularies):
    (vocabularies / "renewal.yaml").write_text(
        "label: x\nentries:\n  - {code: A, label: [\n", encoding="utf-8"
    )
    issues = issues_of(vocabularies)
    assert len(issues) == 1
    assert "renewal.yaml, ligne" in issues[0]
    assert "YAML invalide" in issues[0]


def test_missing_definition(tmp_path):
    issues = issues_of(tmp_path)
    assert "survey.yaml : fichier de définition introuvable." in issues[0]


def test_all_mistakes_reported_at_once(vocabularies):
    def spoil(data):
        column(data, "hosting")["vocabulary"] = "nowhere"
        column(data, "subdomain")["depends_on"] = ["nothing"]

    edit_yaml(vocabularies / "survey.yaml", spoil)
    assert len(issues_of(vocabularies)) == 2


def test_yaml_error_in_linked_vocabulary(vocabularies):
    # products.yaml links to vendors: the broken file is reported once, not again as missing.
    (vocabularies / "vendors.yaml").write_text(
        "label: x\nentries:\n  - {code: A, label: [\n", encoding="utf-8"
    )
    issues = issues_of(vocabularies)
    assert len(issues) == 1, issues
    assert "vendors.yaml, ligne" in issues[0]
