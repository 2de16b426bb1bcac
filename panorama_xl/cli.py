"""The ``panorama`` command. Each subcommand parses its options and calls one function.

Exit status of every subcommand: 0 on success, 1 when a checked file has
errors or a step failed, 2 for a usage error (bad option, invalid survey
definition).
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections import Counter
from pathlib import Path

import click

from panorama_xl import __version__
from panorama_xl.cli_french import install as install_french
from panorama_xl.errors import DefinitionError, InputError, PanoramaError
from panorama_xl.survey import Survey, load_survey

# Before any option is declared: click names parameter types when they are created.
install_french()

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _default_year() -> int:
    return dt.date.today().year


def _load(context: click.Context) -> Survey:
    """Load the survey once per command; a definition error is a usage error (status 2)."""
    directory = context.obj.get("vocabularies")
    try:
        return load_survey(directory)
    except DefinitionError as error:
        click.echo(str(error), err=True)
        context.exit(EXIT_USAGE)
        raise  # unreachable: context.exit raises


def _check_respondent_code(survey: Survey, code: str, year: int) -> None:
    """Reject a ``--respondent`` code that is unknown or not offered in ``year``, with a suggestion."""
    known = survey.respondents
    if code not in known.by_code:
        entry = known.lookup(code)
        hint = f" Vouliez-vous dire {entry.code} ({entry.label}) ?" if entry else ""
        raise click.BadParameter(
            f"code de répondant inconnu : {code}.{hint}", param_hint="--respondent"
        )
    if not known.by_code[code].offered_in(year):
        raise click.BadParameter(
            f"le répondant {code} n'existe pas en {year}.", param_hint="--respondent"
        )


class _NoProgress:
    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def update(self, steps: int) -> None:
        pass


def _progress(length: int, label: str):
    """Return a progress bar on a terminal; elsewhere (a log, a pipe) nothing is printed."""
    if sys.stderr.isatty():
        return click.progressbar(length=length, label=label, file=sys.stderr)
    return _NoProgress()


def _year_hint(template_years: list[str], year: int) -> str:
    """Return a hint when most questionnaires are of another year than ``year``, else ''.

    Forgetting ``--year`` makes the current year the campaign's: every
    return then looks like the wrong questionnaire.
    """
    other = Counter(found for found in template_years if found != str(year))
    if not other:
        return ""
    found, count = other.most_common(1)[0]
    if count * 2 < len(template_years):
        return ""
    return (
        f"{count} fichier(s) sur {len(template_years)} sont des questionnaires {found},"
        f" contrôlés ici pour la campagne {year} : si la campagne est celle de {found},"
        f" relancez avec --year {found}."
    )


workers_option = click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Nombre de processus de travail [défaut : un par processeur].",
)
timeout_option = click.option(
    "--timeout",
    type=click.FloatRange(1, 3600),
    default=60,
    show_default=True,
    help="Durée maximale de lecture d'un fichier, en secondes.",
)
year_option = click.option(
    "--year",
    type=click.IntRange(2000, 2100),
    default=_default_year,
    show_default="l'année en cours",
    help="Année de l'enquête (millésime).",
)


class _Command(click.Command):
    """A command whose error for an option of ``panorama`` itself, given after it, shows where it goes."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as error:
            if error.option_name in _MAIN_OPTIONS:
                error.message += (
                    f" Cette option se place avant la commande : panorama"
                    f" {error.option_name} DOSSIER {ctx.info_name} …"
                )
            raise


_MAIN_OPTIONS = ("--vocabularies",)


class _Group(click.Group):
    command_class = _Command


