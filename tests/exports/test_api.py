"""The JSON API (chains, workshops, results) is described by OpenAPI; a schemathesis run
against it, logged in as a facilitator, gets no server error and answers as described."""

from __future__ import annotations

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.auth.deps import SESSION_COOKIE
from tests.conftest import login
from tests.exports import world as export_world

PATHS = {
    "/api/chains",
    "/api/chains/{chain_id}",
    "/api/chains/{chain_id}/results",
    "/api/chains/{chain_id}/results/{activity_kind}/{item_id}",
    "/api/workshops/{workshop_id}",
    "/api/workshops/{workshop_id}/activities/{activity_id}/results",
}


def test_the_openapi_document_describes_every_api_route(client):
    document = client.get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == PATHS
    assert document["components"]["securitySchemes"]["session"]["name"] == SESSION_COOKIE


def test_chain_and_workshop_json(client_a, db, users):
    world = export_world.build(db, users)
    chain = client_a.get(f"/api/chains/{world.chain.id}").json()
    assert [w["title"] for w in chain["workshops"]] and chain["exports"]["xlsx"].endswith("/export/xlsx")
    workshop = client_a.get(f"/api/workshops/{world.workshop.id}").json()
    assert workshop["participants"] == len(world.participants)
    results = client_a.get(workshop["activities"][0]["results"]).json()
    assert results["activity"]["id"] == world.agenda[0].id
    assert client_a.get(f"/api/chains/{world.foreign.value_chain_id}").status_code == 404
    assert [c["name"] for c in client_a.get("/api/chains").json()] == [world.chain.name]


def test_schemathesis_finds_no_server_error(app, db, users):
    world = export_world.build(db, users)
    with TestClient(app) as browser:
        login(browser, users.a.email)
        cookies = {SESSION_COOKIE: browser.cookies[SESSION_COOKIE]}
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} == PATHS
    known = st.sampled_from([world.chain.id, world.workshop.id, world.agenda[0].id, world.agenda[2].id])
    failures = []

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data):
        operation = data.draw(st.sampled_from(operations))
        case = data.draw(operation.as_strategy())
        if case.path_parameters and data.draw(st.booleans()):  # ids that exist, half of the time
            case.path_parameters = {name: data.draw(known) for name in case.path_parameters}
        response = case.call(cookies=cookies)
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")
        elif response.status_code == 200:
            case.validate_response(response)

    run()
    assert failures == []
