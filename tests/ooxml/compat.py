"""Markup compatibility processing (ECMA-376 Part 3) before schema validation.

Excel marks its extensions (x14ac:dyDescent, xr:uid, x15ac:absPath, ...) as
ignorable or wraps them in mc:AlternateContent, so that a consumer that
implements only ECMA-376 can drop them. This module plays that consumer: it understands
the namespaces in namespaces.UNDERSTOOD and edits the tree in place so that
only content for the bundled schemas remains. Moved elements keep their
sourceline, so schema errors still point at the original line.
"""

from dataclasses import dataclass

from lxml import etree

from . import namespaces as ns

MC = ns.MARKUP_COMPATIBILITY
ALTERNATE_CONTENT = ns.clark(MC, "AlternateContent")
CHOICE = ns.clark(MC, "Choice")
FALLBACK = ns.clark(MC, "Fallback")
IGNORABLE = ns.clark(MC, "Ignorable")
PROCESS_CONTENT = ns.clark(MC, "ProcessContent")
MUST_UNDERSTAND = ns.clark(MC, "MustUnderstand")

_DECLARING_ELEMENTS = etree.XPath(
    "//*[@mc:Ignorable or @mc:ProcessContent or @mc:MustUnderstand]",
    namespaces={"mc": MC},
)
_MC_ATTRIBUTES = etree.XPath("//@mc:*", namespaces={"mc": MC})
_ANY_MC_MARKUP = etree.XPath("boolean(//mc:* | //@mc:*)", namespaces={"mc": MC})
_ATTRIBUTES_IN_NAMESPACE = etree.XPath(
    "descendant-or-self::*/@*[namespace-uri() = $uri]"
)
_ELEMENTS_IN_NAMESPACE = etree.XPath("descendant::*[namespace-uri() = $uri]")


@dataclass
class _Declaration:
    """The markup compatibility attributes of one element, prefixes resolved."""

    ignorable: set[str]
    process_content: set[tuple[str, str]]


def apply_markup_compatibility(root: etree._Element) -> list[tuple[int, str]]:
    """Apply ECMA-376 Part 3 to root in place, as a consumer of ECMA-376 only.

    The steps are:

    1. Resolve the prefixes of every mc:Ignorable, mc:ProcessContent and
       mc:MustUnderstand while the namespace declarations are still in place.
    2. Replace each mc:AlternateContent by the children of its first
       mc:Choice whose Requires namespaces are all understood, else by the
       children of its mc:Fallback, else by nothing.
    3. Remove the elements and attributes of ignorable namespaces that are
       not understood. An element listed in mc:ProcessContent is replaced by
       its children instead. Children of <extLst><ext> stay in place.
    4. Remove the remaining mc:* attributes.

    Args:
        root: Root element of a parsed part.

    Returns:
        (line, message) pairs for markup that a consumer must reject: a
        MustUnderstand namespace that is not understood, or a prefix that is
        not declared.
    """
    if not _has_markup_compatibility(root):
        return []

    declarations, problems = _read_declarations(root)

    problems += _select_alternate_content(root, declarations)

    _remove_ignorable_content(root, declarations)

    for attribute in _MC_ATTRIBUTES(root):
        del attribute.getparent().attrib[attribute.attrname]

    return problems


def _has_markup_compatibility(root: etree._Element) -> bool:
    return bool(_ANY_MC_MARKUP(root))


def _read_declarations(
    root: etree._Element,
) -> tuple[dict[etree._Element, _Declaration], list[tuple[int, str]]]:
    declarations = {}
    problems: list[tuple[int, str]] = []

    for element in _DECLARING_ELEMENTS(root):
        ignorable = _resolve_prefixes(element, IGNORABLE, problems)
        must_understand = _resolve_prefixes(element, MUST_UNDERSTAND, problems)

        for namespace in sorted(must_understand - ns.UNDERSTOOD):
            message = (
                f"mc:MustUnderstand requires namespace {namespace}, which the "
                "bundled schemas do not cover"
            )
            problems.append((element.sourceline or 0, message))

        declarations[element] = _Declaration(
            ignorable=ignorable - ns.UNDERSTOOD,
            process_content=_resolve_qualified_names(element, problems),
        )

    return declarations, problems


def _resolve_prefixes(
    element: etree._Element, attribute: str, problems: list[tuple[int, str]]
) -> set[str]:
    namespaces = set()

    for prefix in element.get(attribute, "").split():
        namespace = element.nsmap.get(prefix)
        if namespace is None:
            attribute_name = ns.shorten_names(attribute)
            message = f"{attribute_name} names prefix {prefix!r}, which is not declared"
            problems.append((element.sourceline or 0, message))
        else:
            namespaces.add(namespace)

    return namespaces


def _resolve_qualified_names(
    element: etree._Element, problems: list[tuple[int, str]]
) -> set[tuple[str, str]]:
    names = set()

    for qualified_name in element.get(PROCESS_CONTENT, "").split():
        prefix, _, local_name = qualified_name.partition(":")
        namespace = element.nsmap.get(prefix)
        if namespace is None:
            message = (
                f"mc:ProcessContent names prefix {prefix!r}, which is not declared"
            )
            problems.append((element.sourceline or 0, message))
        else:
            names.add((namespace, local_name))

    return names


