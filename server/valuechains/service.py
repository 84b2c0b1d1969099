"""Value chains, their segments and who they are shared with.

``access_*`` loads and authorizes (raising NotFound for what the user may not see),
``check_*`` validates, ``do_*`` writes. Nothing here commits.
"""

from __future__ import annotations

import re

from sqlmodel import Session, col, or_, select

from server.auth.service import normalize_email, recheck_screens
from server.db import current, lock
from server.errors import Conflict, Forbidden, Invalid, NotFound, clean_text
from server.i18n import N_, Message
from server.models import Participant, Segment, User, ValueChain, ValueChainShare
from server.ordering import moved, renumber

MAX_SEGMENTS = 30


def visible_chains(session: Session, user: User) -> list[ValueChain]:
    query = select(ValueChain).order_by(ValueChain.name)
    if not user.is_admin:
        shared = select(ValueChainShare.value_chain_id).where(ValueChainShare.user_id == user.id)
        query = query.where(or_(ValueChain.owner_id == user.id, col(ValueChain.id).in_(shared)))
    return list(session.exec(query))


def can_access(session: Session, user: User, chain: ValueChain) -> bool:
    if user.is_admin or chain.owner_id == user.id:
        return True
    return session.get(ValueChainShare, (chain.id, user.id)) is not None


def access_chain(session: Session, user: User, chain_id: int) -> ValueChain:
    """The chain, if the user owns it, it is shared with them, or they are an admin."""
    chain = session.get(ValueChain, chain_id)
    if chain is None or not can_access(session, user, chain):
        raise NotFound()
    return chain


def access_chain_owner(session: Session, user: User, chain_id: int) -> ValueChain:
    """The chain, for what only its owner (or an admin) may do: sharing it."""
    chain = access_chain(session, user, chain_id)
    if not (user.is_admin or chain.owner_id == user.id):
        raise Forbidden()
    return chain


def split_lines(text: str, *, commas: bool = False) -> list[str]:
    parts = re.split(r"[\n,;]" if commas else r"\n", text or "")
    return [p.strip() for p in parts if p.strip()]


def check_chain(data: dict) -> dict:
    errors: dict = {}
    clean = {
        "name": clean_text(data, "name", errors),
        "product": clean_text(data, "product", errors, required=False),
        "description": clean_text(data, "description", errors, required=False, max_length=4000),
    }
    regions = split_lines(str(data.get("regions") or ""), commas=True)
    if len(regions) > 30 or any(len(r) > 120 for r in regions):
        errors["regions"] = Message(N_("Up to 30 regions of at most 120 characters each."))
    clean["regions"] = list(dict.fromkeys(regions))
    segments = split_lines(str(data.get("segments") or ""))
    if len(segments) > MAX_SEGMENTS or any(len(s) > 200 for s in segments):
        errors["segments"] = Message(N_("Up to %(n)s segments of at most 200 characters each."), n=MAX_SEGMENTS)
    clean["segments"] = segments
    if errors:
        raise Invalid(errors)
    return clean


def do_create_chain(session: Session, owner: User, data: dict) -> ValueChain:
    clean = check_chain(data)
    chain = ValueChain(
        name=clean["name"],
        product=clean["product"],
        regions=clean["regions"],
        description=clean["description"],
        owner_id=owner.id,
    )
    session.add(chain)
    session.flush()
    for position, name in enumerate(clean["segments"]):
        session.add(Segment(value_chain_id=chain.id, name=name, position=position))
    session.flush()
    return chain


def do_update_chain(session: Session, chain: ValueChain, data: dict) -> ValueChain:
    clean = check_chain(data)
    chain.name, chain.product = clean["name"], clean["product"]
    chain.regions, chain.description = clean["regions"], clean["description"]
    session.add(chain)
    session.flush()
    return chain


# Segments --------------------------------------------------------------------------


def segments_of(session: Session, chain: ValueChain) -> list[Segment]:
    """The segments as they are now (rows loaded earlier are refreshed: see ``db.lock``)."""
    query = select(Segment).where(Segment.value_chain_id == chain.id).execution_options(populate_existing=True)
    return list(session.exec(query.order_by(Segment.position, Segment.id)))


