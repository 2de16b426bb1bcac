"""Write the coordinator's master workbook of one year from the history database.

The figures of the summary sheets are Excel formulas (COUNTIF, COUNTIFS,
AVERAGEIFS) over the data sheets, written with their value computed here in
Python and cached in the file. The exceptions are the « Collectivités »
columns of the AMO, Hébergement and Hors liste sheets and the list of bodies
renewing a product: plain values, computed at consolidation and labelled so. A viewer that does not recalculate
shows the right numbers, and a correction typed in a data sheet flows into
the summaries after recalculation. ``tests/test_consolidate_libreoffice.py``
has LibreOffice recalculate the workbook and compares every formula with its
cached value.

Respondents' texts are always written as strings, never as formulas. The
same database gives the same file byte for byte: sheets, rows and the
document date depend only on the data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from panorama_xl.dataset import Dataset, Usage, load_dataset, received_date
from panorama_xl.history import History
from panorama_xl.package import atomic_path
from panorama_xl.summaries import (
    DATA,
    DOMAIN_USAGES,
    HIGH_SATISFACTION,
    LOW_SATISFACTION,
    MIN_RATERS,
    RESPONSES,
    SATISFACTION_SCALE,
    SOON,
    USAGES,
    Column,
    SummarySheets,
)
from panorama_xl.survey import Survey
from panorama_xl.template import FormulaWorksheet


def master_name(year: int) -> str:
    return f"panorama-{year}-consolide.xlsx"


def consolidate(survey: Survey, year: int, database: Path, output: Path) -> Path:
    """Write the master workbook of ``year`` atomically and return its path."""
    with History(database) as history:
        dataset = load_dataset(survey, history, year)
    with atomic_path(output) as temporary:
        _Master(survey, dataset, temporary).build()
    return Path(output)


class _Master(SummarySheets):
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
            # Not wrapped: the note spills over the empty cells to its right.
            "subtitle": {"italic": True, "font_color": "#595959"},
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
            SATISFACTION_SCALE,
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
