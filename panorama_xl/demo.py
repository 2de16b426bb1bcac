"""A whole campaign on realistic, synthetic returns: the first thing a newcomer runs.

``run_demo`` writes this year's questionnaires, then a return for most
responding bodies: an inventory of 100 to 400 applications drawn from the
vocabularies with a seeded random generator. Where LibreOffice is installed,
a share of the returns is typed into the questionnaire by LibreOffice itself
and saved as xlsx or ods. Other returns carry the mistakes real respondents
make: pasted text with typos and odd spacing, missing required cells, last
year's questionnaire, removed protection, a password-protected file, a file
that is not a spreadsheet, a body that sends two versions. A few bodies never
answer. The demo then collects the folder and writes the master workbook.

Every value is synthetic: product and vendor names come from the vocabularies,
free values are generic (« Application métier interne ») and contact
addresses use the reserved ``.invalid`` domain.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from panorama_xl.answers import Answers
from panorama_xl.errors import InputError
from panorama_xl.layout import Layout
from panorama_xl.package import rewrite_member
from panorama_xl.survey import Survey, load_survey
from panorama_xl.template import (
    QuestionnaireWriter,
    questionnaire_name,
    write_templates,
)
from panorama_xl.vocabulary import OTHER_LABEL, Entry

DOMAIN_WEIGHTS = {
    "SOC": 26,
    "TRA": 30,
    "EDU": 8,
    "CUL": 8,
    "MOB": 9,
    "AMG": 5,
    "ECO": 4,
    "ENV": 4,
    "SEC": 2,
    "GEN": 4,
}
HOSTING_WEIGHTS = {
    "SUR_SITE": 40,
    "MUTUALISE_PUBLIC": 6,
    "PRESTATAIRE": 14,
    "SAAS": 28,
    "CLOUD_PUBLIC": 4,
    "SECNUMCLOUD": 3,
    "HDS": 3,
    "INCONNU": 2,
}
RENEWAL_WEIGHTS = {
    "AUCUN": 30,
    "EN_COURS": 6,
    "MOINS_1_AN": 10,
    "DE_1_A_3_ANS": 22,
    "DE_3_A_5_ANS": 14,
    "PLUS_5_ANS": 6,
    "NE_SAIT_PAS": 12,
}
CONSULTANT_WEIGHTS = {"AUCUN": 45, "INTERNE": 20, "OTHER": 15, "NAMED": 20}
APPLICATION_WORDS = [
    "Gestion",
    "Suivi",
    "Portail",
    "Référentiel",
    "Instruction",
    "Tableau de bord",
    "Outil",
]
FREE_PRODUCTS = [
    "Application métier interne",
    "Progiciel spécialisé",
    "Outil bureautique avancé",
    "Application web sur mesure",
]
FREE_VENDORS = [
    "Éditeur spécialisé (hors liste)",
    "Prestataire régional",
    "Éditeur national (hors liste)",
    "Société de services locale",
    "Intégrateur régional",
    "Opérateur public de services numériques",
]
#: Share of a body's rows that are not a product of the lists: in-house, another
#: product of a vendor the body already uses, an unlisted vendor.
OFF_LIST_WEIGHTS = {"in-house": 40, "known-vendor": 15, "other-vendor": 45}
#: Chance that a body runs one of the listed products of a sub-domain.
EQUIPPED = 0.85
FREE_CONSULTANTS = ["Cabinet de conseil (hors liste)", "Syndicat mixte informatique"]
COMMENTS = [
    "Migration prévue",
    "Utilisé par la MDPH",
    "Marché en cours de rédaction",
    "Interfacé avec le SIG",
    "Satisfaction variable selon les services",
]

# How many bodies get each fate; the rest return a clean file written in Python.
MISSING = 6
LIBREOFFICE_RETURNS = 8
MISTAKES = {
    "odd-spacing": 4,
    "typos": 3,
    "missing-cells": 3,
    "last-year": 2,
    "unprotected": 2,
    "encrypted": 1,
    "not-a-spreadsheet": 1,
    "two-versions": 3,
}


@dataclass
class Planned:
    """A file the demo writes: which body, how, and under which name."""

    code: str
    fate: str
    path: Path
    answers: Answers | None = None
    year: int = 0
    received: float = 0.0


@dataclass
class DemoResult:
    """Where the demo wrote what, and what it measured."""

    output: Path
    year: int
    templates: Path
    returns: Path
    board: Path | None = None
    master: Path | None = None
    database: Path | None = None
    annotated: Path | None = None
    libreoffice: bool = False
    libreoffice_reason: str = ""
    fates: dict[str, int] = field(default_factory=dict)
    rows: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    campaign: object = None


class InventoryGenerator:
    """Draws realistic, synthetic answers from the vocabularies."""

    def __init__(self, survey: Survey, year: int, seed: int):
        self.survey = survey
        self.year = year
        self.random = random.Random(seed)
        vocabularies = survey.vocabularies
        self.domains = vocabularies["domains"]
        self.subdomains_of: dict[str, list[Entry]] = {}
        for entry in vocabularies["subdomains"].offered(year):
            self.subdomains_of.setdefault(entry.links["domains"], []).append(entry)
        # Listed products that compete for the same need (a sub-domain, or a domain
        # for products tied to no sub-domain), each with its market weight.
        self.markets: dict[str, list[Entry]] = {}
        for entry in vocabularies["products"].offered(year):
            if not entry.uncertain:
                need = entry.links.get("subdomains") or entry.links.get("domains", "")
                self.markets.setdefault(need, []).append(entry)
        # A stream of its own, so that the plan of returns drawn from self.random
        # (which body sends what) does not depend on the number of products.
        weights = random.Random(f"{seed}-markets")
        self.weight = {
            entry.code: weights.uniform(0.2, 1.0)
            for entries in self.markets.values()
            for entry in entries
        }
        self.vendors = vocabularies["vendors"]
        self.consultants = [
            entry
            for entry in vocabularies["consultants"].offered(year)
            if entry.code not in ("AUCUN", "INTERNE")
        ]
        self.quality = {
            entry.code: self.random.uniform(2.2, 4.6)
            for entry in vocabularies["products"].entries
        }

    def weighted(self, weights: dict[str, int]) -> str:
        return self.random.choices(list(weights), weights=list(weights.values()))[0]

    def label(self, vocabulary: str, code: str) -> str:
        return self.survey.vocabularies[vocabulary].by_code[code].label

    def answers(self, code: str, rows: int) -> Answers:
        """Return a complete return for body ``code`` with ``rows`` applications."""
        respondent = self.survey.respondents.by_code[code]
        identity = {
            "respondent": respondent.label,
            "contact_name": "Responsable du panorama",
            "contact_role": self.random.choice(
                ["DSI", "Directeur adjoint", "Responsable des études", "Chef de projet"]
            ),
            "contact_email": f"panorama.{code.lower()}@departement.invalid",
            "filled_on": dt.date(
                self.year, self.random.randint(1, 5), self.random.randint(1, 28)
            ),
        }
        suite = self.weighted(
            {
                "M365": 45,
                "MS_OFFICE": 30,
                "LIBREOFFICE": 15,
                "ZIMBRA": 5,
                "GOOGLE_WORKSPACE": 5,
            }
        )
        sovereign = self.random.random() < 0.2
        choices = {
            "office_suite": self.label("office_suites", suite),
            "collaboration_platform": self.label(
                "collaboration_platforms",
                self.random.choice(
                    [
                        entry.code
                        for entry in self.survey.vocabularies[
                            "collaboration_platforms"
                        ].entries
                    ]
                ),
            ),
            "public_cloud": self.label(
                "public_clouds",
                self.weighted(
                    {"AUCUN": 55, "AZURE": 25, "AWS": 8, "GCP": 4, "PLUSIEURS": 8}
                ),
            ),
            "sovereign_cloud": "Oui" if sovereign else "Non",
        }
        if sovereign:
            choices["sovereign_cloud_offer"] = (
                "Offre qualifiée SecNumCloud d'un hébergeur"
            )
        # One row per product the body runs, then applications off the lists.
        products = [
            self.random.choices(entries, [self.weight[e.code] for e in entries])[0]
            for need, entries in sorted(self.markets.items())
            if self.random.random() < EQUIPPED
        ][:rows]
        known_vendors = sorted(
            {
                product.links["vendors"]
                for product in products
                if "vendors" in product.links
            }
        )
        products += [None] * (rows - len(products))
        self.random.shuffle(products)
        table = {
            index: self.row(index, product, known_vendors)
            for index, product in enumerate(products)
        }
        return Answers(
            forms={"identity": identity, "choices": choices},
            tables={"applications": table},
        )

    def row(
        self, index: int, product: Entry | None, known_vendors: list[str]
    ) -> dict[str, object]:
        """Return one application row: ``product`` from the lists, or one off the lists when None.

        ``known_vendors`` are the codes of the vendors whose listed products the
        body runs; some of its other applications come from them.
        """
        subdomain: Entry | None = None
        if product is not None:
            domain = self.survey.ancestor(product, "domains") or ""
            if "subdomains" in product.links:
                subdomain = self.survey.vocabularies["subdomains"].by_code[
                    product.links["subdomains"]
                ]
        else:
            domain = self.weighted(DOMAIN_WEIGHTS)
        subdomains = self.subdomains_of.get(domain, [])
        if subdomain is None and subdomains and self.random.random() < 0.9:
            subdomain = self.random.choice(subdomains)
        topic = subdomain.label if subdomain else self.label("domains", domain)
        row: dict[str, object] = {
            "domain": self.label("domains", domain),
            "application": f"{self.random.choice(APPLICATION_WORDS)} — {topic.split(',')[0].split(':')[0].strip()} {index + 1}",
            "hosting": self.label("hosting", self.weighted(HOSTING_WEIGHTS)),
            "renewal": self.label("renewal", self.weighted(RENEWAL_WEIGHTS)),
        }
        if subdomain:
            row["subdomain"] = subdomain.label
        quality = 3.2
        off_list = self.weighted(OFF_LIST_WEIGHTS) if product is None else ""
        if product is not None:
            quality = self.quality[product.code]
            row["product"] = product.label
            vendor = product.links.get("vendors")
            if vendor:
                row["vendor"] = self.vendors.by_code[vendor].label
            else:
                row["vendor"] = OTHER_LABEL
                row["vendor_other"] = self.random.choice(FREE_VENDORS)
        elif off_list == "in-house" or (
            off_list == "known-vendor" and not known_vendors
        ):
            row["vendor"] = self.vendors.by_code["INTERNE"].label
            row["product"] = OTHER_LABEL
            row["product_other"] = "Application métier interne"
        elif off_list == "known-vendor":
            row["vendor"] = self.vendors.by_code[
                self.random.choice(known_vendors)
            ].label
            row["product"] = OTHER_LABEL
            row["product_other"] = self.random.choice(FREE_PRODUCTS)
        else:
            row["vendor"] = OTHER_LABEL
            row["vendor_other"] = self.random.choice(FREE_VENDORS)
            row["product"] = OTHER_LABEL
            row["product_other"] = self.random.choice(FREE_PRODUCTS)
        consultant = self.weighted(CONSULTANT_WEIGHTS)
        if consultant == "OTHER":
            row["consultant"] = OTHER_LABEL
            row["consultant_other"] = self.random.choice(FREE_CONSULTANTS)
        elif consultant == "NAMED":
            row["consultant"] = self.random.choice(self.consultants).label
        else:
            row["consultant"] = self.label("consultants", consultant)
        row["satisfaction"] = max(1, min(5, round(self.random.gauss(quality, 0.9))))
        if self.random.random() < 0.7:
            row["in_service_since"] = self.random.randint(1995, self.year)
        if self.random.random() < 0.12:
            row["comments"] = self.random.choice(COMMENTS)
        return row

    # Mistakes ------------------------------------------------------------------------------

    def odd_spacing(self, answers: Answers) -> None:
        """Make choices look pasted: other case, doubled and non-breaking spaces, lost accents."""
        for row in answers.tables["applications"].values():
            for key in ("domain", "hosting", "renewal"):
                if isinstance(row.get(key), str) and self.random.random() < 0.6:
                    row[key] = _messy(row[key], self.random)

    def typos(self, answers: Answers) -> None:
        """Plant a few genuine typos in vendor and hosting values."""
        rows = answers.tables["applications"]
        for index in self.random.sample(sorted(rows), 4):
            key = (
                "vendor"
                if rows[index].get("vendor") not in (None, OTHER_LABEL)
                else "hosting"
            )
            rows[index][key] = _typo(str(rows[index][key]), self.random)

    def missing_cells(self, answers: Answers) -> None:
        rows = answers.tables["applications"]
        for index in self.random.sample(sorted(rows), 5):
            rows[index].pop(
                self.random.choice(["hosting", "application", "satisfaction"]), None
            )


def _messy(text: str, generator: random.Random) -> str:
    import unicodedata

    if generator.random() < 0.5:
        text = "".join(
            ch
            for ch in unicodedata.normalize("NFKD", text)
            if not unicodedata.combining(ch)
        )
    text = text.upper() if generator.random() < 0.3 else text.lower()
    return "  " + text.replace(" ", generator.choice(["  ", "\u00a0", " "])) + " "


def _typo(text: str, generator: random.Random) -> str:
    if len(text) < 5:
        return text + "x"
    position = generator.randint(1, len(text) - 2)
    return text[:position] + text[position + 1 :]


# Writing returns -------------------------------------------------------------------------

# One survey and one writer per year in each worker process.
_survey: Survey | None = None
_writers: dict[int, QuestionnaireWriter] = {}


def _start_writer(directory: str) -> None:
    global _survey
    _survey = load_survey(directory)


def _write_planned(item: Planned) -> str:
    assert _survey is not None
    writer = _writers.get(item.year)
    if writer is None:
        writer = _writers[item.year] = QuestionnaireWriter(_survey, item.year)
    respondent = item.code if item.fate not in ("last-year",) else None
    writer.write(item.path, respondent=respondent, answers=item.answers)
    if item.fate == "unprotected":
        _remove_protection(item.path)
    elif item.fate == "encrypted":
        _encrypt(item.path)
    return str(item.path)


def _remove_protection(path: Path) -> None:
    """Remove every sheet's protection, as a respondent who unprotects the sheets does."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as package:
        sheets = [
            name
            for name in package.namelist()
            if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name)
        ]
    for name in sheets:
        rewrite_member(
            path, name, lambda xml: re.sub(rb"<sheetProtection\b[^>]*/>", b"", xml)
        )


