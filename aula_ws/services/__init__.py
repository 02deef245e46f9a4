"""Use cases: one function each, the only callers of aula_ws.store."""
