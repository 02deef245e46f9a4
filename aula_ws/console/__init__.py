"""The administrator's console under /admin/: server-rendered pages (Werkzeug, Jinja2, Babel)
that call the same service functions as the CLI and SOAP (issue 16)."""