def _encrypt(path: Path) -> None:
    import msoffcrypto.format.ooxml

    plain = path.read_bytes()
    source = path.with_suffix(".plain.xlsx")
    source.write_bytes(plain)
    try:
        with source.open("rb") as handle, path.open("wb") as output:
            msoffcrypto.format.ooxml.OOXMLFile(handle).encrypt("motdepasse", output)
    finally:
        source.unlink()


#: Marker file of a demo folder: the next demo empties only a folder that contains it.
DEMO_MARK = ".panorama-demo"


def _claim_folder(output: Path) -> None:
    """Make sure ``output`` is empty or a former demo's folder, and mark it as the demo's.

    The demo replaces its database and folders on each run; in a folder where
    a coordinator keeps a real campaign, that would delete the history.
    """
    mark = output / DEMO_MARK
    if output.exists() and not mark.exists():
        if not output.is_dir():
            raise InputError(f"{output} n'est pas un dossier.")
        if any(output.iterdir()):
            raise InputError(
                f"le dossier {output} contient déjà des fichiers qui ne viennent pas"
                " d'une démonstration ; la démonstration remplace le contenu de son"
                " dossier. Choisissez un dossier vide ou nouveau avec -o."
            )
    output.mkdir(parents=True, exist_ok=True)
    mark.write_text(
        "Dossier de démonstration de panorama-xl : remplacé à chaque lancement de"
        " « panorama demo ».\n",
        encoding="utf-8",
    )


