"""Open Packaging Conventions checks (ECMA-376 Part 2) on a zip archive."""

import posixpath
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from . import namespaces as ns
from . import xsd
from .problems import Problem

CONTENT_TYPES_PART = "[Content_Types].xml"
ROOT_RELATIONSHIPS_PART = "_rels/.rels"
OFFICE_DOCUMENT_RELATIONSHIP = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
)

# The parser resolves no entities and loads no DTD, so an entity expansion
# attack ("billion laughs") stays unexpanded. The DOCTYPE itself is reported,
# because ECMA-376 Part 2 requires package implementers to treat a DTD
# declaration as an error (rule M1.18 in the 1st edition).
XML_PARSER = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)

# Each attribute in this namespace (r:id, r:embed, r:link, ...) contains the Id
# of a relationship of the part.
_RELATIONSHIP_ID_ATTRIBUTES = etree.XPath("//@r:*", namespaces={"r": ns.RELATIONSHIPS})


@dataclass
class Part:
    """A zip member of the package, with its tree once parsed."""

    name: str
    data: bytes
    content_type: str | None = None
    tree: etree._ElementTree | None = None


@dataclass(frozen=True)
class Relationship:
    """A <Relationship> of a .rels part, with its target resolved to a part name."""

    rels_part: str
    line: int
    id: str
    type: str
    target: str
    external: bool
    target_part: str | None


@dataclass
class Package:
    """The members of an .xlsx zip archive."""

    file_name: str
    parts: dict[str, Part] = field(default_factory=dict)
    duplicate_names: list[str] = field(default_factory=list)

    def find(self, name: str) -> Part | None:
        """Return the part with this name, compared without regard to ASCII case.

        ECMA-376 Part 2 compares part names as case-insensitive ASCII strings.
        """
        part = self.parts.get(name)
        if part is not None:
            return part

        folded = name.lower()
        for candidate_name, candidate in self.parts.items():
            if candidate_name.lower() == folded:
                return candidate

        return None


class PackageError(Exception):
    """The file is not a zip archive, so it cannot be an OOXML package."""


def read_package(path: Path) -> Package:
    """Read every member of the zip archive at path.

    Args:
        path: The .xlsx file.

    Returns:
        The package, with folder entries left out.

    Raises:
        PackageError: If the file is not a zip archive. Password-protected
            workbooks are OLE compound files and land here.
    """
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise PackageError(
            f"not a zip archive ({error}); an .xlsx that Excel encrypted with a "
            "password is an OLE compound file instead"
        ) from error

    package = Package(file_name=path.name)
    with archive:
        names = [info.filename for info in archive.infolist() if not info.is_dir()]
        package.duplicate_names = _find_duplicates(names)

        for name in names:
            package.parts[name] = Part(name=name, data=archive.read(name))

    return package


def _find_duplicates(names: list[str]) -> list[str]:
    seen: set[str] = set()
    duplicates = []

    for name in names:
        folded = name.lower()
        if folded in seen:
            duplicates.append(name)
        seen.add(folded)

    return duplicates


def parse_part(part: Part) -> list[Problem]:
    """Parse the XML of a part into part.tree.

    Returns:
        A problem when the XML is not well-formed, exceeds a parser limit
        (such as libxml2's entity amplification limit) or declares a DTD. The
        tree stays None when the XML cannot be parsed.
    """
    try:
        part.tree = etree.ElementTree(etree.fromstring(part.data, XML_PARSER))
    except etree.XMLSyntaxError as error:
        line = error.lineno or 0
        return [Problem(part.name, line, f"XML cannot be parsed: {error.msg}")]

    if part.tree.docinfo.doctype:
        message = (
            f"DTD declaration {part.tree.docinfo.doctype!r} is not allowed in a "
            "package part"
        )
        return [Problem(part.name, 0, message)]

    return []


def check_part_names(package: Package) -> list[Problem]:
    """Report zip members whose names differ only in case or repeat."""
    return [
        Problem(
            name,
            0,
            "part name occurs more than once in the zip archive "
            "(part names are compared without regard to case)",
        )
        for name in package.duplicate_names
    ]


