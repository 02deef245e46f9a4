"""The CSV synchronisation tool (CONTRACT.md section 5): pure planning, thin shells."""
