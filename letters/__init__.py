"""Letters: Jinja2 templates rendered to PDF by WeasyPrint in worker processes."""
