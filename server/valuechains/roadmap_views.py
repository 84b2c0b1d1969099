"""What the roadmap page's routes share (``roadmap_routes.py``): the templates' common
context, rendering the item page and the forms again (with errors, or a conflict), the
addresses routes redirect to, and reading a form's flags.
"""

from __future__ import annotations

import secrets

from fastapi import Request
from fastapi.responses import Response

from server.activities.roadmap import reading
from server.activities.roadmap.fields import (
    FIELD_LABELS,
    HORIZON_LABELS,
    HORIZONS,
    ITEM_FIELDS,
    ROLE_LABELS,
    ROLES,
    ROW_KINDS,
    STATUS_LABELS,
    STATUSES,
)
from server.errors import Invalid, NotFound
from server.i18n import N_, Message
from server.valuechains import roadmap_pages as pages
from server.web import render


def new_key() -> str:
    """The idempotency key of a form, made when the form is shown."""
    return secrets.token_urlsafe(16)


def common(request: Request, session, chain) -> dict:
    """What every roadmap template needs: the vocabulary and ``show(name, value)``."""
    t = request.state.translator
    phase_list = pages.phases(session)
    names = pages.phase_names(phase_list, t.locale)
    return {
        "chain": chain,
        "phases": phase_list,
        "phase_name": names,
        "show": lambda name, value: pages.display(t, name, value, names),
        "label": lambda name: pages.field_label(t, name),
        "horizons": [(h, t.gettext(HORIZON_LABELS[h])) for h in HORIZONS],
        "statuses": [(s, t.gettext(STATUS_LABELS[s])) for s in STATUSES],
        "roles": [(r, t.gettext(ROLE_LABELS[r])) for r in ROLES],
        "item_fields": ITEM_FIELDS,
        "row_kinds": ROW_KINDS,
        "field_labels": FIELD_LABELS,
        "new_key": new_key,
        "when": lambda iso: pages.when_text(iso, t.locale),
    }


def under(key: str, exc: Invalid) -> dict:
    """A form's error shown beside that form (``key``) on a page of several forms."""
    return {key: next(iter(exc.errors.values()))}


def item_url(request: Request, chain_id: int, item_id: int, anchor: str = "", **query) -> str:
    url = request.url_for("roadmap_item", chain_id=chain_id, rm_item_id=item_id)
    if query:
        url = url.include_query_params(**query)
    return str(url) + (f"#{anchor}" if anchor else "")


def new_form(request, session, chain, *, form=None, errors=None, status_code=200) -> Response:
    ctx = common(request, session, chain)
    lines = pages.library_of(session, chain.id).lines
    ctx.update(
        lines=[line for line in lines.values() if not line.archived],
        funding_sources=pages.funding_sources(session),
        form=form or {"status": "proposed", "progress": "0", "key": new_key()},
        errors=errors or {},
    )
    return render(request, "roadmap/new_item.html", ctx, status_code=status_code)


def item_page(request, session, chain, item, *, errors=None, form=None, status_code=200) -> Response:
    ctx = common(request, session, chain)
    view = reading.item_view(session, item.id, hidden_comments=True)
    library = pages.library_of(session, chain.id)
    t = request.state.translator
    ctx.update(
        view=view,
        history_rows=pages.history_rows(t, reading.history(session, item.id), library, ctx["phase_name"]),
        library=library,
        workshops=pages.workshops_by_item(session, [item.id])[item.id],
        saved=request.query_params.get("saved", ""),
        errors=errors or {},
        form=form or {},
    )
    return render(request, "roadmap/item.html", ctx, status_code=status_code)


def field_name_of(field_name: str) -> str:
    if field_name not in ITEM_FIELDS:
        raise NotFound()
    return field_name


def field_form(request, session, chain, item, name, *, form, base, conflict=None, errors=None, status_code=200):
    ctx = common(request, session, chain)
    ctx.update(
        view=reading.item_view(session, item.id),
        name=name,
        form={**form, "key": new_key()},
        base=base,
        conflict=conflict,
        errors=errors or {},
        funding_sources=pages.funding_sources(session),
    )
    return render(request, "roadmap/field.html", ctx, status_code=status_code)


def row_kind_of(row_kind: str) -> str:
    if row_kind not in ROW_KINDS:
        raise NotFound()
    return row_kind


def flag(data: dict, name: str) -> bool:
    value = data.get(name)
    if value not in ("1", "0"):
        raise Invalid({"__all__": Message(N_("Choose one of the options."))})
    return value == "1"
