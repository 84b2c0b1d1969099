"""Full-fidelity JSON: export, import into an empty installation, export again: the same
content, ids aside. A bad document writes nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func
from sqlmodel import Session, select
from typer.testing import CliRunner

from server.app import make_registry
from server.auth.service import do_create_user
from server.cli import app as cli
from server.config import Settings
from server.db import Database
from server.errors import Invalid
from server.exports.gather import scope_of_chain
from server.exports.importer import do_import
from server.exports.portable import document
from server.migrate import upgrade
from server.models import GapAnswer, ValueChain
from tests.exports import world as export_world


def canonical(doc: dict) -> dict:
    """The document with every id replaced by its place in the document (and the export's
    time and author left out): two installations' exports of the same content are equal."""
    doc = json.loads(json.dumps(doc))
    number: dict[str, dict] = {}

    def renumber(kind: str, old):
        if old is None:
            return None
        table = number.setdefault(kind, {})
        return table.setdefault(old, len(table) + 1)

    for key in ("exported_at", "exported_by"):
        doc.pop(key)
    chain = doc["chain"]
    chain["id"] = 0
    for kind in ("segments", "gaps", "action_lines"):
        for entry in chain[kind]:
            entry["id"] = renumber(kind, entry["id"])
    for w in doc["workshops"]:
        w["id"] = renumber("workshops", w["id"])
        w.pop("created_at")
        for p in w["participants"]:
            p["id"] = renumber("participants", p["id"])
            p["segment"] = renumber("segments", p["segment"])
        for a in w["activities"]:
            a["id"] = renumber("activities", a["id"])
            library = "gaps" if a["kind"] == "gap_rating" else "action_lines"
            a["items"] = [renumber(library, i) for i in a["items"]]
            for row in a["answers"]:
                row["participant_id"] = renumber("participants", row["participant_id"])
                for field in ("gap_id", "item_a", "item_b"):
                    if row.get(field) is not None:
                        row[field] = renumber(library, row[field])
                if row.get("ranking"):
                    row["ranking"] = [renumber(library, i) for i in row["ranking"]]
                if row.get("segments"):
                    row["segments"] = [renumber("segments", s) for s in row["segments"]]
    _canonical_roadmap(doc.get("kinds", {}).get("roadmap"), renumber)
    return doc


def _canonical_roadmap(section, renumber) -> None:
    if section is None:
        return
    links = {"action_line": "action_lines", "gap": "gaps"}
    rows = ("partner", "milestone", "indicator")

    def people(entry: dict) -> None:
        entry["participant"] = renumber("participants", entry["participant"])
        if "activity" in entry:
            entry["activity"] = renumber("activities", entry["activity"])

    for item in section["items"]:
        item["id"] = renumber("roadmap_items", item["id"])
        for field, library in links.items():
            item[f"{field}s"] = [renumber(library, i) for i in item[f"{field}s"]]
        for kind in rows:
            for row in item[f"{kind}s_rows"]:
                row["id"] = renumber(kind, row["id"])
        for r in item["revisions"]:
            r["id"] = renumber("revisions", r["id"])
            r["restored_from"] = renumber("revisions", r["restored_from"])
            r["workshop"] = renumber("workshops", r["workshop"])
            if r["field"] in links:
                r["row_id"] = renumber(links[r["field"]], r["row_id"])
            elif r["field"] in rows:
                r["row_id"] = renumber(r["field"], r["row_id"])
            if r["field"] == "item" and (r["new"] or {}).get("action_lines"):
                r["new"]["action_lines"] = [renumber("action_lines", a) for a in r["new"]["action_lines"]]
            people(r)
        for c in item["commitments"]:
            c["id"] = renumber("commitments", c["id"])
            people(c)
            if c["withdrawal"]:
                people(c["withdrawal"])
        for entry in (*item["comments"], *item["supports"], *item["suggestions"]):
            people(entry)
    section["activity_items"] = {
        str(renumber("activities", int(a))): [renumber("roadmap_items", i) for i in items]
        for a, items in section["activity_items"].items()
    }


@pytest.fixture
def empty_installation(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'other.db'}", secret_key="y" * 40, _env_file=None)
    upgrade(settings)
    db = Database(settings)
    yield db
    db.dispose()


