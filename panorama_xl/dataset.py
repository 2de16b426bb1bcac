"""The consolidated data of one year, read from the history database.

Each application row becomes a ``DataRow`` with codes and labels side by
side. Free values entered through « Autre (préciser) » get a key of their
own (``AUTRE:paie maison``), so that they can be counted like codes.

Two derived tables give the number of bodies behind each figure, since a
body with several applications of the same product counts once:
``usages`` has one row per (body, product) and ``domain_usages`` one row
per (body, domain, product).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from panorama_xl.history import History
from panorama_xl.normalize import normalize_text
from panorama_xl.survey import Survey
from panorama_xl.vocabulary import OTHER_CODE, OTHER_LABEL

OTHER_KEY_PREFIX = f"{OTHER_CODE}:"
# Characters that COUNTIFS would read as wildcards or comparisons in a key.
_KEY_UNSAFE = str.maketrans(
    {"*": " ", "?": " ", "~": " ", "<": " ", ">": " ", "=": " "}
)


@dataclass(frozen=True)
class Choice:
    """A choice value: the key counted by formulas and the label shown."""

    key: str = ""
    label: str = ""


@dataclass
class DataRow:
    """One application row, ready for the data sheet."""

    respondent: str
    respondent_label: str
    region: str
    domain: Choice
    subdomain: Choice
    application: str
    vendor: Choice
    product: Choice
    consultant: Choice
    hosting: Choice
    satisfaction: int | None
    renewal: Choice
    in_service_since: int | None
    comments: str
    source_row: int


@dataclass
class Usage:
    """One body's use of one product (``domain`` set in ``domain_usages`` only)."""

    respondent: str
    region: str
    domain: Choice
    vendor: Choice
    product: Choice
    applications: int = 0
    ratings: list[int] = field(default_factory=list)
    first_for_vendor: bool = False
    vendor_ratings: int = 0
    first_for_domain: bool = False

    @property
    def mean(self) -> float | None:
        return sum(self.ratings) / len(self.ratings) if self.ratings else None


@dataclass
class Response:
    """One expected body: whether it answered, and its body-wide choices."""

    code: str
    label: str
    region: str
    answered: bool
    file_name: str = ""
    received: str = ""
    rows: int = 0
    choices: dict[str, Choice] = field(default_factory=dict)


@dataclass
class Dataset:
    year: int
    rows: list[DataRow]
    usages: list[Usage]
    domain_usages: list[Usage]
    responses: list[Response]
    latest_received: str


def choice_of(survey: Survey, field_key: str, values: dict[str, object]) -> Choice:
    """Return the key and label of a choice field, the précision for « Autre »."""
    code = values.get(field_key)
    if code is None:
        return _EMPTY
    detail = values.get(f"{field_key}_other") if code == OTHER_CODE else None
    return _choice(survey, field_key, str(code), str(detail or "").strip())


_EMPTY = Choice()


@lru_cache(maxsize=65536)
def _choice(survey: Survey, field_key: str, code: str, detail: str) -> Choice:
    # Rows repeat the same codes: each (field, code, précision) is built once.
    if code == OTHER_CODE:
        key = OTHER_KEY_PREFIX + normalize_text(detail).translate(_KEY_UNSAFE).strip()
        return Choice(key, f"Autre : {detail}" if detail else OTHER_LABEL)
    vocabulary = survey.vocabulary(survey.column(field_key))
    entry = vocabulary.by_code.get(code)
    return Choice(code, entry.label if entry else code)


