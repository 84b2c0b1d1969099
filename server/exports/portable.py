"""Full-fidelity JSON (to come)."""


def write_json(session, scope, path):
    path.write_text("{}")