@click.group(cls=_Group, context_settings=CONTEXT_SETTINGS)
@click.option(
    "--vocabularies",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Dossier de la définition (survey.yaml) et des vocabulaires ; par défaut ceux livrés avec l'outil.",
)
@click.version_option(
    __version__,
    "--version",
    message="panorama-xl %(version)s",
    help="Affiche la version et quitte.",
)
@click.pass_context
def main(context: click.Context, vocabularies: Path | None) -> None:
    """Panorama des applications des Départements : questionnaire, contrôle et consolidation.

    \b
    Étapes d'une campagne :
      panorama template --year 2027 --all-respondents   questionnaires à envoyer
      panorama check --year 2027 RETOUR.xlsx            contrôler un fichier reçu
      panorama collect DOSSIER --year 2027              contrôler et archiver tous les retours
      panorama consolidate --year 2027                  classeur de synthèse
      panorama demo                                     campagne de démonstration complète

    Sans --year, chaque commande prend l'année en cours.

    Codes de sortie : 0 succès (pour collect, dès que le tableau de bord est
    écrit), 1 fichier avec erreurs (check) ou étape en échec, 2 erreur
    d'utilisation (option ou définition invalide, rien à traiter).
    """
    context.ensure_object(dict)
    context.obj["vocabularies"] = vocabularies


@main.command()
@year_option
@click.option(
    "--respondent",
    "respondents",
    multiple=True,
    metavar="CODE",
    help="Code d'un répondant (ex. D26) : écrit son questionnaire personnalisé. Répétable.",
)
@click.option(
    "--all-respondents",
    is_flag=True,
    help="Écrit un questionnaire personnalisé pour chaque répondant de l'année.",
)
@click.option("--no-blank", is_flag=True, help="N'écrit pas le questionnaire vierge.")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Dossier de sortie [défaut : build/ANNÉE].",
)
@workers_option
@click.pass_context
def template(
    context: click.Context,
    year: int,
    respondents: tuple[str, ...],
    all_respondents: bool,
    no_blank: bool,
    output: Path | None,
    workers: int | None,
) -> None:
    """Écrit le questionnaire de l'année : vierge, et personnalisé par répondant.

    Les fichiers s'appellent panorama-ANNÉE.xlsx (vierge) et
    panorama-ANNÉE-CODE.xlsx (personnalisé), par exemple panorama-2027-D26.xlsx.
    """
    from panorama_xl.template import write_templates

    survey = _load(context)
    if respondents and all_respondents:
        raise click.UsageError(
            "--respondent et --all-respondents s'excluent : choisissez l'un ou l'autre."
        )
    codes = list(respondents)
    for code in codes:
        _check_respondent_code(survey, code, year)
    if all_respondents:
        codes = [entry.code for entry in survey.respondents.offered(year)]
    if no_blank and not codes:
        raise click.UsageError(
            "rien à écrire : --no-blank sans --respondent ni --all-respondents."
        )

    directory = output or Path("build") / str(year)
    started = time.perf_counter()
    total = len(codes) + (0 if no_blank else 1)
    with _progress(total, "Questionnaires") as bar:
        paths = write_templates(
            survey,
            year,
            directory,
            codes,
            blank=not no_blank,
            workers=workers,
            progress=lambda _path: bar.update(1),
        )
    elapsed = time.perf_counter() - started
    click.echo(
        f"{len(paths)} questionnaire(s) écrit(s) dans {directory} en {elapsed:.1f} s."
    )


