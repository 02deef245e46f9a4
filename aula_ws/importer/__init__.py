"""File pipelines: read and plan purely, then apply in a thin shell."""
