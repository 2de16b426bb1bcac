"""Office Open XML checks for .xlsx files, a stand-in for opening them in Excel.

validate_xlsx looks for what makes Microsoft Excel offer to repair a
workbook, as far as schemas and a few rules can tell. It reports a broken
package structure, XML that does not match the ECMA-376 5th edition
transitional schemas, and Excel limits that the schemas do not express. The
schemas are bundled in the schemas folder (see schemas/SOURCE.md), so the
checks need no network.

Not checked: VML drawings (see xsd.VML_CONTENT_TYPE), content in Microsoft
extension namespaces (no schema is bundled for them, and ECMA-376 allows any
content in <extLst>), and XML parts whose content type has no entry in
xsd.PART_SCHEMAS, which are only checked for well-formedness.
"""

import os
from pathlib import Path

from lxml import etree

from . import excel_rules, xsd
from . import namespaces as ns
from .compat import apply_markup_compatibility
from .package import (
    CONTENT_TYPES_PART,
    Package,
    PackageError,
    Part,
    Relationship,
    assign_content_types,
    check_part_names,
    check_relationship_ids,
    check_relationship_targets,
    find_workbook,
    parse_part,
    read_package,
    read_relationships,
)
from .problems import Problem

__all__ = ["validate_xlsx"]

_XML_SPACE = ns.clark(ns.XML, "space")
_XML_SPACE_ATTRIBUTES = etree.XPath("//@xml:space")
_XML_CONTENT_TYPES = frozenset({"application/xml", "text/xml"})


def validate_xlsx(path: str | os.PathLike) -> list[str]:
    """Check the package structure, XML schemas and Excel rules of an .xlsx file.

    Args:
        path: The .xlsx (or .xlsm) file.

    Returns:
        One "part:line: message" string per problem, such as
        "xl/worksheets/sheet1.xml:2: Element 'x:sheetProtection': This
        element is not expected. ...". An empty list means the file passed
        every check. The line is 0 for problems not tied to a line.
    """
    path = Path(path)
    try:
        package = read_package(path)
    except PackageError as error:
        return [str(Problem(path.name, 0, str(error)))]

    problems = check_part_names(package)
    problems += assign_content_types(package)
    problems += _parse_xml_parts(package)

    relationships = read_relationships(package)
    problems += check_relationship_targets(package, relationships)

    workbook, workbook_problems = find_workbook(package, relationships)
    problems += workbook_problems

    # The Excel rules read the trees as written, before markup compatibility
    # processing removes ignorable content from them.
    problems += _check_excel_rules(package, workbook)

    for part in package.parts.values():
        problems += _check_xml_part(part, relationships)

    return [str(problem) for problem in problems]


def _parse_xml_parts(package: Package) -> list[Problem]:
    problems = []

    for part in package.parts.values():
        if part.name == CONTENT_TYPES_PART or not _is_xml(part):
            continue

        problems += parse_part(part)

    return problems


def _is_xml(part: Part) -> bool:
    content_type = part.content_type
    if content_type is None:
        # The part was reported as lacking a content type. Parse it anyway if
        # its name ends in .xml or .rels, so that its relationships are read.
        return part.name.endswith((".xml", ".rels"))

    return content_type.endswith("+xml") or content_type in _XML_CONTENT_TYPES


def _check_excel_rules(package: Package, workbook: Part | None) -> list[Problem]:
    problems = []

    if workbook is not None and workbook.tree is not None:
        problems += excel_rules.check_workbook(workbook.name, workbook.tree.getroot())

    for part in package.parts.values():
        if part.content_type == xsd.WORKSHEET_CONTENT_TYPE and part.tree is not None:
            problems += excel_rules.check_data_validations(
                part.name, part.tree.getroot()
            )

    return problems


def _check_xml_part(
    part: Part, relationships: dict[str, list[Relationship]]
) -> list[Problem]:
    if part.tree is None:
        return []

    root = part.tree.getroot()
    problems = [
        Problem(part.name, line, message)
        for line, message in apply_markup_compatibility(root)
    ]

    problems += _remove_xml_space(part)
    problems += check_relationship_ids(part, relationships)

    part_schema = _find_part_schema(part)
    if part_schema is not None:
        problems += _validate_against_schema(part, part_schema)

    return problems


def _remove_xml_space(part: Part) -> list[Problem]:
    """Remove the xml:space attributes, which no schema of a spreadsheet part allows.

    Excel writes xml:space="preserve" on <t> elements, but of the bundled
    schemas only wml.xsd and shared-math.xsd declare xml:space, and neither
    applies to a spreadsheet part. The schema would therefore reject every
    attribute removed here. A value other than the two that XML 1.0 allows
    is reported.
    """
    problems = []

    for attribute in _XML_SPACE_ATTRIBUTES(part.tree):
        element = attribute.getparent()
        if attribute not in ("preserve", "default"):
            message = (
                f"xml:space={str(attribute)!r} on {ns.shorten_names(element.tag)} is "
                "invalid; XML 1.0 allows only 'preserve' and 'default'"
            )
            problems.append(Problem(part.name, element.sourceline or 0, message))

        del element.attrib[_XML_SPACE]

    return problems


def _find_part_schema(part: Part) -> xsd.PartSchema | None:
    if part.name == CONTENT_TYPES_PART:
        return xsd.CONTENT_TYPES_SCHEMA

    return xsd.PART_SCHEMAS.get(part.content_type or "")


def _validate_against_schema(part: Part, part_schema: xsd.PartSchema) -> list[Problem]:
    root = part.tree.getroot()

    # A schema accepts any of its global elements as the root, so a worksheet
    # part holding <sst> would pass without this check.
    if root.tag != part_schema.root:
        if part.content_type is None:
            owner = part.name
        else:
            owner = f"content type {part.content_type}"
        message = (
            f"root element is {ns.shorten_names(root.tag)}, but {owner} requires "
            f"{ns.shorten_names(part_schema.root)}"
        )
        return [Problem(part.name, root.sourceline or 0, message)]

    schema = xsd.load_schema(part_schema.xsd)
    if schema.validate(part.tree):
        return []

    return [
        Problem(part.name, error.line, ns.shorten_names(error.message))
        for error in schema.error_log
    ]
