"""The command line speaks French, click's own messages included, and uses exit status 2 for usage errors."""

from __future__ import annotations

from click.testing import CliRunner

from panorama_xl import __version__
from panorama_xl.cli import main
from panorama_xl.template import QuestionnaireWriter


def test_help_in_french():
    result = CliRunner().invoke(main, ["--help"], prog_name="panorama")
    assert result.exit_code == 0
    assert result.output.startswith(
        "Utilisation : panorama [OPTIONS] COMMAND [ARGS]..."
    )
    assert "Affiche cette aide et quitte." in result.output
    assert "Commandes" in result.output
    for command in ("template", "check", "collect", "consolidate", "demo"):
        assert command in result.output


def test_command_help_in_french():
    result = CliRunner().invoke(main, ["check", "--help"])
    assert "Contrôle les questionnaires reçus" in result.output
    assert "--year ENTIER" in result.output
    assert "défaut : text" in result.output


def test_usage_errors_in_french():
    runner = CliRunner()
    missing = runner.invoke(main, ["check", "absent.xlsx"])
    assert missing.exit_code == 2
    assert (
        "Erreur : Valeur invalide pour 'FICHIERS...' : Chemin 'absent.xlsx' introuvable."
        in missing.output
    )
    year = runner.invoke(main, ["template", "--year", "abc"])
    assert year.exit_code == 2
    assert "'abc' n'est pas un entier valide." in year.output
    unknown = runner.invoke(main, ["frobnicate"])
    assert unknown.exit_code == 2
    assert "Commande inconnue : 'frobnicate'." in unknown.output
    choice = runner.invoke(main, ["check", "--format", "xml", "x"])
    assert "'xml' ne fait pas partie de 'text', 'json'." in choice.output


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.output.strip() == f"panorama-xl {__version__}"


def test_invalid_definition_is_a_usage_error(tmp_path):
    (tmp_path / "survey.yaml").write_text("survey: x\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["--vocabularies", str(tmp_path), "template", "-o", str(tmp_path / "out")]
    )
    assert result.exit_code == 2
    assert "erreur(s) dans la définition de l'enquête" in result.output
    assert "clé obligatoire absente." in result.output
    assert not (tmp_path / "out").exists()


def test_misplaced_main_option_hint():
    result = CliRunner().invoke(main, ["template", "--vocabularies", "x"])
    assert result.exit_code == 2
    assert (
        "Cette option se place avant la commande : panorama --vocabularies DOSSIER template"
        in result.output
    )


def test_no_progress_bar_when_piped(small_survey, tmp_path):
    result = CliRunner().invoke(
        main,
        ["--vocabularies", str(small_survey.directory), "template"]
        + ["--year", "2027", "-o", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith("1 questionnaire"), result.output


def test_year_hint_for_other_year(small_survey, tmp_path):
    path = QuestionnaireWriter(small_survey, 2027).write(tmp_path / "r" / "a.xlsx")
    result = CliRunner().invoke(
        main,
        ["--vocabularies", str(small_survey.directory), "check"]
        + ["--year", "2026", str(path)],
    )
    assert result.exit_code == 1
    assert (
        "Attention : 1 fichier(s) sur 1 sont des questionnaires 2027, contrôlés ici"
        " pour la campagne 2026 : si la campagne est celle de 2027, relancez avec"
        " --year 2027." in result.output
    )
    same_year = CliRunner().invoke(
        main,
        ["--vocabularies", str(small_survey.directory), "check"]
        + ["--year", "2027", str(path)],
    )
    assert "Attention" not in same_year.output