def run_demo(
    output: Path,
    survey: Survey,
    year: int,
    *,
    seed: int = 2027,
    libreoffice: bool = True,
    workers: int | None = None,
    say: Callable[[str], None] = print,
) -> DemoResult:
    """Run the whole demo campaign into ``output`` and return where everything is.

    The previous outputs of a demo in the same folder (questionnaires, returns,
    collect outputs, database) are replaced.

    Raises:
        InputError: ``output`` contains files that no demo wrote.
    """
    from panorama_xl.collect import collect
    from panorama_xl.consolidate import consolidate, master_name
    from panorama_xl.libreoffice import unavailable_reason

    output = Path(output)
    result = DemoResult(output, year, output / "questionnaires", output / "retours")
    _claim_folder(output)
    for stale in (result.templates, result.returns, output / "collecte"):
        if stale.exists():
            shutil.rmtree(stale)
    database = output / "panorama.sqlite"
    database.unlink(missing_ok=True)

    reason = unavailable_reason() if libreoffice else "désactivé par --no-libreoffice"
    result.libreoffice = reason is None
    result.libreoffice_reason = reason or ""

    started = time.perf_counter()
    codes = [entry.code for entry in survey.respondents.offered(year)]
    write_templates(survey, year, result.templates, codes, workers=workers)
    result.seconds["questionnaires"] = time.perf_counter() - started
    say(
        f"{len(codes) + 1} questionnaires écrits dans {result.templates} ({result.seconds['questionnaires']:.1f} s)."
    )

    started = time.perf_counter()
    planned = plan_returns(survey, year, seed, result)
    python_items = [
        item
        for item in planned
        if item.fate not in ("libreoffice-xlsx", "libreoffice-ods", "not-a-spreadsheet")
    ]
    for item in planned:
        item.path.parent.mkdir(parents=True, exist_ok=True)
    count = workers or os.cpu_count() or 1
    with ProcessPoolExecutor(
        max_workers=count, initializer=_start_writer, initargs=(str(survey.directory),)
    ) as pool:
        list(pool.map(_write_planned, python_items, chunksize=2))
    for item in planned:
        if item.fate == "not-a-spreadsheet":
            item.path.write_bytes(
                b"%PDF-1.4\n% Export PDF du tableau des applications\n"
            )
    lo_items = [item for item in planned if item.fate.startswith("libreoffice")]
    if lo_items:
        _fill_with_libreoffice(survey, year, result, lo_items)
    for item in planned:
        if item.path.exists():
            os.utime(item.path, (item.received, item.received))
    result.seconds["retours"] = time.perf_counter() - started
    result.fates = _count_fates(planned)
    result.rows = sum(
        item.answers.row_count("applications")
        for item in planned
        if item.answers is not None
    )
    if result.libreoffice:
        origin = f"dont {len(lo_items)} saisis dans LibreOffice et enregistrés en xlsx et en ods"
    elif not libreoffice:
        origin = f"tous écrits en Python ({reason})"
    else:
        origin = f"tous écrits en Python, car LibreOffice est indisponible ({reason})"
    say(
        f"{len(planned)} fichiers de retour écrits dans {result.returns}, {origin} ({result.seconds['retours']:.1f} s)."
    )

    started = time.perf_counter()
    campaign = collect(
        result.returns,
        survey,
        year,
        output=output / "collecte",
        database=database,
        workers=workers,
    )
    result.seconds["collecte"] = time.perf_counter() - started
    result.board = campaign.board
    result.annotated = campaign.annotated_folder
    result.database = database
    say(
        f"Collecte : {len(campaign.files)} fichiers contrôlés ({result.seconds['collecte']:.1f} s)."
    )

    started = time.perf_counter()
    result.master = consolidate(survey, year, database, output / master_name(year))
    result.seconds["consolidation"] = time.perf_counter() - started
    say(f"Consolidation : {result.master} ({result.seconds['consolidation']:.1f} s).")
    result.campaign = campaign
    return result