def test_export_import_export_gives_the_same_content(client_a, db, users, empty_installation):
    world = export_world.build(db, users)
    response = client_a.get(f"/chains/{world.chain.id}/export/json")
    assert response.status_code == 200
    first = response.json()
    assert first["format"] == "minka-export" and first["version"] == 2
    assert sum(len(a["answers"]) for w in first["workshops"] for a in w["activities"]) > 100
    registry = make_registry()
    with Session(empty_installation.writer, expire_on_commit=False) as session:
        owner = do_create_user(session, {"name": "Central", "email": "central@example.org", "password": "x" * 12})
        chain = do_import(session, owner, first, registry)
        session.commit()
        again = document(session, scope_of_chain(session, session.get(ValueChain, chain.id), owner, "es"), registry)
    assert canonical(again) == canonical(first)


def test_a_workshop_alone_round_trips_too(client_a, db, users, empty_installation):
    world = export_world.build(db, users)
    first = client_a.get(f"/workshops/{world.workshop.id}/export/json").json()
    assert [w["title"] for w in first["workshops"]] == [world.workshop.title]
    registry = make_registry()
    with Session(empty_installation.writer, expire_on_commit=False) as session:
        owner = do_create_user(session, {"name": "Central", "email": "central@example.org", "password": "x" * 12})
        chain = do_import(session, owner, first, registry)
        session.commit()
        again = document(session, scope_of_chain(session, session.get(ValueChain, chain.id), owner, "es"), registry)
    again["scope"] = "workshop"
    assert canonical(again) == canonical(first)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda d: d.update(version=99),
        lambda d: d.update(format="other"),
        lambda d: d["workshops"][0]["activities"][0]["answers"][0].update(participant_id=10**9),
        lambda d: d["workshops"][0]["activities"][0]["items"].append(10**9),
        lambda d: d["workshops"][0].update(date="yesterday"),
    ],
)
def test_a_bad_document_writes_nothing(client_a, db, users, empty_installation, spoil):
    world = export_world.build(db, users)
    doc = client_a.get(f"/workshops/{world.workshop.id}/export/json").json()
    spoil(doc)
    with Session(empty_installation.writer) as session:
        owner = do_create_user(session, {"name": "Central", "email": "central@example.org", "password": "x" * 12})
        session.commit()
        with pytest.raises(Invalid):
            do_import(session, owner, doc, make_registry())
        session.rollback()
        assert session.exec(select(func.count()).select_from(ValueChain)).one() == 0
        assert session.exec(select(func.count()).select_from(GapAnswer)).one() == 0