def _select_alternate_content(
    root: etree._Element, declarations: dict[etree._Element, _Declaration]
) -> list[tuple[int, str]]:
    problems: list[tuple[int, str]] = []

    # Replace the first remaining block until none is left, so that blocks
    # nested in a selected branch are handled and blocks inside a discarded
    # branch disappear with it.
    while True:
        alternate = next(root.iter(ALTERNATE_CONTENT), None)
        if alternate is None:
            return problems

        if alternate is root:
            problems.append(
                (root.sourceline or 0, "root element is mc:AlternateContent")
            )
            return problems

        branch = _choose_branch(alternate, problems)
        _inherit_declarations(alternate, branch, declarations)
        _replace_by_children(alternate, branch)


def _choose_branch(
    alternate: etree._Element, problems: list[tuple[int, str]]
) -> etree._Element | None:
    for choice in alternate.iterchildren(CHOICE):
        required = choice.get("Requires", "").split()
        namespaces = [choice.nsmap.get(prefix) for prefix in required]

        if None in namespaces:
            requires = choice.get("Requires")
            message = f"mc:Choice Requires={requires!r} names an undeclared prefix"
            problems.append((choice.sourceline or 0, message))
            continue

        if required and set(namespaces) <= ns.UNDERSTOOD:
            return choice

    return next(alternate.iterchildren(FALLBACK), None)


def _inherit_declarations(
    alternate: etree._Element,
    branch: etree._Element | None,
    declarations: dict[etree._Element, _Declaration],
) -> None:
    """Copy declarations of the replaced elements onto the moved children.

    An mc:Ignorable on mc:AlternateContent or on the selected branch applies
    to the branch content, which loses those ancestors when it moves up.
    """
    if branch is None:
        return

    inherited = [
        declarations[element]
        for element in (alternate, branch)
        if element in declarations
    ]
    if not inherited:
        return

    for child in branch:
        declaration = declarations.setdefault(child, _Declaration(set(), set()))
        for source in inherited:
            declaration.ignorable |= source.ignorable
            declaration.process_content |= source.process_content


def _remove_ignorable_content(
    root: etree._Element, declarations: dict[etree._Element, _Declaration]
) -> None:
    for element, declaration in declarations.items():
        if not _is_in_tree(element, root):
            continue

        for namespace in declaration.ignorable:
            _remove_attributes(element, namespace)
            _remove_elements(element, namespace, declarations)


def _remove_attributes(scope: etree._Element, namespace: str) -> None:
    for attribute in _ATTRIBUTES_IN_NAMESPACE(scope, uri=namespace):
        del attribute.getparent().attrib[attribute.attrname]


def _remove_elements(
    scope: etree._Element,
    namespace: str,
    declarations: dict[etree._Element, _Declaration],
) -> None:
    for element in _ELEMENTS_IN_NAMESPACE(scope, uri=namespace):
        if not _is_in_tree(element, scope) or _is_extension_content(element):
            continue

        if _is_processed_content(element, declarations):
            _replace_by_children(element, element)
        else:
            _replace_by_children(element, None)


def _is_extension_content(element: etree._Element) -> bool:
    """Return True for a child of <extLst><ext>, which stays in place.

    The schemas require exactly one element of any namespace in <ext> and
    check it laxly, so removing an ignorable child such as x15:workbookPr
    would leave an empty <ext> that the schema rejects.
    """
    parent = element.getparent()
    grandparent = parent.getparent() if parent is not None else None
    if grandparent is None:
        return False

    return (
        etree.QName(parent).localname == "ext"
        and etree.QName(grandparent).localname == "extLst"
    )


def _is_processed_content(
    element: etree._Element, declarations: dict[etree._Element, _Declaration]
) -> bool:
    namespace = etree.QName(element).namespace
    names = {(namespace, etree.QName(element).localname), (namespace, "*")}

    for scope in element.iterancestors():
        declaration = declarations.get(scope)
        if declaration is not None and names & declaration.process_content:
            return True

    return False


def _is_in_tree(element: etree._Element, root: etree._Element) -> bool:
    return element is root or any(
        ancestor is root for ancestor in element.iterancestors()
    )


def _replace_by_children(
    element: etree._Element, source: etree._Element | None
) -> None:
    """Replace element by the children of source (by nothing if source is None).

    The text around the removed element stays with its neighbours, because
    removing a markup wrapper must not change the character content.
    """
    parent = element.getparent()
    position = parent.index(element)
    children = list(source) if source is not None else []
    leading_text = source.text if source is not None else None
    tail = element.tail

    # lxml removes an element together with its tail, so the tail is saved first.
    parent.remove(element)

    _append_text(parent, position, leading_text)

    for offset, child in enumerate(children):
        parent.insert(position + offset, child)

    _append_text(parent, position + len(children), tail)


def _append_text(parent: etree._Element, position: int, text: str | None) -> None:
    """Append text to the tail of parent[position - 1], or to parent.text at 0."""
    if not text:
        return

    if position == 0:
        parent.text = (parent.text or "") + text
        return

    previous = parent[position - 1]
    previous.tail = (previous.tail or "") + text
