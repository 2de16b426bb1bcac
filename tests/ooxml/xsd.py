"""ECMA-376 schemas for each part content type, compiled once per process."""

import functools
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from . import namespaces as ns

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"

# opc-coreProperties.xsd, dc.xsd and dcterms.xsd import other schemas by their
# published URL. The resolver maps these URLs to the bundled copies. Parsers
# are created with no_network=True, so an unmapped URL fails to load instead
# of being downloaded.
PUBLISHED_SCHEMA_COPIES = {
    "http://dublincore.org/schemas/xmls/qdc/2003/04/02/dc.xsd": "external/dc.xsd",
    "http://dublincore.org/schemas/xmls/qdc/2003/04/02/dcterms.xsd": (
        "external/dcterms.xsd"
    ),
    "http://www.w3.org/2001/03/xml.xsd": "external/xml.xsd",
}

SML_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml."
EXCEL_MACRO_CONTENT_TYPE = "application/vnd.ms-excel."
OFFICE_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument."
PACKAGE_CONTENT_TYPE = "application/vnd.openxmlformats-package."

RELATIONSHIPS_CONTENT_TYPE = PACKAGE_CONTENT_TYPE + "relationships+xml"

WORKBOOK_CONTENT_TYPES = frozenset(
    {
        SML_CONTENT_TYPE + "sheet.main+xml",
        SML_CONTENT_TYPE + "template.main+xml",
        EXCEL_MACRO_CONTENT_TYPE + "sheet.macroEnabled.main+xml",
        EXCEL_MACRO_CONTENT_TYPE + "template.macroEnabled.main+xml",
        EXCEL_MACRO_CONTENT_TYPE + "addin.macroEnabled.main+xml",
    }
)

WORKSHEET_CONTENT_TYPE = SML_CONTENT_TYPE + "worksheet+xml"

# VML drawings (comment boxes, form controls) are not validated, because VML
# does not suit strict schema validation. Excel itself writes VML that is not
# well-formed XML, with unclosed <br> tags in multi-line form control text, as
# PhpSpreadsheet and ClosedXML users have reported. The VML schemas also
# import wml.xsd, which is not bundled.
VML_CONTENT_TYPE = OFFICE_CONTENT_TYPE + "vmlDrawing"


@dataclass(frozen=True)
class PartSchema:
    """The expected root element of a part and the schema that checks it."""

    root: str
    xsd: str


def _sml(root: str) -> PartSchema:
    return PartSchema(ns.clark(ns.SML, root), "transitional/sml.xsd")


