"""Python 3.12+ compatibility for spyne 2.14.0 (its last release), imported before spyne.

spyne bundles an old `six` whose `_SixMetaPathImporter` (put on sys.meta_path) implements only
the find_module/load_module protocol, which Python 3.12 dropped from the import system: every
`import spyne.util.six.moves...` then fails. We give that importer the find_spec protocol
(PEP 451), delegating to its own methods, as later six releases do. On Python 3.11 this does nothing.

The other 3.13 break, `import cgi` (removed by PEP 594), is met by the `legacy-cgi` package,
a dependency on 3.13+ only (pyproject.toml); nothing to do here.

Written by hand: no maintained package patches spyne, and spyne is not released any more.
"""

import importlib.util
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any


def _find_spec(self: Any, fullname: str, path: object = None, target: object = None) -> ModuleSpec | None:
    if self.find_module(fullname) is None:
        return None
    return importlib.util.spec_from_loader(fullname, self)


def _create_module(self: Any, spec: ModuleSpec) -> ModuleType:
    module: ModuleType = self.load_module(spec.name)
    return module


def _exec_module(self: Any, module: ModuleType) -> None:
    """load_module did the work in create_module."""


class _SixPatcher:
    """First on sys.meta_path: before each import, gives any six importer that arrived since
    (spyne's bundled six registers one when spyne's package first loads) the find_spec
    protocol, then lets the usual finders do the import."""

    @staticmethod
    def find_spec(fullname: str, path: object = None, target: object = None) -> None:
        for finder in sys.meta_path:
            kind: Any = type(finder)
            if kind.__name__ == "_SixMetaPathImporter" and "find_spec" not in vars(kind):
                kind.find_spec = _find_spec
                kind.create_module = _create_module
                kind.exec_module = _exec_module


def install() -> None:
    """Python 3.12+ only; on 3.11 the importer's own protocol still works."""
    if sys.version_info >= (3, 12) and not any(isinstance(finder, _SixPatcher) for finder in sys.meta_path):
        sys.meta_path.insert(0, _SixPatcher())


install()
