"""The summary sheets of the master workbook, one method per sheet.

``SummarySheets`` is mixed into the master workbook writer of
``consolidate.py``, which provides the workbook, the formats, the ranges of
the data sheets and the generic ``table`` writer. Figures are formulas over
the data sheets (``Données``, ``Usages``, ``Usages par domaine``,
``Réponses``) written with the value computed here; the few plain values are
named in the module docstring of ``consolidate.py``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from xlsxwriter.worksheet import Worksheet

from panorama_xl.dataset import DataRow, Usage

#: A mean below this, given by at least ``MIN_RATERS`` bodies, is highlighted as low.
LOW_SATISFACTION = 2.5
HIGH_SATISFACTION = 4.0
MIN_RATERS = 3
#: Renewal codes that count as « within a year ».
SOON = ("MOINS_1_AN", "EN_COURS")
#: Colour scale of satisfaction cells: red at 1, yellow at 3, green at 5.
SATISFACTION_SCALE = {
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
}

DATA = "Données"
USAGES = "Usages"
DOMAIN_USAGES = "Usages par domaine"
RESPONSES = "Réponses"


@dataclass
class Column:
    """A column of a table: a header, and per row either a value or a formula with its cached value."""

    header: str
    width: float
    value: Callable[[object], object]
    formula: Callable[[object, int], str] | None = None
    style: str = "text"


class SummarySheets:
    """The summary sheets; mixed into the master workbook writer."""

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
            SATISFACTION_SCALE,
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
            "Éditeurs, produits et prestataires saisis avec « Autre (préciser) », par nombre de collectivités (calculé à la consolidation) : candidats aux listes de l'an prochain.",
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