class ContentTypes:
    """Default (by extension) and Override (by part name) content types."""

    def __init__(self, root: etree._Element):
        self.defaults: dict[str, str] = {}
        self.overrides: dict[str, str] = {}

        for default in root.iter(ns.clark(ns.CONTENT_TYPES, "Default")):
            extension = default.get("Extension", "").lower()
            self.defaults[extension] = default.get("ContentType", "")

        for override in root.iter(ns.clark(ns.CONTENT_TYPES, "Override")):
            part_name = override.get("PartName", "").lower()
            self.overrides[part_name] = override.get("ContentType", "")

    def lookup(self, part_name: str) -> str | None:
        """Return the content type of a zip member name, or None if it has none."""
        override = self.overrides.get("/" + part_name.lower())
        if override is not None:
            return override

        _, dot, extension = posixpath.basename(part_name).rpartition(".")
        if not dot:
            return None

        return self.defaults.get(extension.lower())


def assign_content_types(package: Package) -> list[Problem]:
    """Parse [Content_Types].xml and set the content type of every part.

    Returns:
        Problems for a missing or unreadable [Content_Types].xml and for
        each part that neither a Default nor an Override covers.
    """
    types_part = package.parts.get(CONTENT_TYPES_PART)
    if types_part is None:
        return [Problem(CONTENT_TYPES_PART, 0, "part is missing from the package")]

    problems = parse_part(types_part)
    if types_part.tree is None:
        return problems

    content_types = ContentTypes(types_part.tree.getroot())

    for part in package.parts.values():
        if part is types_part:
            continue

        part.content_type = content_types.lookup(part.name)
        if part.content_type is None:
            message = (
                "part has no content type: [Content_Types].xml needs a Default "
                "for its extension or an Override for its part name"
            )
            problems.append(Problem(part.name, 0, message))

    return problems


def source_part_name(rels_name: str) -> str | None:
    """Return the part that a .rels part describes ("" for the package).

    "xl/_rels/workbook.xml.rels" describes "xl/workbook.xml", and
    "_rels/.rels" describes the package itself. Returns None for a name that
    does not follow the "<folder>/_rels/<part>.rels" pattern.
    """
    folder, rels_folder_name, file_name = rels_name.rpartition("_rels/")
    if not rels_folder_name or not file_name.endswith(".rels"):
        return None

    if folder and not folder.endswith("/"):
        return None

    return folder + file_name[: -len(".rels")]


def rels_part_name(part_name: str) -> str:
    """Return the name of the .rels part that stores a part's relationships."""
    folder, _, file_name = part_name.rpartition("/")
    prefix = folder + "/" if folder else ""

    return f"{prefix}_rels/{file_name}.rels"


def resolve_target(source_part: str, target: str) -> str | None:
    """Resolve a relationship Target URI against its source part.

    Args:
        source_part: Zip member name of the source part, "" for the package.
        target: The Target attribute, relative or starting with "/".

    Returns:
        The zip member name it points at, or None if it leaves the package.
    """
    path = unquote(target.partition("#")[0])

    if path.startswith("/"):
        joined = path.lstrip("/")
    else:
        joined = posixpath.join(posixpath.dirname(source_part), path)

    normalized = posixpath.normpath(joined)
    if normalized == ".." or normalized.startswith("../"):
        return None

    return normalized


def read_relationships(package: Package) -> dict[str, list[Relationship]]:
    """Collect the relationships of every parsed .rels part.

    Returns:
        The relationships keyed by source part name ("" for the package).
    """
    relationships: dict[str, list[Relationship]] = {}

    for part in package.parts.values():
        source = source_part_name(part.name)
        if source is None or part.tree is None:
            continue

        relationships[source] = [
            _read_relationship(part.name, source, element)
            for element in part.tree.iter(
                ns.clark(ns.PACKAGE_RELATIONSHIPS, "Relationship")
            )
        ]

    return relationships