# Content types from ECMA-376 Part 1, mapped to the root element and schema
# file that validate parts of that type.
PART_SCHEMAS: dict[str, PartSchema] = {
    **{content_type: _sml("workbook") for content_type in WORKBOOK_CONTENT_TYPES},
    WORKSHEET_CONTENT_TYPE: _sml("worksheet"),
    SML_CONTENT_TYPE + "chartsheet+xml": _sml("chartsheet"),
    SML_CONTENT_TYPE + "dialogsheet+xml": _sml("dialogsheet"),
    SML_CONTENT_TYPE + "styles+xml": _sml("styleSheet"),
    SML_CONTENT_TYPE + "sharedStrings+xml": _sml("sst"),
    SML_CONTENT_TYPE + "comments+xml": _sml("comments"),
    SML_CONTENT_TYPE + "table+xml": _sml("table"),
    SML_CONTENT_TYPE + "calcChain+xml": _sml("calcChain"),
    SML_CONTENT_TYPE + "externalLink+xml": _sml("externalLink"),
    SML_CONTENT_TYPE + "pivotTable+xml": _sml("pivotTableDefinition"),
    SML_CONTENT_TYPE + "pivotCacheDefinition+xml": _sml("pivotCacheDefinition"),
    SML_CONTENT_TYPE + "pivotCacheRecords+xml": _sml("pivotCacheRecords"),
    SML_CONTENT_TYPE + "connections+xml": _sml("connections"),
    SML_CONTENT_TYPE + "queryTable+xml": _sml("queryTable"),
    SML_CONTENT_TYPE + "sheetMetadata+xml": _sml("metadata"),
    SML_CONTENT_TYPE + "volatileDependencies+xml": _sml("volTypes"),
    SML_CONTENT_TYPE + "revisionHeaders+xml": _sml("headers"),
    SML_CONTENT_TYPE + "revisionLog+xml": _sml("revisions"),
    SML_CONTENT_TYPE + "userNames+xml": _sml("users"),
    SML_CONTENT_TYPE + "tableSingleCells+xml": _sml("singleXmlCells"),
    OFFICE_CONTENT_TYPE + "drawing+xml": PartSchema(
        ns.clark(ns.SPREADSHEET_DRAWING, "wsDr"),
        "transitional/dml-spreadsheetDrawing.xsd",
    ),
    OFFICE_CONTENT_TYPE + "drawingml.chart+xml": PartSchema(
        ns.clark(ns.CHART, "chartSpace"), "transitional/dml-chart.xsd"
    ),
    OFFICE_CONTENT_TYPE + "drawingml.chartshapes+xml": PartSchema(
        ns.clark(ns.CHART, "userShapes"), "transitional/dml-chart.xsd"
    ),
    OFFICE_CONTENT_TYPE + "theme+xml": PartSchema(
        ns.clark(ns.DRAWING_MAIN, "theme"), "transitional/dml-main.xsd"
    ),
    OFFICE_CONTENT_TYPE + "themeOverride+xml": PartSchema(
        ns.clark(ns.DRAWING_MAIN, "themeOverride"), "transitional/dml-main.xsd"
    ),
    OFFICE_CONTENT_TYPE + "extended-properties+xml": PartSchema(
        ns.clark(ns.EXTENDED_PROPERTIES, "Properties"),
        "transitional/shared-documentPropertiesExtended.xsd",
    ),
    OFFICE_CONTENT_TYPE + "custom-properties+xml": PartSchema(
        ns.clark(ns.CUSTOM_PROPERTIES, "Properties"),
        "transitional/shared-documentPropertiesCustom.xsd",
    ),
    OFFICE_CONTENT_TYPE + "customXmlProperties+xml": PartSchema(
        ns.clark(ns.CUSTOM_XML, "datastoreItem"),
        "transitional/shared-customXmlDataProperties.xsd",
    ),
    PACKAGE_CONTENT_TYPE + "core-properties+xml": PartSchema(
        ns.clark(ns.CORE_PROPERTIES, "coreProperties"), "opc/opc-coreProperties.xsd"
    ),
    RELATIONSHIPS_CONTENT_TYPE: PartSchema(
        ns.clark(ns.PACKAGE_RELATIONSHIPS, "Relationships"),
        "opc/opc-relationships.xsd",
    ),
}

# [Content_Types].xml is not a part and has no content type of its own.
CONTENT_TYPES_SCHEMA = PartSchema(
    ns.clark(ns.CONTENT_TYPES, "Types"), "opc/opc-contentTypes.xsd"
)


class _BundledSchemaResolver(etree.Resolver):
    def resolve(self, url, public_id, context):
        local_path = PUBLISHED_SCHEMA_COPIES.get(url)
        if local_path is None:
            return None

        return self.resolve_filename(str(SCHEMA_DIR / local_path), context)


@functools.cache
def load_schema(xsd: str) -> etree.XMLSchema:
    """Compile a bundled schema file and the schemas it imports.

    The result is cached for the life of the process because a test run
    validates many workbooks against the same few schemas.

    Args:
        xsd: Path of the schema file relative to the schemas folder, such as
            "transitional/sml.xsd".

    Returns:
        The compiled schema.

    Raises:
        lxml.etree.XMLSchemaParseError: If the schema or one of its imports
            cannot be loaded.
    """
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_BundledSchemaResolver())

    document = etree.parse(str(SCHEMA_DIR / xsd), parser)

    return etree.XMLSchema(document)
