"""The PDF report: the minutes (acta) of a workshop, or a report of a whole chain.

Rendered with WeasyPrint from Jinja templates (``templates/exports/report.html``), A4, in
the workshop's language (a chain's report: the reader's): cover, attendance summary by
stakeholder group and segment (the list of names only when asked for), each activity's
results with SVG charts (a kind's section is ``templates/exports/report/_<kind>.html``,
else its results listed plainly: a new kind such as the roadmap adds its own template,
and the roadmap timeline and commitments have their place there), the ranking with its
method in one line, a block for signatures, and at the end the SHA-256 of the exported data
(the full-data JSON without its time and author, see docs/exports.md), so that a printed
acta can be matched to its data.

WeasyPrint needs Pango (a system library): without it, ``PdfUnavailable`` and the page
says so; every other export still works.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from pathlib import Path

from jinja2 import TemplateNotFound
from markupsafe import Markup
from sqlmodel import Session, col, select

from server import ROOT
from server.activities.kinds import KINDS
from server.exports import charts
from server.exports.gather import Export, Scope, attendance_counts, gather
from server.exports.portable import canonical_chunks, lazy_document
from server.i18n import Translator
from server.models import Participant, Segment, StakeholderGroup

# The CSS of the report lives beside its templates.
STYLE = ROOT / "templates" / "exports" / "report.css"


class PdfUnavailable(Exception):
    """WeasyPrint cannot run here (Pango missing)."""


def _weasyprint():
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: Pango not found
        raise PdfUnavailable(str(exc)) from exc
    return HTML


def available() -> bool:
    try:
        _weasyprint()
    except PdfUnavailable:
        return False
    return True


def data_hash(session: Session, state, scope: Scope) -> str:
    """SHA-256 of the full-data JSON without its time and author, keys sorted, compact:
    the same data gives the same hash whenever it is exported."""
    doc = lazy_document(session, scope, state.registry)
    doc.pop("exported_at", None)
    doc.pop("exported_by", None)
    digest = hashlib.sha256()
    for chunk in canonical_chunks(doc):  # streamed: a chain of a million answers too
        digest.update(chunk.encode())
    return digest.hexdigest()


def _attendance(session: Session, scope: Scope, locale: str) -> dict:
    """Participants by stakeholder group and segment (removed ones left out), and names."""
    ids = [w.id for w in scope.workshops]
    groups = {g.id: g.name(locale) for g in session.exec(select(StakeholderGroup).order_by(StakeholderGroup.position))}
    segments = list(
        session.exec(select(Segment).where(Segment.value_chain_id == scope.chain.id).order_by(Segment.position))
    )
    people = list(
        session.exec(
            select(Participant)
            .where(col(Participant.workshop_id).in_(ids), Participant.removed == False)  # noqa: E712
            .order_by(Participant.workshop_id, Participant.name, Participant.id)
        )
    )
    table: dict = defaultdict(lambda: defaultdict(int))
    for p in people:
        table[p.stakeholder_group_id][p.segment_id] += 1
    rows = [
        (groups.get(g, ""), [table[g][s.id] for s in segments], table[g][None], sum(table[g].values()))
        for g in sorted(table, key=lambda g: (g is None, list(groups).index(g) if g in groups else 0))
    ]
    names = [p for p in people if p.name] if scope.names else []
    return {
        "segments": [s.name for s in segments],
        "rows": rows,
        "total": len(people),
        "names": [(p.name, p.organization, groups.get(p.stakeholder_group_id, "")) for p in names],
    }


def report_context(session: Session, state, scope: Scope, export: Export, t: Translator) -> dict:
    sections = []
    for workshop, activity, ctx in export.activities:
        sections.append(
            {
                "workshop": workshop,
                "activity": activity,
                "kind_label": t.gettext(KINDS[activity.kind].label) if activity.kind in KINDS else activity.kind,
                "ctx": ctx,
                "results": ctx.results,
                "respondents": ctx.view.answered,
            }
        )
    counts = attendance_counts(session, [w.id for w in scope.workshops])
    return {
        "scope": scope,
        "chain": scope.chain,
        "workshops": scope.workshops,
        "counts": counts,
        "sections": sections,
        "attendance": _attendance(session, scope, t.locale),
        "k": export.min_group_size,
        "charts": charts,
        "hash": data_hash(session, state, scope),
        "report_template": _section_template(state.templates),
        "css": Markup(STYLE.read_text(encoding="utf-8")),  # our own file, not user text
    }


def _section_template(env):
    def pick(kind: str) -> str:
        name = f"exports/report/_{kind}.html"
        try:
            env.get_template(name)
        except TemplateNotFound:
            return "exports/report/_generic.html"
        return name

    return pick


def render_html(session: Session, state, scope: Scope) -> str:
    t = Translator(scope.locale)
    export = gather(session, state, scope)
    context = report_context(session, state, scope, export, t)
    template = state.templates.get_template("exports/report.html")
    return template.render(
        t=t, _=t.gettext, gettext=t.gettext, ngettext=t.ngettext, msg=t.message, locale=t.locale, **context
    )


def write_pdf(session: Session, state, scope: Scope, path: Path, tmp: Path | None = None) -> None:
    html_class = _weasyprint()
    html = render_html(session, state, scope)
    html_class(string=html, base_url=str(ROOT / "templates" / "exports")).write_pdf(str(path))
