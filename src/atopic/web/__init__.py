"""The web app a clinician uses at the bedside: FastAPI, Jinja2 templates and vendored htmx on
the registry's service layer, with a JSON twin for every page."""
