"""The service under attack: hostile network input, hostile files, secrets at rest (issue 9)."""
