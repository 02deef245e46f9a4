"""Structural XML comparison (as zeep's tests do): tags, attributes and stripped text, in order."""

import os

from lxml import etree


def assert_nodes_equal(actual: etree._Element, expected: etree._Element, path: str = "") -> None:
    here = f"{path}/{etree.QName(expected).localname}"
    assert actual.tag == expected.tag, f"{here}: tag {actual.tag} != {expected.tag}"
    assert dict(actual.attrib.items()) == dict(expected.attrib.items()), f"{here}: attributes differ"
    assert (actual.text or "").strip() == (expected.text or "").strip(), (
        f"{here}: text {actual.text!r} != {expected.text!r}"
    )
    actual_children, expected_children = list(actual), list(expected)
    assert len(actual_children) == len(expected_children), (
        f"{here}: {len(actual_children)} children != {len(expected_children)}: "
        f"{[c.tag for c in actual_children]} vs {[c.tag for c in expected_children]}"
    )
    for got, want in zip(actual_children, expected_children, strict=True):
        assert_nodes_equal(got, want, here)


def parse_file(path: str | os.PathLike[str]) -> etree._Element:
    return etree.parse(str(path), etree.XMLParser(remove_blank_text=True, resolve_entities=False)).getroot()