def load_dataset(survey: Survey, history: History, year: int) -> Dataset:
    """Read ``year``'s accepted returns and build the rows and derived tables."""
    respondents = survey.respondents
    regions = survey.vocabularies.get("regions")

    def region_of(code: str) -> str:
        entry = respondents.by_code.get(code)
        region = entry.links.get("regions", "") if entry else ""
        return (
            regions.by_code[region].label
            if regions and region in regions.by_code
            else region
        )

    rows = []
    for respondent, source_row, values in history.applications(year):
        entry = respondents.by_code.get(respondent)
        rows.append(
            DataRow(
                respondent=respondent,
                respondent_label=entry.label if entry else respondent,
                region=region_of(respondent),
                domain=choice_of(survey, "domain", values),
                subdomain=choice_of(survey, "subdomain", values),
                application=str(values.get("application") or ""),
                vendor=choice_of(survey, "vendor", values),
                product=choice_of(survey, "product", values),
                consultant=choice_of(survey, "consultant", values),
                hosting=choice_of(survey, "hosting", values),
                satisfaction=_int_or_none(values.get("satisfaction")),
                renewal=choice_of(survey, "renewal", values),
                in_service_since=_int_or_none(values.get("in_service_since")),
                comments=str(values.get("comments") or ""),
                source_row=source_row,
            )
        )

    stored = {item.respondent: item for item in history.returns(year)}
    responses = []
    form_fields = [
        column.key
        for sheet in survey.definition.sheets
        if sheet.kind == "form"
        for column in sheet.columns
        if column.type == "choice" and column.role != "respondent"
    ]
    for entry in respondents.offered(year):
        kept = stored.get(entry.code)
        response = Response(
            entry.code, entry.label, region_of(entry.code), kept is not None
        )
        if kept is not None:
            response.file_name = kept.file_name
            response.received = kept.received_at
            response.rows = kept.rows
            answers = {
                key: value
                for sheet in history.answers(kept.id).values()
                for key, value in sheet.items()
            }
            response.choices = {
                key: choice_of(survey, key, answers) for key in form_fields
            }
            response.choices["sovereign_cloud"] = Choice(
                "", {True: "Oui", False: "Non"}.get(answers.get("sovereign_cloud"), "")
            )
        responses.append(response)

    latest = max(
        (item.received_at for item in stored.values()),
        default=f"{year}-01-01T00:00:00+00:00",
    )
    return Dataset(
        year,
        rows,
        _usages(rows, by_domain=False),
        _usages(rows, by_domain=True),
        responses,
        latest,
    )


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value)
    return None


def _usages(rows: list[DataRow], by_domain: bool) -> list[Usage]:
    """Group rows by (body, product), or by (body, domain, product), in order of first appearance."""
    groups: dict[tuple, Usage] = {}
    for row in rows:
        if not row.product.key:
            continue
        key = (row.respondent, row.domain.key if by_domain else "", row.product.key)
        usage = groups.get(key)
        if usage is None:
            usage = Usage(
                row.respondent,
                row.region,
                row.domain if by_domain else Choice(),
                row.vendor,
                row.product,
            )
            groups[key] = usage
        usage.applications += 1
        if row.satisfaction is not None:
            usage.ratings.append(row.satisfaction)
    usages = list(groups.values())
    first_vendor: dict[tuple, Usage] = {}
    vendor_ratings: dict[tuple, int] = defaultdict(int)
    first_domain: set[tuple] = set()
    for usage in usages:
        vendor_key = (usage.respondent, usage.domain.key, usage.vendor.key)
        vendor_ratings[vendor_key] += len(usage.ratings)
        if usage.vendor.key and vendor_key not in first_vendor:
            first_vendor[vendor_key] = usage
            usage.first_for_vendor = True
        domain_key = (usage.respondent, usage.domain.key)
        if by_domain and domain_key not in first_domain:
            first_domain.add(domain_key)
            usage.first_for_domain = True
    for vendor_key, usage in first_vendor.items():
        usage.vendor_ratings = vendor_ratings[vendor_key]
    return usages


def received_date(dataset: Dataset) -> dt.datetime:
    """Return the latest received date as a naive UTC datetime, for the document properties."""
    moment = dt.datetime.fromisoformat(dataset.latest_received)
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment
