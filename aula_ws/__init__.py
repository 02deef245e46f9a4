"""aula-ws: learners' progress and usage statistics for other platforms."""

__version__ = "0.1.0"