def test_minka_import_command(client_a, db, users, tmp_path, monkeypatch):
    world = export_world.build(db, users)
    path = tmp_path / "taller.json"
    path.write_bytes(client_a.get(f"/workshops/{world.workshop.id}/export/json").content)
    monkeypatch.setenv("MINKA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("MINKA_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    made = runner.invoke(cli, ["user", "create", "central@example.org", "--name", "Central", "--password", "x" * 12])
    assert made.exit_code == 0, made.output
    result = runner.invoke(cli, ["import", str(path), "--owner", "central@example.org"])
    assert result.exit_code == 0, result.output
    assert "Imported value chain" in result.output
    (tmp_path / "bad.json").write_text('{"format": "minka-export", "version": 7}')
    result = runner.invoke(cli, ["import", str(tmp_path / "bad.json"), "--owner", "central@example.org"])
    assert result.exit_code == 1


def _demo_roadmap(db, app):
    """The demo's coffee chain, its roadmap activities opened (items brought in), with a
    hidden comment, a +1 and a pending suggestion besides the demo's commitments (one
    withdrawn) and edits."""
    from server.activities.roadmap import items as roadmap_items
    from server.activities.roadmap import social
    from server.activities.roadmap.actors import as_facilitator
    from server.models import Activity, Participant, RoadmapComment, RoadmapSuggestion, RoadmapSupport, Workshop
    from tests.exports.test_roadmap_export import _demo

    user, coffee, activities = _demo(db, app)
    activity = activities[0]
    item = roadmap_items.items_of_activity(db, activity.id)[0]
    person = Participant(workshop_id=activity.workshop_id, token_hash="r" * 64, name="Rosa")
    db.add(person)
    db.flush()
    said = {"participant_id": person.id, "author": "Rosa", "activity_id": activity.id}
    db.add(RoadmapComment(item_id=item, text="Falta el presupuesto", **said))
    hidden = RoadmapComment(item_id=item, text="spam", **said)
    db.add(hidden)
    db.add(RoadmapSupport(item_id=item, participant_id=person.id))
    db.add(RoadmapSuggestion(item_id=item, change={"slot": "title", "base": 0, "value": "Otro título"}, **said))
    db.flush()
    assert social.hide_comment(db, as_facilitator(db, user, coffee.id, activity.id), hidden.id).kind == "done"
    db.commit()
    assert db.get(Workshop, activity.workshop_id) and db.get(Activity, activity.id)
    return user, coffee


def test_the_roadmap_round_trips_with_the_chain(db, app, empty_installation):
    from server.models import RoadmapCommitment, RoadmapItem, RoadmapRevision, RoadmapWithdrawal

    user, coffee = _demo_roadmap(db, app)
    registry = make_registry()
    first = document(db, scope_of_chain(db, coffee, user, "es"), registry)
    section = first["kinds"]["roadmap"]
    assert len(section["items"]) == 6 and section["activity_items"]
    every = [x for item in section["items"] for x in item["commitments"]]
    assert any(c["withdrawal"] for c in every) and any(not c["withdrawal"] for c in every)
    assert any(item["comments"] and item["supports"] and item["suggestions"] for item in section["items"])
    assert all(
        item["partners_rows"] and item["milestones_rows"] and item["indicators_rows"] for item in section["items"]
    )
    with Session(empty_installation.writer, expire_on_commit=False) as session:
        owner = do_create_user(session, {"name": "Central", "email": "central@example.org", "password": "x" * 12})
        chain = do_import(session, owner, json.loads(json.dumps(first)), registry)
        session.commit()
        again = document(session, scope_of_chain(session, session.get(ValueChain, chain.id), owner, "es"), registry)
        counts = [
            session.exec(select(func.count()).select_from(m)).one()
            for m in (RoadmapItem, RoadmapRevision, RoadmapCommitment, RoadmapWithdrawal)
        ]
    assert counts[0] == 6 and counts[1] > 6 and counts[3] == 1
    assert canonical(again) == canonical(first)


def test_a_workshop_with_a_roadmap_round_trips(db, app, empty_installation):
    from server.models import Activity

    user, _coffee = _demo_roadmap(db, app)
    workshop_id = db.exec(select(Activity.workshop_id).where(Activity.kind == "roadmap").order_by(Activity.id)).first()
    registry = make_registry()
    from server.exports.service import workshop_scope

    first = document(db, workshop_scope(db, user, workshop_id), registry)
    assert first["kinds"]["roadmap"]["items"]
    with Session(empty_installation.writer, expire_on_commit=False) as session:
        owner = do_create_user(session, {"name": "Central", "email": "central@example.org", "password": "x" * 12})
        chain = do_import(session, owner, json.loads(json.dumps(first)), registry)
        session.commit()
        again = document(session, scope_of_chain(session, session.get(ValueChain, chain.id), owner, "es"), registry)
    again["scope"] = "workshop"
    assert canonical(again) == canonical(first)


def test_a_roadmap_naming_what_the_document_lacks_writes_nothing(db, app, empty_installation):
    from server.models import RoadmapItem

    user, coffee = _demo_roadmap(db, app)
    doc = json.loads(json.dumps(document(db, scope_of_chain(db, coffee, user, "es"), make_registry())))
    doc["kinds"]["roadmap"]["items"][0]["action_lines"].append(10**9)
    with Session(empty_installation.writer) as session:
        owner = do_create_user(session, {"name": "Central", "email": "central@example.org", "password": "x" * 12})
        session.commit()
        with pytest.raises(Invalid):
            do_import(session, owner, doc, make_registry())
        session.rollback()
        assert session.exec(select(func.count()).select_from(RoadmapItem)).one() == 0
        assert session.exec(select(func.count()).select_from(ValueChain)).one() == 0
