"""XML namespace URIs used by SpreadsheetML packages (ECMA-376 transitional)."""

SML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DRAWING_MAIN = "http://schemas.openxmlformats.org/drawingml/2006/main"
CHART = "http://schemas.openxmlformats.org/drawingml/2006/chart"
CHART_DRAWING = "http://schemas.openxmlformats.org/drawingml/2006/chartDrawing"
DIAGRAM = "http://schemas.openxmlformats.org/drawingml/2006/diagram"
PICTURE = "http://schemas.openxmlformats.org/drawingml/2006/picture"
LOCKED_CANVAS = "http://schemas.openxmlformats.org/drawingml/2006/lockedCanvas"
SPREADSHEET_DRAWING = (
    "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
)
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SHARED_TYPES = "http://schemas.openxmlformats.org/officeDocument/2006/sharedTypes"
EXTENDED_PROPERTIES = (
    "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
)
CUSTOM_PROPERTIES = (
    "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
)
VARIANT_TYPES = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
CUSTOM_XML = "http://schemas.openxmlformats.org/officeDocument/2006/customXml"

PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
CORE_PROPERTIES = (
    "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
)
DUBLIN_CORE = "http://purl.org/dc/elements/1.1/"
DUBLIN_CORE_TERMS = "http://purl.org/dc/terms/"
DUBLIN_CORE_TYPES = "http://purl.org/dc/dcmitype/"

MARKUP_COMPATIBILITY = "http://schemas.openxmlformats.org/markup-compatibility/2006"
XML = "http://www.w3.org/XML/1998/namespace"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

# Microsoft extensions from [MS-XLSX]. No schema for them is bundled, and the
# validator reads only the data validations written in this form.
EXCEL_2010_MAIN = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
EXCEL_FORMULA = "http://schemas.microsoft.com/office/excel/2006/main"
EXCEL_2010_AC = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"

# Namespaces whose content the bundled schemas check. ECMA-376 Part 3 markup
# compatibility treats every other namespace as not understood. Its content is
# removed where mc:Ignorable lists it, and the schema rejects it elsewhere.
UNDERSTOOD = frozenset(
    {
        SML,
        DRAWING_MAIN,
        CHART,
        CHART_DRAWING,
        DIAGRAM,
        PICTURE,
        LOCKED_CANVAS,
        SPREADSHEET_DRAWING,
        RELATIONSHIPS,
        SHARED_TYPES,
        EXTENDED_PROPERTIES,
        CUSTOM_PROPERTIES,
        VARIANT_TYPES,
        CUSTOM_XML,
        PACKAGE_RELATIONSHIPS,
        CONTENT_TYPES,
        CORE_PROPERTIES,
        DUBLIN_CORE,
        DUBLIN_CORE_TERMS,
        DUBLIN_CORE_TYPES,
        XML,
        XSI,
    }
)

# Short prefixes used to shorten Clark names ("{uri}local") in messages.
MESSAGE_PREFIXES = {
    SML: "x",
    DRAWING_MAIN: "a",
    CHART: "c",
    CHART_DRAWING: "cdr",
    SPREADSHEET_DRAWING: "xdr",
    RELATIONSHIPS: "r",
    EXTENDED_PROPERTIES: "ep",
    CUSTOM_PROPERTIES: "op",
    VARIANT_TYPES: "vt",
    PACKAGE_RELATIONSHIPS: "rel",
    CONTENT_TYPES: "ct",
    CORE_PROPERTIES: "cp",
    DUBLIN_CORE: "dc",
    DUBLIN_CORE_TERMS: "dcterms",
    MARKUP_COMPATIBILITY: "mc",
    XML: "xml",
    EXCEL_2010_MAIN: "x14",
    EXCEL_2010_AC: "x14ac",
}


def clark(namespace: str, local_name: str) -> str:
    """Return the Clark notation "{namespace}local" that lxml uses for names."""
    return f"{{{namespace}}}{local_name}"


def shorten_names(text: str) -> str:
    """Replace each "{uri}" of a known namespace in text by "prefix:".

    Args:
        text: A message that may contain Clark names, such as an lxml
            schema validation error.

    Returns:
        The text with "{http://...spreadsheetml/2006/main}sheetProtection"
        written as "x:sheetProtection".
    """
    for namespace, prefix in MESSAGE_PREFIXES.items():
        text = text.replace(f"{{{namespace}}}", f"{prefix}:")
    return text