def _still(session: Session, chain: ValueChain, segment: Segment) -> Segment:
    """Lock the chain's segments; the segment as it is now, unless removed meanwhile."""
    lock(session, chain)
    now = current(session, segment)
    if now is None:
        raise Conflict()
    return now


def access_segment(session: Session, chain: ValueChain, segment_id: int) -> Segment:
    segment = session.get(Segment, segment_id)
    if segment is None or segment.value_chain_id != chain.id:
        raise NotFound()
    return segment


def check_segment_name(session: Session, chain: ValueChain, data: dict, *, exclude: int | None = None) -> str:
    errors: dict = {}
    name = clean_text(data, "name", errors)
    if not errors:
        same = [s for s in segments_of(session, chain) if s.name.lower() == name.lower() and s.id != exclude]
        if same:
            errors["name"] = Message(N_("The chain already has a segment with this name."))
    if errors:
        raise Invalid(errors)
    return name


def do_add_segment(session: Session, chain: ValueChain, data: dict) -> Segment:
    lock(session, chain)
    name = check_segment_name(session, chain, data)
    existing = segments_of(session, chain)
    if len(existing) >= MAX_SEGMENTS:
        raise Invalid({"name": Message(N_("A chain has at most %(n)s segments."), n=MAX_SEGMENTS)})
    segment = Segment(value_chain_id=chain.id, name=name, position=len(existing))
    session.add(segment)
    session.flush()
    return segment


def do_rename_segment(session: Session, chain: ValueChain, segment: Segment, data: dict) -> Segment:
    segment = _still(session, chain, segment)
    segment.name = check_segment_name(session, chain, data, exclude=segment.id)
    session.add(segment)
    session.flush()
    return segment


def do_move_segment(session: Session, chain: ValueChain, segment: Segment, delta: int) -> None:
    segment = _still(session, chain, segment)
    order = moved(segments_of(session, chain), segment.id, delta)
    renumber(order)
    session.add_all(order)
    session.flush()


def segment_in_use(session: Session, segment: Segment) -> bool:
    used = select(Participant.id).where(Participant.segment_id == segment.id).limit(1)
    return session.exec(used).first() is not None


def do_remove_segment(session: Session, chain: ValueChain, segment: Segment) -> None:
    """Remove a segment no participant has chosen; one in use is kept, with a message."""
    segment = _still(session, chain, segment)
    if segment_in_use(session, segment):
        raise Invalid({"segment": Message(N_("Participants chose this segment; it cannot be removed."))})
    session.delete(segment)
    session.flush()
    renumber(segments_of(session, chain))
    session.flush()


# Sharing ---------------------------------------------------------------------------


def shares_of(session: Session, chain: ValueChain) -> list[User]:
    query = select(User).join(ValueChainShare, col(ValueChainShare.user_id) == User.id)
    return list(session.exec(query.where(ValueChainShare.value_chain_id == chain.id).order_by(User.name)))


def do_share(session: Session, chain: ValueChain, data: dict) -> User:
    errors: dict = {}
    email = normalize_email(clean_text(data, "email", errors, max_length=254))
    if errors:
        raise Invalid(errors)
    user = session.exec(select(User).where(User.email == email, User.is_active == True)).first()  # noqa: E712
    if user is None:
        raise Invalid({"email": Message(N_("No active account has this e-mail."))})
    if user.id == chain.owner_id:
        raise Invalid({"email": Message(N_("This facilitator owns the chain already."))})
    if session.get(ValueChainShare, (chain.id, user.id)) is None:
        session.add(ValueChainShare(value_chain_id=chain.id, user_id=user.id))
        session.flush()
    return user


def do_unshare(session: Session, chain: ValueChain, user_id: int) -> None:
    share = session.get(ValueChainShare, (chain.id, user_id))
    if share is None:
        raise NotFound()
    session.delete(share)
    session.flush()
    recheck_screens(session, user_id)  # their open console or projector of this chain closes