def expand_paths(paths: tuple[Path, ...]) -> list[Path]:
    """Return the files named, and the files inside the folders named, sorted, without duplicates.

    Hidden files and the lock files of office programs (``~$…``, ``.~lock…``)
    are skipped inside folders.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not child.name.startswith((".", "~$")):
                    found.append(child)
        else:
            found.append(path)
    return list(dict.fromkeys(found))


@main.command()
@click.argument(
    "files",
    nargs=-1,
    required=True,
    metavar="FICHIERS...",
    type=click.Path(exists=True, path_type=Path),
)
@year_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Forme du rapport.",
)
@click.option(
    "--annotate",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Dossier où écrire, pour chaque fichier lisible qui a au moins un problème (avertissements compris), le questionnaire annoté à renvoyer au département.",
)
@click.option(
    "--respondent",
    "expected",
    default=None,
    metavar="CODE",
    help="Code du répondant dont les fichiers doivent venir (ex. D26).",
)
@workers_option
@timeout_option
@click.pass_context
def check(
    context: click.Context,
    files: tuple[Path, ...],
    year: int,
    output_format: str,
    annotate: Path | None,
    expected: str | None,
    workers: int | None,
    timeout: float,
) -> None:
    """Contrôle les questionnaires reçus et dit précisément quoi corriger.

    FICHIERS : fichiers (.xlsx, .xlsm, .ods, .xls) ou dossiers à contrôler. Les
    fichiers ne sont jamais modifiés. Code de sortie : 0 si tous les fichiers
    sont valides (avertissements permis), 1 si l'un d'eux a des erreurs ou est
    illisible, 2 pour une erreur d'utilisation.
    """
    from panorama_xl.annotate import annotated_name
    from panorama_xl.report import render_json, render_text
    from panorama_xl.runner import Task, check_many
    from panorama_xl.safety import Limits

    survey = _load(context)
    if expected is not None:
        _check_respondent_code(survey, expected, year)
    paths = expand_paths(files)
    if not paths:
        raise click.UsageError(
            "aucun fichier à contrôler dans "
            + ", ".join(str(path) for path in files)
            + " (fichiers cachés et fichiers de verrouillage ignorés)."
        )
    order = {path: index for index, path in enumerate(paths)}
    taken: set[str] = set()
    tasks = [
        Task(
            path,
            expected,
            annotate / annotated_name(path, taken) if annotate else None,
            annotate_warnings=True,
        )
        for path in paths
    ]
    reports = sorted(
        check_many(
            tasks, survey, year, workers=workers, limits=Limits(seconds=timeout)
        ),
        key=lambda report: order[Path(report.path)],
    )

    for report in reports:
        if report.annotated and output_format == "text":
            click.echo(f"Questionnaire annoté : {report.annotated}", err=True)
    if output_format == "json":
        click.echo(render_json(reports, survey, year))
    else:
        click.echo(render_text(reports, survey))
    hint = _year_hint(
        [report.fingerprint.year for report in reports if report.fingerprint], year
    )
    if hint:
        click.echo(f"Attention : {hint}", err=True)
    if any(not report.accepted for report in reports):
        context.exit(EXIT_PROBLEMS)


database_option = click.option(
    "--db",
    "database",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("build") / "panorama.sqlite",
    show_default=True,
    help="Base historique SQLite des réponses acceptées.",
)


@main.command()
@click.argument(
    "directory",
    metavar="DOSSIER",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
@year_option
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Dossier du tableau de bord et des questionnaires annotés [défaut : build/ANNÉE/collecte].",
)
@database_option
@workers_option
@timeout_option
@click.pass_context
def collect(
    context: click.Context,
    directory: Path,
    year: int,
    output: Path | None,
    database: Path,
    workers: int | None,
    timeout: float,
) -> None:
    """Contrôle tous les retours d'un dossier, archive les réponses valides et dit qui a répondu.

    DOSSIER et ses sous-dossiers sont parcourus ; un sous-dossier nommé
    d'après un code de répondant (D26, CEA…) indique de qui viennent ses
    fichiers. Quand une collectivité a envoyé plusieurs fichiers, le plus
    récent des fichiers valides est retenu. Relancer la collecte sur les mêmes
    fichiers ne change rien. Code de sortie : 0 quand le tableau de bord est
    écrit, quel que soit l'état des réponses.
    """
    from panorama_xl.board import render_board_text
    from panorama_xl.collect import campaign_files
    from panorama_xl.collect import collect as run_collect
    from panorama_xl.safety import Limits

    survey = _load(context)
    output = output or Path("build") / str(year) / "collecte"
    total = len(campaign_files(directory, [output, database]))
    started = time.perf_counter()
    with _progress(total, "Contrôle des retours") as bar:
        campaign = run_collect(
            directory,
            survey,
            year,
            output=output,
            database=database,
            workers=workers,
            limits=Limits(seconds=timeout),
            progress=lambda _summary: bar.update(1),
        )
    elapsed = time.perf_counter() - started
    click.echo(render_board_text(campaign))
    click.echo("")
    click.echo(f"{len(campaign.files)} fichier(s) contrôlé(s) en {elapsed:.1f} s.")
    click.echo(f"Tableau de bord : {campaign.board}")
    if campaign.annotated_folder is not None:
        click.echo(f"Questionnaires annotés à renvoyer : {campaign.annotated_folder}")
    click.echo(f"Base historique : {database}")
    if not campaign.files:
        click.echo(f"Attention : aucun fichier trouvé dans {directory}.", err=True)
    hint = _year_hint(list(campaign.template_years.values()), year)
    if hint:
        click.echo(f"Attention : {hint}", err=True)


@main.command()
@year_option
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Classeur à écrire [défaut : build/ANNÉE/panorama-ANNÉE-consolide.xlsx].",
)
@database_option
@click.pass_context
def consolidate(
    context: click.Context, year: int, output: Path | None, database: Path
) -> None:
    """Écrit le classeur de synthèse de l'année à partir de la base historique.

    Toutes les lignes acceptées, des tableaux de synthèse calculés par
    formules (avec leurs valeurs), des graphiques et la liste des réponses.
    """
    from panorama_xl.consolidate import consolidate as run_consolidate
    from panorama_xl.consolidate import master_name
    from panorama_xl.history import History

    survey = _load(context)
    if not database.is_file():
        raise click.UsageError(
            f"base historique introuvable : {database}. Lancez d'abord « panorama collect »,"
            " ou indiquez la base avec --db (celle de la démonstration est"
            " build/demo/panorama.sqlite)."
        )
    with History(database) as history:
        returns = history.returns(year)
    if not returns:
        raise click.UsageError(f"aucune réponse acceptée pour {year} dans {database}.")
    output = output or Path("build") / str(year) / master_name(year)
    started = time.perf_counter()
    run_consolidate(survey, year, database, output)
    rows = sum(item.rows for item in returns)
    click.echo(
        f"Classeur consolidé : {output} ({len(returns)} réponses, {rows} applications, {time.perf_counter() - started:.1f} s)."
    )


@main.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build") / "demo",
    show_default=True,
    help="Dossier de la campagne de démonstration, vide ou d'une démonstration précédente, dont les fichiers sont remplacés à chaque lancement.",
)
@year_option
@click.option(
    "--seed",
    type=int,
    default=2027,
    show_default=True,
    help="Graine du générateur aléatoire : la même graine donne les mêmes réponses.",
)
@click.option(
    "--no-libreoffice",
    is_flag=True,
    help="N'utilise pas LibreOffice, même s'il est installé : tous les retours sont écrits en Python.",
)
@workers_option
@click.pass_context
def demo(
    context: click.Context,
    output: Path,
    year: int,
    seed: int,
    no_libreoffice: bool,
    workers: int | None,
) -> None:
    """Déroule une campagne complète sur des réponses fictives réalistes.

    Questionnaires de l'année, une réponse pour la plupart des collectivités
    (une part saisie dans LibreOffice quand il est installé, une part avec les
    erreurs habituelles), quelques collectivités sans réponse, puis collecte,
    tableau de bord et classeur consolidé.
    """
    from panorama_xl.board import render_board_text
    from panorama_xl.demo import run_demo

    survey = _load(context)
    started = time.perf_counter()
    try:
        result = run_demo(
            output,
            survey,
            year,
            seed=seed,
            libreoffice=not no_libreoffice,
            workers=workers,
            say=click.echo,
        )
    except InputError as error:
        raise click.UsageError(str(error)) from error
    click.echo("")
    click.echo(render_board_text(result.campaign))
    click.echo("")
    click.echo(
        f"Démonstration terminée en {time.perf_counter() - started:.0f} s. À regarder :"
    )
    click.echo(f"  questionnaires envoyés        {result.templates}")
    click.echo(f"  retours reçus                 {result.returns}")
    click.echo(f"  tableau de bord               {result.board}")
    if result.annotated is not None:
        click.echo(f"  questionnaires à renvoyer     {result.annotated}")
    click.echo(f"  classeur consolidé            {result.master}")
    click.echo(f"  base historique               {result.database}")
    if not result.libreoffice:
        click.echo(
            f"Note : aucun retour n'est passé par LibreOffice ({result.libreoffice_reason})."
        )


def run() -> None:
    """Entry point that turns unexpected panorama errors into a message and status 1."""
    try:
        main(standalone_mode=True)
    except PanoramaError as error:
        click.echo(f"Erreur : {error}", err=True)
        sys.exit(EXIT_PROBLEMS)


if __name__ == "__main__":
    run()