def plan_returns(
    survey: Survey, year: int, seed: int, result: DemoResult
) -> list[Planned]:
    """Decide, with the seeded generator, what each body sends, and draw its answers."""
    generator = InventoryGenerator(survey, year, seed)
    codes = [entry.code for entry in survey.respondents.offered(year)]
    order = codes[:]
    generator.random.shuffle(order)
    fates: list[str] = ["missing"] * MISSING
    if result.libreoffice:
        fates += ["libreoffice-xlsx", "libreoffice-ods"] * (LIBREOFFICE_RETURNS // 2)
    for fate, count in MISTAKES.items():
        fates += [fate] * count
    fates += ["clean"] * (len(order) - len(fates))
    base = dt.datetime(year, 3, 1, 9, 0, tzinfo=dt.timezone.utc).timestamp()
    planned: list[Planned] = []
    rows_limit = Layout(survey).tables[0].rows
    for position, (code, fate) in enumerate(zip(order, fates)):
        if fate == "missing":
            continue
        size = min(generator.random.randint(100, 400), rows_limit)
        answers = generator.answers(code, size)
        received = base + position * 3600 * 5
        folder = result.returns / ("plateforme" if position % 3 else "courriels")
        name = questionnaire_name(year, code)
        if fate == "odd-spacing":
            generator.odd_spacing(answers)
        elif fate == "typos":
            generator.typos(answers)
        elif fate == "missing-cells":
            generator.missing_cells(answers)
        elif fate == "not-a-spreadsheet":
            name = f"panorama-{year}-{code}.pdf"
        elif fate == "libreoffice-ods":
            name = name.replace(".xlsx", ".ods")
        elif fate == "two-versions":
            first = generator.answers(code, size)
            generator.missing_cells(first)
            planned.append(
                Planned(
                    code,
                    "two-versions-first",
                    folder / name.replace(".xlsx", "-v1.xlsx"),
                    first,
                    year,
                    received,
                )
            )
            name = name.replace(".xlsx", "-v2.xlsx")
            received += 3600 * 24 * 7
        elif fate == "last-year":
            name = f"Panorama DSI {year - 1} - {code}.xlsx"
        planned.append(
            Planned(
                code,
                fate,
                folder / name,
                answers,
                year - 1 if fate == "last-year" else year,
                received,
            )
        )
    return planned


def _fill_with_libreoffice(
    survey: Survey, year: int, result: DemoResult, items: list[Planned]
) -> None:
    """Type each planned return into its personalised questionnaire through LibreOffice."""
    from panorama_xl.libreoffice import Job, run_jobs

    layout = Layout(survey)
    jobs = []
    for number, item in enumerate(items):
        cells = _cells(layout, item.answers)
        mode = "paste" if number == 1 else "type"
        if number == 0:
            # Someone typed a formula, and a rating out of range, into the sheet.
            table = layout.tables[0]
            cells.append((table.name, table.cell("satisfaction", 3), "=2+2"))
            cells.append((table.name, table.cell("satisfaction", 7), "6"))
        jobs.append(
            Job(
                result.templates / questionnaire_name(year, item.code),
                [item.path],
                cells=cells,
                mode=mode,
            )
        )
    for item, outcome in zip(items, run_jobs(jobs)):
        if outcome.error:
            raise RuntimeError(
                f"LibreOffice n'a pas pu écrire {item.path.name} : {outcome.error}"
            )


def _cells(layout: Layout, answers: Answers) -> list[tuple[str, str, object]]:
    respondent = layout.survey.respondent_column.key
    cells: list[tuple[str, str, object]] = []
    for form in layout.forms:
        for key, value in answers.forms.get(form.key, {}).items():
            if key == respondent:
                continue  # fixed in a personalised copy
            cells.append(
                (
                    form.name,
                    form.cell(key),
                    value.isoformat() if isinstance(value, dt.date) else value,
                )
            )
    for table in layout.tables:
        for index, row in sorted(answers.tables.get(table.key, {}).items()):
            for key, value in row.items():
                cells.append(
                    (
                        table.name,
                        table.cell(key, index),
                        str(value) if isinstance(value, int) else value,
                    )
                )
    return cells


def _count_fates(planned: list[Planned]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in planned:
        counts[item.fate] = counts.get(item.fate, 0) + 1
    return counts
