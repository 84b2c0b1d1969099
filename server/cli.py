"""The ``minka`` command: serve, demo data, database schema, facilitator accounts.

Settings come from the environment (``MINKA_*``), read when a command runs. Commands that
touch data bring the schema up to date first, as ``minka serve`` does. Errors from the
services are printed in English and end the command with exit status 1.
"""

from __future__ import annotations

import gc
import ipaddress
import logging
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session, select

from server import ROOT, migrate
from server.config import Settings
from server.db import Database, transaction
from server.errors import Invalid

app = typer.Typer(
    help="Minka: live participatory workshops for value-chain and cluster programmes.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="The database schema (Alembic migrations).", no_args_is_help=True)
user_app = typer.Typer(help="Facilitator and organizer accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")


def fail(message: str) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(1)


def fail_invalid(exc: Invalid) -> typer.Exit:
    for field, message in exc.errors.items():
        text = message.translate("en")
        typer.secho(text if field == "__all__" else f"{field}: {text}", err=True, fg=typer.colors.RED)
    return typer.Exit(1)


@contextmanager
def writing(settings: Settings, *, upgrade: bool = True) -> Iterator[Session]:
    """Upgrade the schema (unless told not to, or it is at the newest revision), then one
    transaction on the database."""
    if upgrade:
        migrate.upgrade_if_needed(settings)
    db = Database(settings)
    try:
        with transaction(db.writer) as session:
            yield session
    finally:
        db.dispose()


# Serving ---------------------------------------------------------------------------


# The largest websocket frame uvicorn reads: what a phone's largest message needs (the
# endpoint's own limit, MAX_MESSAGE in workshops/messages.py). A larger frame is refused (close
# code 1009) before it is read whole.
WS_MAX_BYTES = 4096


def uvicorn_options(settings: Settings, host: str, port: int, *, reload: bool = False) -> dict:
    """The keyword arguments ``minka serve`` gives ``uvicorn.run`` (and ``uvicorn.Config``)."""
    proxies = (settings.forwarded_allow_ips or "").strip()
    return {
        "app": "server.app:create_app",
        "factory": True,
        "host": host,
        "port": port,
        "reload": reload,
        "reload_dirs": [str(ROOT / "server")] if reload else None,
        # X-Forwarded-For/-Proto are believed only from the proxies named in
        # MINKA_FORWARDED_ALLOW_IPS; by default from no one (uvicorn's own default trusts
        # 127.0.0.1, so anyone behind a local proxy could pick their address for rate limits).
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or None,
        # One websocket per phone: without compression each costs ~31 KiB instead of ~3x that.
        "ws": "websockets-sansio",
        "ws_per_message_deflate": False,
        "ws_max_size": WS_MAX_BYTES,
        # A line per request costs a twentieth of a small request's time; off unless asked.
        "access_log": settings.access_log,
    }


class WebsocketHandshakeLines(logging.Filter):
    """Drops the lines written for each websocket handshake: uvicorn's
    (``127.0.0.1:5123 - "WebSocket /ws/p/1" [accepted]``, an access line, kept only with
    the access log) and the websocket protocol's "connection open", which uvicorn has it
    write to the same log. A hall of 5,000 phones wrote 10,000 of them, and as many again
    after each reconnection (a twentieth of the server's time while a hall came back after
    a restart)."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.msg
        return not (isinstance(msg, str) and (msg.startswith('%s - "WebSocket %s"') or msg == "connection open"))


def quiet_handshakes(settings: Settings) -> None:
    """Without the access log, no line per websocket handshake either (uvicorn's logging
    configuration keeps a logger's filters)."""
    error_log = logging.getLogger("uvicorn.error")
    if not settings.access_log and not any(isinstance(f, WebsocketHandshakeLines) for f in error_log.filters):
        error_log.addFilter(WebsocketHandshakeLines())


def _every_interface(host: str) -> bool:
    """0.0.0.0, :: or nothing: listening on every interface."""
    try:
        return not host or ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on; 0.0.0.0 for every interface.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    reload: Annotated[bool, typer.Option(help="Restart when the code changes (development only).")] = False,
) -> None:
    """Upgrade the database schema, then serve Minka (uvicorn, one process)."""
    import uvicorn

    from server.auth.service import demo_password_unchanged
    from server.defaults import ensure_reference_lists
    from server.demo_data import DEMO_EMAIL, DEMO_PASSWORD

    settings = Settings()
    with writing(settings) as session:
        ensure_reference_lists(session)

    # The demo account still has its published password: say so (server.demo, with its
    # loaders, is not imported: a restart serves again sooner). Checking the password is
    # ~0.2 s of argon2, which lets go of the GIL: it runs, on a read of its own (no write
    # lock held meanwhile), while the app is imported here (uvicorn then finds it loaded).
    def demo_exposed() -> bool:
        db = Database(settings)
        try:
            with Session(db.reader) as reading:
                return demo_password_unchanged(reading)
        finally:
            db.dispose()

    with ThreadPoolExecutor(1) as pool:
        checking = pool.submit(demo_exposed)
        import server.app  # noqa: F401

        login = (DEMO_EMAIL, DEMO_PASSWORD) if checking.result() else None
    shown = "127.0.0.1" if _every_interface(host) else host
    shown = f"[{shown}]" if ":" in shown else shown
    typer.echo(f"Minka: {settings.base_url or f'http://{shown}:{port}/'}")
    if login:
        typer.echo("Demo login: {} / {}".format(*login))
        typer.secho(
            "WARNING: the demo account still has its published password; anyone can log in with it. "
            f"Change it (minka user passwd {login[0]}) or deactivate it before real use.",
            err=True,
            fg=typer.colors.RED,
            bold=True,
        )
    # The writer and hub threads share the GIL with the event loop; a shorter switch
    # interval (default 5 ms) keeps a batch of writes from holding up acknowledgements.
    sys.setswitchinterval(0.001)
    # With thousands of websockets, Python's full garbage collections took 100–330 ms each
    # and stalled every phone; collect less often (measured in bench/: p99 461 -> 178 ms).
    gc.set_threshold(100_000, 50, 1_000)
    quiet_handshakes(settings)
    uvicorn.run(**uvicorn_options(settings, host, port, reload=reload))


@app.command()
def demo() -> None:
    """Load the demo data: a facilitator, three value chains, four workshops. Safe to repeat."""
    from server.demo import load_demo

    with writing(Settings()) as session:
        result = load_demo(session)
    if result.created:
        typer.echo("Created: " + ", ".join(f"{what.replace('_', ' ')} {n}" for what, n in result.created.items()))
    else:
        typer.echo("The demo data is already loaded; nothing new was created.")
    if result.demoted:
        typer.echo("The demo account was an administrator with a published password; it is now a plain facilitator.")
    typer.echo("Demo login: {} / {}".format(*result.login))
    typer.echo("It is a plain facilitator with a published password: change it before real use.")


# Database ----------------------------------------------------------------------------


def _describe(revisions: tuple[str, ...]) -> str:
    if not revisions:
        return "empty (no schema yet)"
    heads = set(migrate.heads())
    return ", ".join(f"{rev} (head)" if rev in heads else rev for rev in revisions)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Upgrade the schema (to the newest revision by default). Keeps the data; back up first."""
    from alembic.util.exc import CommandError

    settings = Settings()
    try:
        migrate.upgrade(settings, revision)
    except CommandError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"Database at {_describe(migrate.current(settings))}.")


@db_app.command("current")
def db_current() -> None:
    """Show the revision the database is at."""
    settings = Settings()
    typer.echo(_describe(migrate.current(settings)))
    if not migrate.is_current(settings):
        typer.echo("Not up to date: run `minka db upgrade`.")


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Option("--message", "-m", help="What the revision changes.")],
    autogenerate: Annotated[
        bool,
        typer.Option(
            "--autogenerate/--empty", help="Compare the models with the database, or write an empty revision."
        ),
    ] = True,
) -> None:
    """For developers: write a new revision in migrations/versions.

    The database must be at head (`minka db upgrade`). Review the file before committing it.
    """
    from alembic.util.exc import CommandError

    try:
        script = migrate.revision(Settings(), message, autogenerate=autogenerate)
    except CommandError as exc:
        raise fail(f"{exc}\nRun `minka db upgrade` first.") from None
    if script is not None:
        typer.echo(f"Wrote {script.path}")


@db_app.command("check")
def db_check() -> None:
    """Check that the models and the revisions agree.

    The database must be at head. Exits with status 1 when a new revision is needed.
    """
    from alembic.util.exc import AutogenerateDiffsDetected, CommandError

    try:
        migrate.check(Settings())
    except AutogenerateDiffsDetected as exc:
        raise fail(f"{exc}\nWrite a revision: minka db revision -m '...'") from None
    except CommandError as exc:
        raise fail(f"{exc}\nRun `minka db upgrade` first.") from None


# Accounts ----------------------------------------------------------------------------


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Argument(help="E-mail address; the login.")],
    name: Annotated[str, typer.Option(help="Full name, as other facilitators see it.")],
    admin: Annotated[bool, typer.Option("--admin", help="May manage accounts and reference lists.")] = False,
    password: Annotated[str | None, typer.Option(help="The password, for scripts; asked twice when left out.")] = None,
) -> None:
    """Create a facilitator account."""
    from server.auth.service import do_create_user

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with writing(Settings()) as session:
            user = do_create_user(session, {"email": email, "name": name, "password": password}, is_admin=admin)
    except Invalid as exc:
        raise fail_invalid(exc) from None
    typer.echo(f"Created {'admin' if user.is_admin else 'facilitator'} {user.email}.")


@user_app.command("passwd")
def user_passwd(
    email: Annotated[str, typer.Argument(help="E-mail address of the account.")],
) -> None:
    """Set an account's password (asked twice). Logs the account out everywhere."""
    from server.auth.service import do_set_password, normalize_email
    from server.models import User

    settings = Settings()
    query = select(User).where(User.email == normalize_email(email))
    with writing(settings) as session:
        known = session.exec(query).first() is not None
    if not known:
        raise fail(f"No account has the e-mail {email}.")
    # Asked outside any transaction: no database lock is held while someone types.
    password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        with writing(settings, upgrade=False) as session:
            user = session.exec(query).first()
            if user is None:
                raise fail(f"No account has the e-mail {email}.")
            do_set_password(session, user, password)
    except Invalid as exc:
        raise fail_invalid(exc) from None
    typer.echo(f"Password changed for {user.email}.")


# Imports -----------------------------------------------------------------------------


@app.command("import")
def import_export(
    file: Annotated[Path, typer.Argument(help="A full-data JSON export (from a workshop's or chain's page).")],
    owner: Annotated[str, typer.Option(help="E-mail of the account that will own the imported chain.")],
) -> None:
    """Import a workshop or chain exported as full data (JSON) from another installation,
    as a new value chain. All or nothing."""
    import json

    from server.app import make_registry
    from server.auth.service import normalize_email
    from server.exports.importer import MAX_BYTES, do_import
    from server.models import User

    if not file.is_file() or file.stat().st_size > MAX_BYTES:
        raise fail(f"{file}: not a file, or larger than {MAX_BYTES // 2**20} MB.")
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise fail(f"{file}: not JSON ({exc}).") from None
    try:
        with writing(Settings()) as session:
            user = session.exec(select(User).where(User.email == normalize_email(owner))).first()
            if user is None:
                raise fail(f"No account has the e-mail {owner}.")
            chain = do_import(session, user, doc, make_registry())
            name, chain_id = chain.name, chain.id
    except Invalid as exc:
        raise fail_invalid(exc) from None
    typer.echo(f"Imported value chain {name!r} (id {chain_id}), owned by {owner}.")
