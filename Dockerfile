# Minka: one container serving the web app on port 8000.
#   docker build -t minka .
#   docker run -p 8000:8000 -v minka-data:/data minka
# With no MINKA_DATABASE_URL it keeps a SQLite database (and the generated secret
# key) in the /data volume. See compose.yaml for PostgreSQL + Redis.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MINKA_DATA_DIR=/data \
    MINKA_DATABASE_URL=sqlite:////data/minka.db

RUN groupadd --system minka \
    && useradd --system --gid minka --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin minka \
    && mkdir /data \
    && chown minka:minka /data

# The code stays owned by root: the app user can read it but not change it.
# The app finds templates/, static/ and migrations/ next to server/, hence the
# editable install.
# Pango (and its fonts) for WeasyPrint's PDF reports (exports); without it every other
# export works and the PDF link says why it cannot.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY . /app
# The versions are the pinned set the tests ran with (requirements.lock, see scripts/lock).
RUN pip install --no-cache-dir --root-user-action=ignore -c requirements.lock -e . \
    && python -m compileall -q server migrations
# (Compiled once here: the app user may not write next to the code, and without these
# every start would compile the whole of server/ again before serving.)

VOLUME ["/data"]
USER minka
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# `minka serve` upgrades the database schema, then starts uvicorn.
CMD ["minka", "serve", "--host", "0.0.0.0", "--port", "8000"]
