"""Settings, read from environment variables with the prefix ``MINKA_``.

Settings are read in :func:`server.app.create_app` (and the CLI), never at import time.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The name of the file that keeps the secret, not a secret (bandit B105).
SECRET_FILE = ".minka-secret"  # nosec B105


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MINKA_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///minka.db",
        description="SQLAlchemy URL. SQLite file in the working directory by default; "
        "postgresql+psycopg://user@host/db for PostgreSQL.",
    )
    redis_url: str | None = Field(
        default=None, description="redis://host:6379/0 to share live events between processes."
    )
    secret_key: str | None = Field(
        default=None,
        description="Signs tokens. When unset, one is generated on first run and kept in DATA_DIR/.minka-secret.",
    )
    data_dir: Path = Field(default=Path("."), description="Where the secret file is kept.")
    base_url: str | None = Field(
        default=None,
        description="Public address (https://minka.example.org) used in join links and QR "
        "codes; derived from the request when unset.",
    )
    default_locale: str = Field(default="es", description="Language when the browser asks none we have.")
    session_days: int = Field(default=14, description="Facilitator login lifetime, in days.")
    login_attempts_per_minute: int = Field(
        default=10, description="Login attempts allowed per address and per account each minute."
    )
    cookie_secure: bool | None = Field(
        default=None,
        description="Force the Secure flag on cookies; by default set when served over HTTPS.",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host names this server answers to (JSON list, '*.example.org' allowed); "
        "a request with another Host header gets 400. Empty: any.",
    )
    trusted_hosts: list[str] = Field(
        default_factory=list,
        description="Extra Origin hosts accepted for form posts and websockets (behind a proxy).",
    )
    forwarded_allow_ips: str | None = Field(
        default=None,
        description="Proxy addresses (comma-separated, or *) whose X-Forwarded-For/-Proto headers "
        "minka serve believes; unset: none (proxy headers off).",
    )
    broadcast_interval: float = Field(
        default=0.25, description="Seconds between two live updates of results on screens and phones."
    )
    phone_results_interval: float = Field(
        default=0.5, description="Seconds between two live updates of revealed results on phones."
    )
    phone_refresh_seconds: int = Field(
        default=15,
        ge=5,
        description="Without JavaScript, how often a phone's page reloads itself while it waits (no activity "
        "open, an activity closed, nothing left to answer); never while it shows a form.",
    )
    joins_per_minute: int = Field(
        default=1200,
        description="Joins accepted from one address each minute (a hall behind one Wi-Fi shares an "
        "address: 1,200 a minute lets 500 phones in within 25 s).",
    )
    participants_per_address: int = Field(
        default=2000,
        description="Participants one address may create in one workshop in a day; raise it for a "
        "larger hall behind one NAT.",
    )
    wrong_codes_per_minute: int = Field(
        default=20,
        description="Wrong join codes one address may try each minute, whichever way they come; "
        "then every code from that address is refused until the minute ends.",
    )
    access_log: bool = Field(
        default=False, description="Log a line per request (minka serve); errors are always logged."
    )
    participant_posts_in_flight: int = Field(
        default=32,
        description="Phones' posts (joins, answers sent without the websocket) worked on at once; "
        "the others wait their turn before they are read.",
        ge=1,
    )
    phone_connections_per_second: float = Field(
        default=1000,
        ge=0,
        description="New phone websockets each process lets in per second; the others are told to try "
        "again a moment later (close code 1013), so that a hall reconnecting after a restart comes in "
        "without stalling those already in. 0: no limit.",
    )
    phone_connections_in_flight: int = Field(
        default=512,
        ge=0,
        description="Phones each process has let in but not yet served their first screen; while "
        "that many wait, newcomers are told to try again a moment later (the door opens as fast as "
        "the process serves). 0: no limit.",
    )
    phone_connections_waiting: int = Field(
        default=5000,
        ge=0,
        description="Phones each process keeps waiting in line, their handshake held, while the door "
        "is shut (the two settings above); they are let in first come, first served, as those in the "
        "doorway are served. Beyond that many, or after 15 s in line, a phone is told to try again "
        "later (1013). 0: no line.",
    )
    participant_writes_per_second: int = Field(
        default=20, description="Answers one participant may send each second (websocket and form posts alike)."
    )
    screen_recheck_interval: float = Field(
        default=60.0,
        description="Seconds between two checks that an open console or projector may still watch "
        "(an expired login); logout, unsharing and deactivation close it at once. 0: never.",
    )
    export_wait_seconds: float = Field(
        default=2.0,
        ge=0,
        description="How long a download from a workshop's or chain's page waits for its export before it "
        "shows the export's progress instead (a small export is handed out at once).",
    )
    min_group_size: int = Field(
        default=5,
        ge=1,
        description="No figure resting on fewer answers is shown, in any view or the JSON API "
        "(a workshop may raise it).",
    )

    def resolved_secret_key(self) -> str:
        """The configured secret, or the one kept in the data directory (made on first run)."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / SECRET_FILE
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
