"""Write the coordinator's master workbook of one year from the history database.

Every figure of the summary sheets is an Excel formula (COUNTIF, COUNTIFS,
SUMIFS, AVERAGEIFS) over the data sheets, written with its value computed
here in Python and cached in the file. A viewer that does not recalculate
shows the right numbers, and a correction typed in a data sheet flows into
the summaries after recalculation. ``tests/test_consolidate_libreoffice.py``
has LibreOffice recalculate the workbook and compares every formula with its
cached value.

Respondents' texts are always written as strings, never as formulas. The
same database gives the same file byte for byte: sheets, rows and the
document date depend only on the data.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from panorama_xl.dataset import DataRow, Dataset, Usage, load_dataset, received_date
from panorama_xl.history import History
from panorama_xl.package import atomic_path
from panorama_xl.survey import Survey
from panorama_xl.template import FormulaWorksheet

#: A mean below this, given by at least ``MIN_RATERS`` bodies, is highlighted as low.
LOW_SATISFACTION = 2.5
HIGH_SATISFACTION = 4.0
MIN_RATERS = 3
#: Renewal codes that count as « within a year ».
SOON = ("MOINS_1_AN", "EN_COURS")

DATA = "Données"
USAGES = "Usages"
DOMAIN_USAGES = "Usages par domaine"
RESPONSES = "Réponses"


def master_name(year: int) -> str:
    return f"panorama-{year}-consolide.xlsx"


def consolidate(survey: Survey, year: int, database: Path, output: Path) -> Path:
    """Write the master workbook of ``year`` atomically and return its path."""
    with History(database) as history:
        dataset = load_dataset(survey, history, year)
    with atomic_path(output) as temporary:
        _Master(survey, dataset, temporary).build()
    return Path(output)


@dataclass
class Column:
    """A column of a table: a header, and per row either a value or a formula with its cached value."""

    header: str
    width: float
    value: Callable[[object], object]
    formula: Callable[[object, int], str] | None = None
    style: str = "text"


class _Master:
    """The master workbook being written."""

    def __init__(self, survey: Survey, dataset: Dataset, path: Path):
        self.survey = survey
        self.data = dataset
        self.year = dataset.year
        self.book: Workbook = xlsxwriter.Workbook(
            str(path),
            {
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "constant_memory": False,
            },
        )
        self.book.worksheet_class = FormulaWorksheet
        self.formats = self._formats()
        self.rows = dataset.rows
        self.last = max(len(self.rows) + 1, 2)
        self.columns = _DATA_COLUMNS

    # Formats -----------------------------------------------------------------------

    def _formats(self) -> dict[str, object]:
        base = {"font_name": "Calibri", "font_size": 10, "valign": "top"}
        styles = {
            "title": {"bold": True, "font_size": 14, "font_color": "#1F4E78"},
            "subtitle": {"italic": True, "font_color": "#595959", "text_wrap": True},
            "section": {"bold": True, "font_size": 11, "font_color": "#1F4E78"},
            "header": {
                "bold": True,
                "font_color": "#FFFFFF",
                "bg_color": "#1F4E78",
                "text_wrap": True,
                "border": 1,
            },
            "text": {},
            "wrap": {"text_wrap": True},
            "int": {"num_format": "0"},
            "float": {"num_format": "0.00"},
            "percent": {"num_format": "0%"},
            "big": {"bold": True, "font_size": 12, "num_format": "0"},
            "bigfloat": {"bold": True, "font_size": 12, "num_format": "0.00"},
            "bigpercent": {"bold": True, "font_size": 12, "num_format": "0%"},
            "code": {"font_color": "#595959"},
        }
        formats = {
            name: self.book.add_format(base | style) for name, style in styles.items()
        }
        formats["low"] = self.book.add_format(
            {"bg_color": "#FFC7CE", "font_color": "#9C0006", "bold": True}
        )
        formats["high"] = self.book.add_format(
            {"bg_color": "#C6EFCE", "font_color": "#006100"}
        )
        formats["soon"] = self.book.add_format(
            {"bg_color": "#FFEB9C", "font_color": "#9C5700", "bold": True}
        )
        return formats

    # Ranges over the data sheets ----------------------------------------------------------

    def data_range(self, key: str) -> str:
        index = [column[0] for column in self.columns].index(key)
        letter = xl_col_to_name(index)
        return f"'{DATA}'!${letter}$2:${letter}${self.last}"

    def usage_range(self, sheet: str, key: str) -> str:
        columns = _USAGE_COLUMNS if sheet == USAGES else _DOMAIN_USAGE_COLUMNS
        index = [column[0] for column in columns].index(key)
        letter = xl_col_to_name(index)
        rows = len(self.data.usages if sheet == USAGES else self.data.domain_usages)
        return f"'{sheet}'!${letter}$2:${letter}${max(rows + 1, 2)}"

    def response_range(self, key: str) -> str:
        index = [column[0] for column in self.response_columns()].index(key)
        letter = xl_col_to_name(index)
        return f"'{RESPONSES}'!${letter}$2:${letter}${len(self.data.responses) + 1}"

    # Build ------------------------------------------------------------------------------

    def build(self) -> None:
        definition = self.survey.definition
        self.book.set_properties(
            {
                "title": f"{definition.title} {self.year} : consolidation",
                "subject": definition.survey,
                "author": definition.organiser,
                "company": definition.organiser,
                "created": received_date(self.data),
                "comments": "Classeur consolidé écrit par panorama-xl",
            }
        )
        self.summary_sheet()
        self.responses_summary_sheet()
        self.domains_sheet()
        self.vendors_by_domain_sheet()
        self.products_by_domain_sheet()
        self.satisfaction_sheet("Satisfaction produits", "product", "Produit")
        self.satisfaction_sheet("Satisfaction éditeurs", "vendor", "Éditeur")
        self.renewals_sheet()
        self.simple_sheet("AMO", "consultant", "Prestataire (AMO)")
        self.simple_sheet("Hébergement", "hosting", "Mode d'hébergement", share=True)
        self.choices_sheet()
        self.free_values_sheet()
        self.data_sheet()
        self.usage_sheet(USAGES, self.data.usages, _USAGE_COLUMNS)
        self.usage_sheet(DOMAIN_USAGES, self.data.domain_usages, _DOMAIN_USAGE_COLUMNS)
        self.responses_sheet()
        self.book.close()

    # Generic table writer ------------------------------------------------------------------

    def table(
        self,
        sheet: Worksheet,
        top: int,
        keys: Sequence[object],
        columns: Sequence[Column],
    ) -> tuple[int, int]:
        """Write a header row at ``top`` and one row per key; return the first and last data rows (0-based)."""
        for index, column in enumerate(columns):
            sheet.write_string(top, index, column.header, self.formats["header"])
            sheet.set_column(index, index, column.width)
        for offset, key in enumerate(keys):
            row = top + 1 + offset
            for index, column in enumerate(columns):
                value = column.value(key)
                style = self.formats[column.style]
                if column.formula is not None:
                    cached = "" if value is None else value
                    sheet.write_formula(
                        row, index, column.formula(key, row + 1), style, cached
                    )
                elif value is None or value == "":
                    sheet.write_blank(row, index, None, style)
                elif isinstance(value, (int, float)) and not isinstance(value, bool):
                    sheet.write_number(row, index, value, style)
                else:
                    sheet.write_string(row, index, str(value), style)
        return top + 1, top + len(keys)

    def heading(self, sheet: Worksheet, title: str, note: str) -> None:
        sheet.write_string(0, 0, f"{title} — {self.year}", self.formats["title"])
        sheet.write_string(1, 0, note, self.formats["subtitle"])

    def bars(
        self,
        sheet: Worksheet,
        first: int,
        last: int,
        column: int,
        colour: str = "#5B9BD5",
    ) -> None:
        if last >= first:
            sheet.conditional_format(
                first,
                column,
                last,
                column,
                {"type": "data_bar", "bar_color": colour, "bar_solid": True},
            )

    def satisfaction_marks(
        self,
        sheet: Worksheet,
        first: int,
        last: int,
        mean_column: int,
        raters_column: int,
    ) -> None:
        """Highlight low and high means, only where enough bodies gave a rating."""
        if last < first:
            return
        mean = xl_rowcol_to_cell(first, mean_column, col_abs=True)
        raters = xl_rowcol_to_cell(first, raters_column, col_abs=True)
        sheet.conditional_format(
            first,
            mean_column,
            last,
            mean_column,
            {
                "type": "formula",
                "criteria": f"=AND(ISNUMBER({mean}),{mean}<{LOW_SATISFACTION},{raters}>={MIN_RATERS})",
                "format": self.formats["low"],
            },
        )
        sheet.conditional_format(
            first,
            mean_column,
            last,
            mean_column,
            {
                "type": "formula",
                "criteria": f"=AND(ISNUMBER({mean}),{mean}>={HIGH_SATISFACTION},{raters}>={MIN_RATERS})",
                "format": self.formats["high"],
            },
        )

    # Python twins of the formulas ---------------------------------------------------------------

    @staticmethod
    def mean(values: list[int]) -> float | None:
        return sum(values) / len(values) if values else None

    # Summary sheet -------------------------------------------------------------------------------

    def summary_sheet(self) -> None:
        sheet = self.book.add_worksheet("Synthèse")
        self.heading(
            sheet,
            self.survey.definition.title,
            "Chiffres calculés par formules sur les feuilles de données ; ils suivent les corrections après recalcul.",
        )
        sheet.set_column(0, 0, 52)
        sheet.set_column(1, 1, 16)
        sheet.set_column(2, 2, 80)
        answered = sum(1 for response in self.data.responses if response.answered)
        expected = len(self.data.responses)
        ratings = [
            row.satisfaction for row in self.rows if row.satisfaction is not None
        ]
        figures = [
            (
                "Collectivités attendues",
                f"=COUNTA({self.response_range('code')})",
                expected,
                "big",
            ),
            (
                "Collectivités ayant répondu",
                f'=COUNTIF({self.response_range("answered")},"Oui")',
                answered,
                "big",
            ),
            (
                "Taux de réponse",
                "=IFERROR(B5/B4,0)",
                answered / expected if expected else 0,
                "bigpercent",
            ),
            (
                "Applications déclarées",
                f'=COUNTIF({self.data_range("respondent")},"?*")',
                len(self.rows),
                "big",
            ),
            (
                "Satisfaction moyenne (1 à 5)",
                f'=IFERROR(AVERAGE({self.data_range("satisfaction")}),"")',
                self.mean(ratings),
                "bigfloat",
            ),
            (
                "Notes de satisfaction données",
                f"=COUNT({self.data_range('satisfaction')})",
                len(ratings),
                "big",
            ),
        ]
        for offset, (label, formula, value, style) in enumerate(figures):
            row = 3 + offset
            sheet.write_string(row, 0, label, self.formats["text"])
            sheet.write_formula(
                row, 1, formula, self.formats[style], "" if value is None else value
            )
        sheet.write_string(10, 0, "Feuilles", self.formats["section"])
        guide = [
            (RESPONSES + " (résumé)", "Qui a répondu, taux de réponse par région."),
            ("Domaines", "Applications, collectivités et satisfaction par domaine."),
            (
                "Éditeurs par domaine",
                "Éditeurs présents dans chaque domaine, par nombre de collectivités.",
            ),
            (
                "Produits par domaine",
                "Produits présents dans chaque domaine, par nombre de collectivités.",
            ),
            (
                "Satisfaction produits",
                f"Moyenne, répartition de 1 à 5 et nombre de notes par produit ; mise en évidence à partir de {MIN_RATERS} collectivités.",
            ),
            ("Satisfaction éditeurs", "Les mêmes chiffres par éditeur."),
            (
                "Renouvellements",
                "Renouvellements prévus par horizon et par domaine, utiles aux achats groupés.",
            ),
            ("AMO", "Prestataires d'assistance à maîtrise d'ouvrage."),
            ("Hébergement", "Modes d'hébergement."),
            (
                "Choix communs",
                "Suites bureautiques, plateformes collaboratives et cloud.",
            ),
            (
                "Hors liste",
                "Valeurs saisies avec « Autre (préciser) », pour enrichir les listes de l'an prochain.",
            ),
            (DATA, "Toutes les lignes acceptées : codes et libellés, filtres."),
            (
                USAGES + ", " + DOMAIN_USAGES,
                "Une ligne par collectivité et produit (et domaine) : base des décomptes de collectivités.",
            ),
            (RESPONSES, "Une ligne par collectivité attendue."),
        ]
        for offset, (name, text) in enumerate(guide):
            sheet.write_string(11 + offset, 0, name, self.formats["text"])
            sheet.write_string(11 + offset, 2, text, self.formats["wrap"])
        sheet.activate()

    # Responses -------------------------------------------------------------------------------------

    def response_columns(self) -> list[tuple[str, str, float]]:
        columns = [
            ("code", "Code", 8),
            ("label", "Collectivité", 40),
            ("region", "Région", 26),
            ("answered", "A répondu", 10),
            ("rows", "Applications", 12),
            ("file", "Fichier retenu", 34),
            ("received", "Reçu le", 18),
        ]
        for key, label in self.choice_fields():
            columns.append((key, label, 30))
        return columns

    def choice_fields(self) -> list[tuple[str, str]]:
        fields = []
        for sheet in self.survey.definition.sheets:
            if sheet.kind != "form":
                continue
            for column in sheet.columns:
                if column.role != "respondent" and column.type in ("choice", "yes_no"):
                    fields.append((column.key, column.label))
        return fields

    def responses_summary_sheet(self) -> None:
        sheet = self.book.add_worksheet(RESPONSES + " (résumé)")
        self.heading(
            sheet,
            "Réponses par région",
            "Collectivités attendues et ayant répondu, d'après la feuille Réponses.",
        )
        regions = sorted({response.region for response in self.data.responses})
        expected = Counter(response.region for response in self.data.responses)
        answered = Counter(
            response.region for response in self.data.responses if response.answered
        )
        region_range, answered_range = (
            self.response_range("region"),
            self.response_range("answered"),
        )
        columns = [
            Column("Région", 30, lambda key: key),
            Column(
                "Attendues",
                11,
                lambda key: expected[key],
                lambda key, row: f"=COUNTIF({region_range},$A{row})",
                "int",
            ),
            Column(
                "Ayant répondu",
                13,
                lambda key: answered[key],
                lambda key, row: (
                    f'=COUNTIFS({region_range},$A{row},{answered_range},"Oui")'
                ),
                "int",
            ),
            Column(
                "Taux de réponse",
                14,
                lambda key: answered[key] / expected[key] if expected[key] else 0,
                lambda key, row: f"=IFERROR(C{row}/B{row},0)",
                "percent",
            ),
        ]
        first, last = self.table(sheet, 3, regions, columns)
        self.bars(sheet, first, last, 3, "#70AD47")
        chart = self.book.add_chart({"type": "bar"})
        chart.add_series(
            {
                "name": "Taux de réponse",
                "categories": [sheet.name, first, 0, last, 0],
                "values": [sheet.name, first, 3, last, 3],
                "fill": {"color": "#70AD47"},
            }
        )
        chart.set_title({"name": "Taux de réponse par région"})
        chart.set_x_axis({"num_format": "0%", "min": 0, "max": 1})
        chart.set_legend({"none": True})
        chart.set_size({"width": 620, "height": 40 + 22 * max(len(regions), 4)})
        sheet.insert_chart(2, 5, chart)

    def responses_sheet(self) -> None:
        sheet = self.book.add_worksheet(RESPONSES)
        columns = self.response_columns()

        def value(response, key):
            if key == "code":
                return response.code
            if key == "label":
                return response.label
            if key == "region":
                return response.region
            if key == "answered":
                return "Oui" if response.answered else "Non"
            if key == "rows":
                return response.rows if response.answered else None
            if key == "file":
                return response.file_name
            if key == "received":
                return response.received.replace("T", " ")[:16]
            choice = response.choices.get(key)
            return choice.label if choice else ""

        table = [
            Column(
                header,
                width,
                (lambda key, name=name: value(key, name)),
                style="int" if name == "rows" else "text",
            )
            for name, header, width in columns
        ]
        first, last = self.table(sheet, 0, self.data.responses, table)
        sheet.autofilter(0, 0, max(last, 1), len(table) - 1)
        sheet.freeze_panes(1, 2)

    # Domains --------------------------------------------------------------------------------------

    def domains_sheet(self) -> None:
        sheet = self.book.add_worksheet("Domaines")
        self.heading(
            sheet,
            "Applications par domaine",
            "Nombre d'applications déclarées, de collectivités concernées et satisfaction moyenne par domaine.",
        )
        domains = self.survey.vocabularies["domains"]
        keys = [entry.code for entry in domains.offered(self.year)]
        by_domain: dict[str, list[DataRow]] = defaultdict(list)
        for row in self.rows:
            by_domain[row.domain.key].append(row)
        bodies = Counter(
            usage.domain.key
            for usage in self.data.domain_usages
            if usage.first_for_domain
        )
        domain_data, satisfaction = (
            self.data_range("domain"),
            self.data_range("satisfaction"),
        )
        usage_domain, usage_first = (
            self.usage_range(DOMAIN_USAGES, "domain"),
            self.usage_range(DOMAIN_USAGES, "first_for_domain"),
        )
        columns = [
            Column("Code", 8, lambda key: key, style="code"),
            Column("Domaine", 44, lambda key: domains.by_code[key].label),
            Column(
                "Applications",
                13,
                lambda key: len(by_domain[key]),
                lambda key, row: f"=COUNTIF({domain_data},$A{row})",
                "int",
            ),
            Column(
                "Collectivités",
                13,
                lambda key: bodies[key],
                lambda key, row: f"=COUNTIFS({usage_domain},$A{row},{usage_first},1)",
                "int",
            ),
            Column(
                "Notes",
                9,
                lambda key: sum(
                    1 for row in by_domain[key] if row.satisfaction is not None
                ),
                lambda key, row: (
                    f'=COUNTIFS({domain_data},$A{row},{satisfaction},"<>")'
                ),
                "int",
            ),
            Column(
                "Satisfaction moyenne",
                13,
                lambda key: self.mean(
                    [
                        row.satisfaction
                        for row in by_domain[key]
                        if row.satisfaction is not None
                    ]
                ),
                lambda key, row: (
                    f'=IFERROR(AVERAGEIFS({satisfaction},{domain_data},$A{row}),"")'
                ),
                "float",
            ),
        ]
        first, last = self.table(sheet, 3, keys, columns)
        self.bars(sheet, first, last, 2)
        self.bars(sheet, first, last, 3, "#A5A5A5")
        sheet.conditional_format(
            first,
            5,
            last,
            5,
            {
                "type": "3_color_scale",
                "min_type": "num",
                "min_value": 1,
                "min_color": "#F8696B",
                "mid_type": "num",
                "mid_value": 3,
                "mid_color": "#FFEB84",
                "max_type": "num",
                "max_value": 5,
                "max_color": "#63BE7B",
            },
        )
        chart = self.book.add_chart({"type": "bar"})
        chart.add_series(
            {
                "name": "Applications",
                "categories": [sheet.name, first, 1, last, 1],
                "values": [sheet.name, first, 2, last, 2],
                "fill": {"color": "#5B9BD5"},
            }
        )
        chart.set_title({"name": "Applications par domaine"})
        chart.set_legend({"none": True})
        chart.set_y_axis({"reverse": True})
        chart.set_size({"width": 720, "height": 360})
        sheet.insert_chart(last + 2, 0, chart)

    # Vendors and products by domain ---------------------------------------------------------------------

    def vendors_by_domain_sheet(self) -> None:
        sheet = self.book.add_worksheet("Éditeurs par domaine")
        self.heading(
            sheet,
            "Éditeurs par domaine",
            "Une ligne par domaine et éditeur, triée par nombre de collectivités.",
        )
        self._by_domain_table(
            sheet,
            "vendor",
            "Éditeur",
            lambda usage: usage.first_for_vendor,
            "first_for_vendor",
        )

    def products_by_domain_sheet(self) -> None:
        sheet = self.book.add_worksheet("Produits par domaine")
        self.heading(
            sheet,
            "Produits par domaine",
            "Une ligne par domaine et produit, triée par nombre de collectivités.",
        )
        self._by_domain_table(sheet, "product", "Produit", lambda usage: True, None)

    def _by_domain_table(
        self,
        sheet: Worksheet,
        field: str,
        label: str,
        counted: Callable[[Usage], bool],
        flag: str | None,
    ) -> None:
        domains = self.survey.vocabularies["domains"]
        order = {entry.code: index for index, entry in enumerate(domains.entries)}
        bodies: Counter = Counter()
        labels: dict[tuple[str, str], str] = {}
        for usage in self.data.domain_usages:
            choice = getattr(usage, field)
            pair = (usage.domain.key, choice.key)
            labels.setdefault(pair, choice.label)
            if counted(usage):
                bodies[pair] += 1
        applications = Counter(
            (row.domain.key, getattr(row, field).key) for row in self.rows
        )
        keys = sorted(
            labels,
            key=lambda pair: (
                order.get(pair[0], len(order)),
                -bodies[pair],
                labels[pair].casefold(),
            ),
        )
        usage_domain = self.usage_range(DOMAIN_USAGES, "domain")
        usage_field = self.usage_range(DOMAIN_USAGES, field)
        domain_data, field_data = self.data_range("domain"), self.data_range(field)

        def bodies_formula(key, row):
            if flag is None:
                return f"=COUNTIFS({usage_domain},$A{row},{usage_field},$C{row})"
            return f"=COUNTIFS({usage_domain},$A{row},{usage_field},$C{row},{self.usage_range(DOMAIN_USAGES, flag)},1)"

        columns = [
            Column("Code domaine", 8, lambda key: key[0], style="code"),
            Column(
                "Domaine",
                36,
                lambda key: (
                    domains.by_code[key[0]].label
                    if key[0] in domains.by_code
                    else key[0]
                ),
            ),
            Column(f"Code {label.lower()}", 16, lambda key: key[1], style="code"),
            Column(label, 36, lambda key: labels[key]),
            Column("Collectivités", 13, lambda key: bodies[key], bodies_formula, "int"),
            Column(
                "Applications",
                13,
                lambda key: applications[key],
                lambda key, row: (
                    f"=COUNTIFS({domain_data},$A{row},{field_data},$C{row})"
                ),
                "int",
            ),
        ]
        first, last = self.table(sheet, 3, keys, columns)
        self.bars(sheet, first, last, 4)
        sheet.autofilter(3, 0, max(last, 3), len(columns) - 1)
        sheet.freeze_panes(4, 0)

    # Satisfaction ---------------------------------------------------------------------------------------

    def satisfaction_sheet(self, name: str, field: str, label: str) -> None:
        sheet = self.book.add_worksheet(name)
        self.heading(
            sheet,
            f"Satisfaction par {label.lower()}",
            f"Notes de 1 (très insatisfait) à 5 (très satisfait). Moyennes marquées seulement à partir de {MIN_RATERS} collectivités ayant noté.",
        )
        ratings: dict[str, list[int]] = defaultdict(list)
        labels: dict[str, str] = {}
        for row in self.rows:
            choice = getattr(row, field)
            if not choice.key:
                continue
            labels.setdefault(choice.key, choice.label)
            if row.satisfaction is not None:
                ratings[choice.key].append(row.satisfaction)
        usages = self.data.usages
        usage_field = self.usage_range(USAGES, field)
        if field == "product":
            bodies = Counter(usage.product.key for usage in usages)
            raters = Counter(usage.product.key for usage in usages if usage.ratings)
            # One usage row per (body, product): counting rows counts bodies.
            body_criteria = ""
            rater_criteria = f',{self.usage_range(USAGES, "ratings")},">0"'
        else:
            bodies = Counter(
                usage.vendor.key for usage in usages if usage.first_for_vendor
            )
            raters = Counter(
                usage.vendor.key
                for usage in usages
                if usage.first_for_vendor and usage.vendor_ratings
            )
            # Several products of one vendor: only the body's first row for the vendor counts.
            body_criteria = f",{self.usage_range(USAGES, 'first_for_vendor')},1"
            rater_criteria = (
                body_criteria + f',{self.usage_range(USAGES, "vendor_ratings")},">0"'
            )

        def body_formula(key: str, row: int) -> str:
            return f"=COUNTIFS({usage_field},$A{row}{body_criteria})"

        def rater_formula(key: str, row: int) -> str:
            return f"=COUNTIFS({usage_field},$A{row}{rater_criteria})"

        keys = sorted(labels, key=lambda key: (-bodies[key], labels[key].casefold()))
        field_data, satisfaction = (
            self.data_range(field),
            self.data_range("satisfaction"),
        )
        columns = [
            Column("Code", 18, lambda key: key, style="code"),
            Column(label, 36, lambda key: labels[key]),
            Column("Collectivités", 12, lambda key: bodies[key], body_formula, "int"),
            Column(
                "Collectivités ayant noté",
                13,
                lambda key: raters[key],
                rater_formula,
                "int",
            ),
            Column(
                "Notes",
                8,
                lambda key: len(ratings[key]),
                lambda key, row: f'=COUNTIFS({field_data},$A{row},{satisfaction},"<>")',
                "int",
            ),
            Column(
                "Moyenne",
                10,
                lambda key: self.mean(ratings[key]),
                lambda key, row: (
                    f'=IFERROR(AVERAGEIFS({satisfaction},{field_data},$A{row}),"")'
                ),
                "float",
            ),
        ]
        for score in range(1, 6):
            columns.append(
                Column(
                    f"Note {score}",
                    8,
                    lambda key, score=score: ratings[key].count(score),
                    lambda key, row, score=score: (
                        f"=COUNTIFS({field_data},$A{row},{satisfaction},{score})"
                    ),
                    "int",
                )
            )
        first, last = self.table(sheet, 3, keys, columns)
        self.satisfaction_marks(sheet, first, last, 5, 3)
        self.bars(sheet, first, last, 2)
        sheet.autofilter(3, 0, max(last, 3), len(columns) - 1)
        sheet.freeze_panes(4, 2)
        top = min(len(keys), 15)
        if top:
            chart = self.book.add_chart({"type": "bar", "subtype": "percent_stacked"})
            colours = ["#C00000", "#F4B183", "#FFE699", "#A9D18E", "#548235"]
            for score in range(1, 6):
                chart.add_series(
                    {
                        "name": f"Note {score}",
                        "categories": [sheet.name, first, 1, first + top - 1, 1],
                        "values": [
                            sheet.name,
                            first,
                            5 + score,
                            first + top - 1,
                            5 + score,
                        ],
                        "fill": {"color": colours[score - 1]},
                    }
                )
            chart.set_title(
                {
                    "name": f"Répartition des notes ({top} {label.lower()}s les plus cités)"
                }
            )
            chart.set_y_axis({"reverse": True})
            chart.set_size({"width": 760, "height": 60 + 26 * top})
            sheet.insert_chart(3, len(columns) + 1, chart)

    # Renewals ---------------------------------------------------------------------------------------------

    def renewals_sheet(self) -> None:
        sheet = self.book.add_worksheet("Renouvellements")
        self.heading(
            sheet,
            "Renouvellements prévus",
            "Applications par domaine et horizon de renouvellement ; les renouvellements à moins d'un an ou en cours sont surlignés (achats groupés possibles).",
        )
        domains = self.survey.vocabularies["domains"]
        horizons = self.survey.vocabularies["renewal"].offered(self.year)
        keys = [entry.code for entry in domains.offered(self.year)]
        counts = Counter((row.domain.key, row.renewal.key) for row in self.rows)
        domain_data, renewal_data = (
            self.data_range("domain"),
            self.data_range("renewal"),
        )
        columns = [
            Column("Code", 8, lambda key: key, style="code"),
            Column("Domaine", 40, lambda key: domains.by_code[key].label),
        ]
        for entry in horizons:
            columns.append(
                Column(
                    entry.label,
                    13,
                    lambda key, code=entry.code: counts[(key, code)],
                    lambda key, row, code=entry.code: (
                        f'=COUNTIFS({domain_data},$A{row},{renewal_data},"{code}")'
                    ),
                    "int",
                )
            )
        first, last = self.table(sheet, 3, keys, columns)
        for index, entry in enumerate(horizons, start=2):
            if entry.code in SOON:
                sheet.conditional_format(
                    first,
                    index,
                    last,
                    index,
                    {
                        "type": "cell",
                        "criteria": ">",
                        "value": 0,
                        "format": self.formats["soon"],
                    },
                )
        chart = self.book.add_chart({"type": "column", "subtype": "stacked"})
        for index in range(2, 2 + len(horizons)):
            chart.add_series(
                {
                    "name": [sheet.name, 3, index],
                    "categories": [sheet.name, first, 0, last, 0],
                    "values": [sheet.name, first, index, last, index],
                }
            )
        chart.set_title({"name": "Renouvellements par domaine"})
        chart.set_size({"width": 760, "height": 380})
        sheet.insert_chart(last + 2, 0, chart)

        # Products renewing soon: the shortlist for joint purchasing.
        soon_rows = [
            row for row in self.rows if row.renewal.key in SOON and row.product.key
        ]
        by_product: dict[str, list[DataRow]] = defaultdict(list)
        for row in soon_rows:
            by_product[row.product.key].append(row)
        product_keys = sorted(
            by_product,
            key=lambda key: (
                -len({row.respondent for row in by_product[key]}),
                by_product[key][0].product.label.casefold(),
            ),
        )
        top = last + 24
        sheet.write_string(
            top - 1,
            0,
            "Produits à renouveler dans l'année ou en cours de renouvellement",
            self.formats["section"],
        )
        product_data = self.data_range("product")
        soon_columns = [
            Column("Code", 8, lambda key: key, style="code"),
            Column("Produit", 40, lambda key: by_product[key][0].product.label),
            Column(
                "Applications",
                13,
                lambda key: len(by_product[key]),
                lambda key, row: (
                    f'=COUNTIFS({product_data},$A{row},{renewal_data},"{SOON[0]}")+COUNTIFS({product_data},$A{row},{renewal_data},"{SOON[1]}")'
                ),
                "int",
            ),
            Column(
                "Collectivités concernées",
                80,
                lambda key: ", ".join(
                    sorted({row.respondent for row in by_product[key]})
                ),
                style="wrap",
            ),
        ]
        self.table(sheet, top, product_keys, soon_columns)

    # Consultants and hosting -------------------------------------------------------------------------------------

    def simple_sheet(
        self, name: str, field: str, label: str, share: bool = False
    ) -> None:
        sheet = self.book.add_worksheet(name)
        self.heading(
            sheet,
            label,
            "Applications et satisfaction moyenne par valeur ; les valeurs hors liste sont reprises telles que saisies.",
        )
        rows_by_key: dict[str, list[DataRow]] = defaultdict(list)
        labels: dict[str, str] = {}
        for row in self.rows:
            choice = getattr(row, field)
            if choice.key:
                rows_by_key[choice.key].append(row)
                labels.setdefault(choice.key, choice.label)
        vocabulary = self.survey.vocabulary(self.survey.column(field))
        order = {entry.code: index for index, entry in enumerate(vocabulary.entries)}
        keys = sorted(
            labels,
            key=lambda key: (
                order.get(key, len(order)),
                -len(rows_by_key[key]),
                labels[key].casefold(),
            ),
        )
        field_data, satisfaction = (
            self.data_range(field),
            self.data_range("satisfaction"),
        )
        total = sum(len(rows) for rows in rows_by_key.values())
        columns = [
            Column("Code", 18, lambda key: key, style="code"),
            Column(label, 44, lambda key: labels[key]),
            Column(
                "Applications",
                13,
                lambda key: len(rows_by_key[key]),
                lambda key, row: f"=COUNTIF({field_data},$A{row})",
                "int",
            ),
            Column(
                "Collectivités",
                13,
                lambda key: len({row.respondent for row in rows_by_key[key]}),
                style="int",
            ),
            Column(
                "Satisfaction moyenne",
                13,
                lambda key: self.mean(
                    [
                        row.satisfaction
                        for row in rows_by_key[key]
                        if row.satisfaction is not None
                    ]
                ),
                lambda key, row: (
                    f'=IFERROR(AVERAGEIFS({satisfaction},{field_data},$A{row}),"")'
                ),
                "float",
            ),
        ]
        if share:
            columns.append(
                Column(
                    "Part des applications",
                    13,
                    lambda key: len(rows_by_key[key]) / total if total else 0,
                    lambda key, row: f"=IFERROR(C{row}/SUM($C$5:$C${4 + len(keys)}),0)",
                    "percent",
                )
            )
        first, last = self.table(sheet, 3, keys, columns)
        sheet.write_string(
            last + 1,
            1,
            "Collectivités : nombre de collectivités distinctes, calculé à la consolidation.",
            self.formats["subtitle"],
        )
        self.bars(sheet, first, last, 2)
        if share and keys:
            chart = self.book.add_chart({"type": "pie"})
            chart.add_series(
                {
                    "name": label,
                    "categories": [sheet.name, first, 1, last, 1],
                    "values": [sheet.name, first, 2, last, 2],
                    "data_labels": {"percentage": True},
                }
            )
            chart.set_title({"name": f"{label} des applications"})
            chart.set_size({"width": 620, "height": 380})
            sheet.insert_chart(last + 3, 0, chart)

    # Body-wide choices ---------------------------------------------------------------------------------------------

    def choices_sheet(self) -> None:
        sheet = self.book.add_worksheet("Choix communs")
        self.heading(
            sheet,
            "Choix communs des collectivités",
            "Une réponse par collectivité ayant répondu, d'après la feuille Réponses.",
        )
        top = 3
        for key, label in self.choice_fields():
            counts = Counter(
                response.choices[key].label
                for response in self.data.responses
                if response.answered
                and key in response.choices
                and response.choices[key].label
            )
            column = self.survey.column(key)
            if column.type == "yes_no":
                values = ["Oui", "Non"]
            else:
                values = [
                    entry.label
                    for entry in self.survey.vocabulary(column).offered(self.year)
                ]
            values += sorted(text for text in counts if text not in values)
            answers = self.response_range(key)
            columns = [
                Column(label, 56, lambda value: value),
                Column(
                    "Collectivités",
                    13,
                    lambda value, counts=counts: counts[value],
                    lambda value, row, answers=answers: f"=COUNTIF({answers},$A{row})",
                    "int",
                ),
            ]
            first, last = self.table(sheet, top, values, columns)
            self.bars(sheet, first, last, 1)
            top = last + 2

    # Free values ------------------------------------------------------------------------------------------------------

    def free_values_sheet(self) -> None:
        sheet = self.book.add_worksheet("Hors liste")
        self.heading(
            sheet,
            "Valeurs saisies hors liste",
            "Éditeurs, produits et prestataires saisis avec « Autre (préciser) », par nombre de collectivités : candidats aux listes de l'an prochain.",
        )
        top = 3
        for field, label in (
            ("vendor", "Éditeur"),
            ("product", "Produit"),
            ("consultant", "Prestataire (AMO)"),
        ):
            rows_by_key: dict[str, list[DataRow]] = defaultdict(list)
            for row in self.rows:
                choice = getattr(row, field)
                if choice.key.startswith("AUTRE:"):
                    rows_by_key[choice.key].append(row)
            keys = sorted(
                rows_by_key,
                key=lambda key: (
                    -len({row.respondent for row in rows_by_key[key]}),
                    key,
                ),
            )
            field_data = self.data_range(field)
            columns = [
                Column("Clé", 30, lambda key: key, style="code"),
                Column(
                    label,
                    44,
                    lambda key, rows=rows_by_key, field=field: (
                        getattr(rows[key][0], field).label
                    ),
                ),
                Column(
                    "Applications",
                    13,
                    lambda key, rows=rows_by_key: len(rows[key]),
                    lambda key, row, data=field_data: f"=COUNTIF({data},$A{row})",
                    "int",
                ),
                Column(
                    "Collectivités",
                    13,
                    lambda key, rows=rows_by_key: len(
                        {item.respondent for item in rows[key]}
                    ),
                    style="int",
                ),
            ]
            first, last = self.table(sheet, top, keys, columns)
            top = max(last, top) + 2

    # Data sheets ------------------------------------------------------------------------------------------------------

    def data_sheet(self) -> None:
        sheet = self.book.add_worksheet(DATA)
        for index, (_, header, width, _) in enumerate(self.columns):
            sheet.write_string(0, index, header, self.formats["header"])
            sheet.set_column(index, index, width)
        text, number = self.formats["text"], self.formats["int"]
        for offset, row in enumerate(self.rows, start=1):
            for index, (_, _, _, getter) in enumerate(self.columns):
                value = getter(row)
                if value is None or value == "":
                    continue
                if isinstance(value, int):
                    sheet.write_number(offset, index, value, number)
                else:
                    sheet.write_string(offset, index, value, text)
        last = max(len(self.rows), 1)
        satisfaction = [column[0] for column in self.columns].index("satisfaction")
        sheet.conditional_format(
            1,
            satisfaction,
            last,
            satisfaction,
            {
                "type": "3_color_scale",
                "min_type": "num",
                "min_value": 1,
                "min_color": "#F8696B",
                "mid_type": "num",
                "mid_value": 3,
                "mid_color": "#FFEB84",
                "max_type": "num",
                "max_value": 5,
                "max_color": "#63BE7B",
            },
        )
        renewal = [column[0] for column in self.columns].index("renewal")
        letter = xl_col_to_name(renewal)
        criteria = "=OR(" + ",".join(f'${letter}2="{code}"' for code in SOON) + ")"
        sheet.conditional_format(
            1,
            renewal,
            last,
            renewal + 1,
            {"type": "formula", "criteria": criteria, "format": self.formats["soon"]},
        )
        sheet.autofilter(0, 0, last, len(self.columns) - 1)
        sheet.freeze_panes(1, 2)

    def usage_sheet(self, name: str, usages: list[Usage], columns: list) -> None:
        sheet = self.book.add_worksheet(name)
        for index, (_, header, width, _) in enumerate(columns):
            sheet.write_string(0, index, header, self.formats["header"])
            sheet.set_column(index, index, width)
        for offset, usage in enumerate(usages, start=1):
            for index, (_, _, _, getter) in enumerate(columns):
                value = getter(usage)
                if value is None or value == "":
                    continue
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    sheet.write_number(
                        offset,
                        index,
                        value,
                        self.formats["float" if isinstance(value, float) else "int"],
                    )
                else:
                    sheet.write_string(offset, index, str(value), self.formats["text"])
        sheet.autofilter(0, 0, max(len(usages), 1), len(columns) - 1)
        sheet.freeze_panes(1, 1)


# Columns of the data sheets: key, header, width, getter. Summary formulas find columns by key.
_DATA_COLUMNS: list[tuple[str, str, float, Callable]] = [
    ("respondent", "Code collectivité", 10, lambda row: row.respondent),
    ("respondent_label", "Collectivité", 30, lambda row: row.respondent_label),
    ("region", "Région", 24, lambda row: row.region),
    ("domain", "Code domaine", 9, lambda row: row.domain.key),
    ("domain_label", "Domaine", 30, lambda row: row.domain.label),
    ("subdomain", "Code sous-domaine", 11, lambda row: row.subdomain.key),
    ("subdomain_label", "Sous-domaine", 30, lambda row: row.subdomain.label),
    ("application", "Application", 28, lambda row: row.application),
    ("vendor", "Code éditeur", 16, lambda row: row.vendor.key),
    ("vendor_label", "Éditeur", 24, lambda row: row.vendor.label),
    ("product", "Code produit", 18, lambda row: row.product.key),
    ("product_label", "Produit", 26, lambda row: row.product.label),
    ("consultant", "Code AMO", 12, lambda row: row.consultant.key),
    ("consultant_label", "AMO", 20, lambda row: row.consultant.label),
    ("hosting", "Code hébergement", 14, lambda row: row.hosting.key),
    ("hosting_label", "Hébergement", 26, lambda row: row.hosting.label),
    ("satisfaction", "Satisfaction (1 à 5)", 12, lambda row: row.satisfaction),
    ("renewal", "Code renouvellement", 14, lambda row: row.renewal.key),
    ("renewal_label", "Renouvellement prévu", 22, lambda row: row.renewal.label),
    ("in_service_since", "Mise en service", 11, lambda row: row.in_service_since),
    ("comments", "Commentaires", 40, lambda row: row.comments),
    ("source_row", "Ligne du fichier", 9, lambda row: row.source_row),
]

_USAGE_COLUMNS: list[tuple[str, str, float, Callable]] = [
    ("respondent", "Code collectivité", 10, lambda usage: usage.respondent),
    ("region", "Région", 24, lambda usage: usage.region),
    ("vendor", "Code éditeur", 16, lambda usage: usage.vendor.key),
    ("vendor_label", "Éditeur", 24, lambda usage: usage.vendor.label),
    ("product", "Code produit", 18, lambda usage: usage.product.key),
    ("product_label", "Produit", 26, lambda usage: usage.product.label),
    ("applications", "Applications", 12, lambda usage: usage.applications),
    ("ratings", "Notes", 8, lambda usage: len(usage.ratings)),
    ("mean", "Satisfaction moyenne", 12, lambda usage: usage.mean),
    (
        "first_for_vendor",
        "1re ligne de l'éditeur",
        12,
        lambda usage: int(usage.first_for_vendor),
    ),
    ("vendor_ratings", "Notes de l'éditeur", 12, lambda usage: usage.vendor_ratings),
]

_DOMAIN_USAGE_COLUMNS: list[tuple[str, str, float, Callable]] = [
    ("respondent", "Code collectivité", 10, lambda usage: usage.respondent),
    ("domain", "Code domaine", 9, lambda usage: usage.domain.key),
    ("vendor", "Code éditeur", 16, lambda usage: usage.vendor.key),
    ("vendor_label", "Éditeur", 24, lambda usage: usage.vendor.label),
    ("product", "Code produit", 18, lambda usage: usage.product.key),
    ("product_label", "Produit", 26, lambda usage: usage.product.label),
    ("applications", "Applications", 12, lambda usage: usage.applications),
    (
        "first_for_vendor",
        "1re ligne de l'éditeur dans le domaine",
        14,
        lambda usage: int(usage.first_for_vendor),
    ),
    (
        "first_for_domain",
        "1re ligne du domaine",
        12,
        lambda usage: int(usage.first_for_domain),
    ),
]
