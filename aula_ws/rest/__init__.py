"""REST endpoints (Moodle-style web services)."""