def _read_relationship(
    rels_name: str, source: str, element: etree._Element
) -> Relationship:
    target = element.get("Target", "")
    external = element.get("TargetMode") == "External"

    return Relationship(
        rels_part=rels_name,
        line=element.sourceline or 0,
        id=element.get("Id", ""),
        type=element.get("Type", ""),
        target=target,
        external=external,
        target_part=None if external else resolve_target(source, target),
    )


def check_relationship_targets(
    package: Package, relationships: dict[str, list[Relationship]]
) -> list[Problem]:
    """Report internal relationships whose target part is not in the package."""
    problems = []

    for relationship in _all(relationships):
        if relationship.external:
            continue

        if relationship.target_part is None:
            message = (
                f"relationship {relationship.id} target {relationship.target!r} "
                "points outside the package"
            )
            problems.append(Problem(relationship.rels_part, relationship.line, message))
        elif package.find(relationship.target_part) is None:
            message = (
                f"relationship {relationship.id} target {relationship.target!r} "
                f"resolves to part {relationship.target_part!r}, which is not in "
                "the package"
            )
            problems.append(Problem(relationship.rels_part, relationship.line, message))

    return problems


def _all(relationships: dict[str, list[Relationship]]) -> list[Relationship]:
    return [item for items in relationships.values() for item in items]


def find_workbook(
    package: Package, relationships: dict[str, list[Relationship]]
) -> tuple[Part | None, list[Problem]]:
    """Follow the package's officeDocument relationship to the workbook part.

    Returns:
        The workbook part, or None when the relationship is missing, repeated
        or points at a part that is missing or is not a workbook, and the
        problems found on the way.
    """
    if ROOT_RELATIONSHIPS_PART not in package.parts:
        message = "part is missing from the package"
        return None, [Problem(ROOT_RELATIONSHIPS_PART, 0, message)]

    office_documents = [
        relationship
        for relationship in relationships.get("", [])
        if relationship.type == OFFICE_DOCUMENT_RELATIONSHIP
    ]
    if len(office_documents) != 1:
        message = (
            f"expected one relationship of type {OFFICE_DOCUMENT_RELATIONSHIP}, "
            f"found {len(office_documents)}"
        )
        return None, [Problem(ROOT_RELATIONSHIPS_PART, 0, message)]

    return _check_workbook_target(package, office_documents[0])


def _check_workbook_target(
    package: Package, relationship: Relationship
) -> tuple[Part | None, list[Problem]]:
    if relationship.target_part is None or relationship.external:
        message = f"officeDocument target {relationship.target!r} is not a package part"
        return None, [Problem(relationship.rels_part, relationship.line, message)]

    workbook = package.find(relationship.target_part)
    if workbook is None:
        # check_relationship_targets reports the missing part.
        return None, []

    # A part without a content type has been reported already.
    is_workbook = workbook.content_type in xsd.WORKBOOK_CONTENT_TYPES
    if workbook.content_type is not None and not is_workbook:
        message = (
            f"officeDocument target {workbook.name!r} has content type "
            f"{workbook.content_type!r}, which is not a workbook content type"
        )
        return None, [Problem(relationship.rels_part, relationship.line, message)]

    return workbook, []


def check_relationship_ids(
    part: Part, relationships: dict[str, list[Relationship]]
) -> list[Problem]:
    """Report relationship references (r:id, r:embed, ...) missing from the .rels.

    A worksheet's <drawing r:id="rId3"/> must match a relationship with
    Id="rId3" in xl/worksheets/_rels/sheet1.xml.rels, which names the
    drawing part.
    """
    if part.tree is None:
        return []

    defined = {relationship.id for relationship in relationships.get(part.name, [])}
    problems = []

    for value in _RELATIONSHIP_ID_ATTRIBUTES(part.tree):
        if value in defined:
            continue

        element = value.getparent()
        attribute = ns.shorten_names(value.attrname)
        message = (
            f"{attribute}={str(value)!r} on {ns.shorten_names(element.tag)} names "
            f"no relationship in {rels_part_name(part.name)}"
        )
        problems.append(Problem(part.name, element.sourceline or 0, message))

    return problems
