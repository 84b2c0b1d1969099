"""PDF reports (to come)."""


class PdfUnavailable(Exception):
    """WeasyPrint cannot run here (Pango missing)."""


def write_pdf(session, state, scope, path, tmp):
    raise PdfUnavailable()
