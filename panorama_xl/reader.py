"""Read a returned workbook: cell values by position, and the structure around them.

Values come from python-calamine, which reads xlsx, xlsm, ods and xls, and is
several times faster than openpyxl in read-only mode (``benchmarks/`` measures it). The structure that calamine does not
expose (sheet protection, data validations, merged cells, formula cells,
custom document properties, the 1904 date system) is read from the package
XML directly, after ``safety.sniff`` has accepted the file.

Positions are 0-based (row, column) pairs. The sheet's declared dimension and
maximum row are never used: rows are read up to a cap given by the caller.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from lxml import etree
from python_calamine import CalamineError, CalamineWorkbook, PasswordError

from panorama_xl.safety import Limits, ReturnedFileError, Sniffed, sniff

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
META = "urn:oasis:names:tc:opendocument:xmlns:meta:1.0"

# A parser that never resolves entities or fetches anything; declarations are refused earlier.
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True
)


@dataclass
class SheetInfo:
    """Structure of one sheet of a returned workbook."""

    name: str
    state: str = "visible"
    protected: bool | None = None
    validations: int | None = None
    long_list_validations: list[str] = field(default_factory=list)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    # Formula text by (row, column), still XML-escaped and in the file's own
    # syntax (``odf`` or ``ooxml``): ``formula`` converts one when asked.
    formulas: dict[tuple[int, int], bytes | str] = field(default_factory=dict)
    formula_syntax: str = "ooxml"

    def formula(self, row: int, column: int) -> str | None:
        """Return the formula of a cell as the spreadsheet shows it (``=B2*2``), or None."""
        text = self.formulas.get((row, column))
        if text is None:
            return None
        if isinstance(text, bytes):
            text = html.unescape(text.decode("utf-8", errors="replace"))
        if self.formula_syntax == "odf":
            return _ods_formula(text)
        return "=" + text


@dataclass
class Workbook:
    """A returned workbook, opened for reading."""

    path: Path
    format: str
    macros: bool
    sheets: list[SheetInfo]
    properties: dict[str, str]
    date1904: bool
    structure_locked: bool | None
    _book: CalamineWorkbook
    _limits: Limits

    def sheet(self, name: str) -> SheetInfo | None:
        for info in self.sheets:
            if info.name == name:
                return info
        return None

    def values(self, name: str, max_rows: int) -> list[list[object]]:
        """Return the values of sheet ``name`` from A1, at most ``max_rows`` rows.

        Raises:
            ReturnedFileError: when the sheet cannot be read or has more cells than allowed.
        """
        try:
            sheet = self._book.get_sheet_by_name(name)
            # Read from A1, so the size that counts is up to the last used cell.
            last = sheet.end or (0, 0)
            width = last[1] + 1
            height = min(last[0] + 1, max_rows)
            if width * height > self._limits.max_cells:
                raise ReturnedFileError(
                    "file-too-large", f"{width} colonnes sur la feuille « {name} »"
                )
            return sheet.to_python(skip_empty_area=False, nrows=max_rows)
        except (CalamineError, ValueError) as error:
            raise ReturnedFileError(
                "file-corrupt", f"feuille « {name} » : {error}"
            ) from error

    def close(self) -> None:
        self._book.close()


def open_workbook(path: Path, limits: Limits | None = None) -> Workbook:
    """Sniff, check and open a returned file.

    Raises:
        ReturnedFileError: the file is empty, too large, encrypted, unsafe,
            corrupt or not a spreadsheet.
    """
    limits = limits or Limits()
    sniffed = sniff(path, limits)
    try:
        book = CalamineWorkbook.from_path(str(path))
        metadata = book.sheets_metadata
    except PasswordError as error:
        raise ReturnedFileError("file-encrypted") from error
    except (CalamineError, ValueError, OSError) as error:
        message = str(error)
        if "limit" in message.lower():
            raise ReturnedFileError("file-too-large", message) from error
        raise ReturnedFileError("file-corrupt", message) from error

    states = {item.name: _visibility(item.visible) for item in metadata}
    try:
        if sniffed.format in ("xlsx", "xlsm"):
            structure = _read_ooxml(path, sniffed)
        elif sniffed.format == "ods":
            structure = _read_ods(path, sniffed)
        else:
            structure = _Structure(sheets={name: SheetInfo(name) for name in states})
    except (etree.XMLSyntaxError, KeyError, zipfile.BadZipFile) as error:
        raise ReturnedFileError(
            "file-corrupt", f"structure illisible : {error}"
        ) from error

    sheets = []
    for name, state in states.items():
        info = structure.sheets.get(name) or SheetInfo(name)
        info.state = state
        if sniffed.format == "xls":
            info.merged = [
                (r0, c0, r1, c1)
                for (r0, c0), (r1, c1) in _merged_from_calamine(book, name)
            ]
        sheets.append(info)
    return Workbook(
        path=path,
        format=sniffed.format,
        macros=sniffed.macros,
        sheets=sheets,
        properties=structure.properties,
        date1904=structure.date1904,
        structure_locked=structure.structure_locked,
        _book=book,
        _limits=limits,
    )


def _visibility(value: object) -> str:
    text = str(value).rsplit(".", 1)[-1].lower()
    if "very" in text:
        return "veryHidden"
    if "hidden" in text:
        return "hidden"
    return "visible"


def _merged_from_calamine(book: CalamineWorkbook, name: str) -> list:
    try:
        ranges = book.get_sheet_by_name(name).merged_cell_ranges
    except (CalamineError, ValueError):
        return []
    # A method in some python-calamine releases, a property in others.
    if callable(ranges):
        ranges = ranges()
    return ranges or []


@dataclass
class _Structure:
    sheets: dict[str, SheetInfo] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    date1904: bool = False
    structure_locked: bool | None = None


# Office Open XML ----------------------------------------------------------------------


class _Package:
    """A zip package whose XML members the safety scan may already have decompressed."""

    def __init__(self, archive: zipfile.ZipFile, members: dict[str, bytes]):
        self.archive = archive
        self.members = members

    def namelist(self) -> list[str]:
        return self.archive.namelist()

    def read(self, name: str) -> bytes:
        data = self.members.get(name)
        return data if data is not None else self.archive.read(name)


def _read_ooxml(path: Path, sniffed: Sniffed) -> _Structure:
    structure = _Structure()
    with zipfile.ZipFile(path) as archive:
        package = _Package(archive, sniffed.members)
        names = set(package.namelist())
        workbook_part = _workbook_part(package, names)
        workbook = etree.fromstring(package.read(workbook_part), _PARSER)
        pr = workbook.find(f"{{{MAIN}}}workbookPr")
        if pr is not None:
            structure.date1904 = pr.get("date1904", "").lower() in ("1", "true")
        protection = workbook.find(f"{{{MAIN}}}workbookProtection")
        structure.structure_locked = protection is not None and protection.get(
            "lockStructure", ""
        ).lower() in ("1", "true")
        targets = _relationship_targets(package, workbook_part, names)
        for sheet in workbook.iter(f"{{{MAIN}}}sheet"):
            name = sheet.get("name", "")
            info = SheetInfo(name, state=sheet.get("state", "visible"))
            part = targets.get(sheet.get(f"{{{RELATIONSHIPS}}}id", ""))
            if part and part in names:
                _read_worksheet(package.read(part), info)
            structure.sheets[name] = info
        if "docProps/custom.xml" in names:
            structure.properties = _custom_properties(
                package.read("docProps/custom.xml")
            )
    return structure


def _workbook_part(package: _Package, names: set[str]) -> str:
    if "_rels/.rels" in names:
        root = etree.fromstring(package.read("_rels/.rels"), _PARSER)
        for relation in root.iter(f"{{{PACKAGE_RELATIONSHIPS}}}Relationship"):
            if relation.get("Type", "").endswith("/officeDocument"):
                target = relation.get("Target", "").lstrip("/")
                if target in names:
                    return target
    return "xl/workbook.xml"


def _relationship_targets(
    package: _Package, part: str, names: set[str]
) -> dict[str, str]:
    folder = PurePosixPath(part).parent
    rels = str(folder / "_rels" / (PurePosixPath(part).name + ".rels"))
    if rels not in names:
        return {}
    root = etree.fromstring(package.read(rels), _PARSER)
    targets = {}
    for relation in root.iter(f"{{{PACKAGE_RELATIONSHIPS}}}Relationship"):
        target = relation.get("Target", "")
        if target.startswith("/"):
            resolved = target.lstrip("/")
        else:
            resolved = _normalise(folder / target)
        targets[relation.get("Id", "")] = resolved
    return targets


def _normalise(path: PurePosixPath) -> str:
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


_CELL_REFERENCE = re.compile(rb'\br="([A-Z]{1,3})(\d{1,7})"')
_A1 = re.compile(r"^\$?([A-Z]{1,3})\$?(\d{1,7})$")


def _read_worksheet(xml: bytes, info: SheetInfo) -> None:
    """Read protection, validations, merges and formula cells of one worksheet part.

    The cell data is scanned with ``bytes.find`` for formula elements; the rest
    of the part, small whatever the number of rows, is parsed with lxml.
    """
    data, rest = _split_sheet_data(xml)
    _find_formulas(data, info)
    root = etree.fromstring(rest, _PARSER)
    protection = root.find(f"{{{MAIN}}}sheetProtection")
    info.protected = protection is not None and protection.get("sheet", "").lower() in (
        "1",
        "true",
    )
    count = 0
    for validation in root.iter(
        f"{{{MAIN}}}dataValidation", f"{{{X14}}}dataValidation"
    ):
        count += 1
        if validation.get("type") == "list":
            formula = (
                validation.findtext(f"{{{MAIN}}}formula1")
                or validation.findtext(f".//{{{X14}}}formula1/*")
                or ""
            )
            if formula.startswith('"') and len(formula) > 255:
                info.long_list_validations.append(validation.get("sqref", ""))
    info.validations = count
    for merge in root.iter(f"{{{MAIN}}}mergeCell"):
        bounds = _range_bounds(merge.get("ref", ""))
        if bounds:
            info.merged.append(bounds)


_SHEET_DATA_START = re.compile(rb"<(?:\w+:)?sheetData\b")


def _split_sheet_data(xml: bytes) -> tuple[bytes, bytes]:
    """Return the ``sheetData`` element and the rest of the worksheet part.

    ``bytes.find`` locates the end tag: a regular expression scanning the
    whole cell data for it took 18 ms on a 500-row questionnaire.
    """
    start = _SHEET_DATA_START.search(xml)
    if start is None:
        return b"", xml
    opening_end = xml.find(b">", start.end())
    if xml[opening_end - 1 : opening_end] == b"/":
        end = opening_end + 1
    else:
        name = xml[start.start() + 1 : start.end()]
        close = xml.find(b"</" + name + b">", opening_end)
        if close < 0:
            return b"", xml
        end = close + len(name) + 3
    return xml[start.start() : end], xml[: start.start()] + xml[end:]


def _find_formulas(data: bytes, info: SheetInfo) -> None:
    """Record the formula of every cell that has one, with the cell's position.

    The schema puts ``<f>`` first in ``<c>``, so the cell's start tag is the
    last ``<c `` before the formula. Elements carry the prefix of ``sheetData``
    when the producer used one.
    """
    prefixed = re.match(rb"<(\w+:)?sheetData", data)
    prefix = prefixed.group(1) or b"" if prefixed else b""
    formula_tag = b"<" + prefix + b"f"
    cell_tag = b"<" + prefix + b"c "
    position = data.find(formula_tag)
    while position >= 0:
        end_of_name = position + len(formula_tag)
        if data[end_of_name : end_of_name + 1] in (b">", b" ", b"/"):
            cell_start = data.rfind(cell_tag, 0, position)
            reference = _CELL_REFERENCE.search(
                data, cell_start, data.find(b">", cell_start)
            )
            tag_end = data.find(b">", position)
            if data[tag_end - 1 : tag_end] == b"/":
                text = b""
            else:
                close = data.find(b"</", tag_end)
                text, tag_end = data[tag_end + 1 : close], close
            if cell_start >= 0 and reference is not None:
                row, column = (
                    int(reference.group(2)) - 1,
                    _column_index(reference.group(1).decode()),
                )
                info.formulas[(row, column)] = text
            position = tag_end
        position = data.find(formula_tag, position + 1)


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def _range_bounds(reference: str) -> tuple[int, int, int, int] | None:
    parts = reference.split(":")
    corners = []
    for part in parts:
        match = _A1.match(part)
        if match is None:
            return None
        corners.append((int(match.group(2)) - 1, _column_index(match.group(1))))
    if len(corners) == 1:
        corners.append(corners[0])
    (top, left), (bottom, right) = corners
    return top, left, bottom, right


def _custom_properties(xml: bytes) -> dict[str, str]:
    root = etree.fromstring(xml, _PARSER)
    found = {}
    for prop in root:
        name = prop.get("name")
        if name is None or len(prop) == 0:
            continue
        found[name] = (prop[0].text or "").strip()
    return found


# OpenDocument -------------------------------------------------------------------------


def _read_ods(path: Path, sniffed: Sniffed) -> _Structure:
    structure = _Structure()
    with zipfile.ZipFile(path) as archive:
        package = _Package(archive, sniffed.members)
        names = set(package.namelist())
        content = package.read("content.xml")
        if b"<table:table " in content:
            _scan_ods_content(content, structure)
        else:
            # Another namespace prefix than the usual ``table:``: walk the XML instead.
            _read_ods_content(io.BytesIO(content), structure)
        if "meta.xml" in names:
            root = etree.fromstring(package.read("meta.xml"), _PARSER)
            for item in root.iter(f"{{{META}}}user-defined"):
                name = item.get(f"{{{META}}}name")
                if name:
                    structure.properties[name] = (item.text or "").strip()
    return structure


# Rows beyond this index are not tracked for formulas and merges: nothing is read there.
_ODS_TRACKED_ROWS = 20_000


def _read_ods_content(stream, structure: _Structure) -> None:
    """Walk content.xml once: per table its protection, validations, merges and formulas.

    Repeated rows and cells only advance the position, so a declared billion
    empty rows costs nothing.
    """
    table_tag = f"{{{TABLE}}}table"
    row_tag = f"{{{TABLE}}}table-row"
    cell_tags = (f"{{{TABLE}}}table-cell", f"{{{TABLE}}}covered-table-cell")
    info: SheetInfo | None = None
    row = column = 0
    tags = (table_tag, row_tag, *cell_tags)
    for event, element in etree.iterparse(
        stream,
        events=("start", "end"),
        tag=tags,
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
    ):
        tag = element.tag
        if event == "start":
            if tag == table_tag:
                name = element.get(f"{{{TABLE}}}name", "")
                info = SheetInfo(
                    name,
                    protected=element.get(f"{{{TABLE}}}protected") == "true",
                    validations=0,
                    formula_syntax="odf",
                )
                structure.sheets[name] = info
                row = 0
            elif tag == row_tag:
                column = 0
            continue
        if info is None:
            continue
        if tag in cell_tags:
            repeat = _repeat(element, "number-columns-repeated")
            if row < _ODS_TRACKED_ROWS:
                if element.get(f"{{{TABLE}}}content-validation-name"):
                    info.validations = (info.validations or 0) + repeat
                formula = element.get(f"{{{TABLE}}}formula")
                if formula:
                    info.formulas[(row, column)] = formula
                rows = int(element.get(f"{{{TABLE}}}number-rows-spanned", "1"))
                columns = int(element.get(f"{{{TABLE}}}number-columns-spanned", "1"))
                if rows > 1 or columns > 1:
                    info.merged.append(
                        (row, column, row + rows - 1, column + columns - 1)
                    )
            column += repeat
            element.clear()
        elif tag == row_tag:
            row += _repeat(element, "number-rows-repeated")
            element.clear()
        elif tag == table_tag:
            info = None
            element.clear()


_ODS_TABLE_START = re.compile(rb"<table:table(?=[\s/>])")
_ODS_TAG = re.compile(
    rb"<table:(table-row|table-cell|covered-table-cell)(?=[\s/>])([^>]*)>"
)
_ODS_ATTRIBUTE = re.compile(rb'table:([\w-]+)="([^"]*)"')


def _scan_ods_content(content: bytes, structure: _Structure) -> None:
    """Do what ``_read_ods_content`` does with regular expressions over the start tags.

    Cell start tags carry everything needed (repeats, spans, formula,
    validation), so the scan never builds a tree. On a 500-row questionnaire
    it is several times faster than walking the XML.
    """
    starts = [match.start() for match in _ODS_TABLE_START.finditer(content)] + [
        len(content)
    ]
    for begin, end in zip(starts, starts[1:]):
        _scan_ods_table(content, begin, end, structure)


def _scan_ods_table(
    content: bytes, begin: int, end: int, structure: _Structure
) -> None:
    tag_end = content.find(b">", begin)
    found = dict(_ODS_ATTRIBUTE.findall(content, begin, tag_end))
    name = html.unescape(found.get(b"name", b"").decode("utf-8", errors="replace"))
    # Counting in the table's slice is enough: only whether validations remain matters.
    validations = content.count(b"table:content-validation-name=", begin, end)
    info = SheetInfo(
        name,
        protected=found.get(b"protected") == b"true",
        validations=validations,
        formula_syntax="odf",
    )
    structure.sheets[name] = info
    row = column = 0
    row_repeat = 0
    for match in _ODS_TAG.finditer(content, tag_end, end):
        kind, attributes = match.group(1), match.group(2)
        if kind == b"table-row":
            row += row_repeat
            row_repeat = _count(attributes, b"number-rows-repeated")
            column = 0
            continue
        repeat = _count(attributes, b"number-columns-repeated")
        if row < _ODS_TRACKED_ROWS and (
            b"table:formula=" in attributes or b"-spanned=" in attributes
        ):
            found = dict(_ODS_ATTRIBUTE.findall(attributes))
            if b"formula" in found:
                info.formulas[(row, column)] = found[b"formula"]
            rows = int(found.get(b"number-rows-spanned", b"1") or 1)
            columns = int(found.get(b"number-columns-spanned", b"1") or 1)
            if rows > 1 or columns > 1:
                info.merged.append((row, column, row + rows - 1, column + columns - 1))
        column += repeat


def _count(attributes: bytes, name: bytes) -> int:
    if b"repeated" not in attributes:
        return 1
    position = attributes.find(name)
    if position < 0:
        return 1
    match = re.match(rb'="(\d+)"', attributes[position + len(name) :])
    return max(1, int(match.group(1))) if match else 1


def _repeat(element, attribute: str) -> int:
    try:
        return max(1, int(element.get(f"{{{TABLE}}}{attribute}", "1")))
    except ValueError:
        return 1


def _ods_formula(formula: str) -> str:
    """Return an ODS formula in the A1 form a spreadsheet shows (``of:=[.B2]*2`` becomes ``=B2*2``)."""
    text = (
        formula.split(":", 1)[1]
        if formula.startswith(("of:", "oooc:", "msoxl:"))
        else formula
    )
    text = re.sub(
        r"\[\$?'?[^\].]*'?\.(\$?[A-Z]+\$?\d+)(?::\.(\$?[A-Z]+\$?\d+))?\]",
        lambda m: m.group(1) + (":" + m.group(2) if m.group(2) else ""),
        text,
    )
    return text if text.startswith("=") else "=" + text
