"""Documents: printable outputs rendered from HTML templates to PDF (WeasyPrint)."""
