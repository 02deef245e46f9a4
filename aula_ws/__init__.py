"""aula-ws: learners' progress and usage statistics for other platforms."""

__version__ = "0.1.0"

# spyne 2.14 on Python 3.12+: before any module of the package imports spyne (aula_ws/compat.py)
from aula_ws import compat as _compat  # noqa: F401
