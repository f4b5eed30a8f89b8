# RIO's image: the API (`rio serve`), the alert scheduler and the read-model follower all run
# from it; compose.yaml starts one of each on PostgreSQL. Only the package and its runtime
# dependencies are installed: no development tools, no tests.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# libpq: psycopg's pure-Python build talks to PostgreSQL through it.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY pyproject.toml README.md ./
COPY rio ./rio
RUN pip install . && rm -rf /src

# The scenario files, to load a demo store from inside a container.
COPY scenarios /opt/rio/scenarios

# Never root: the process needs nothing but its port and, on SQLite, its data directory.
RUN useradd --system --uid 10001 --create-home --home-dir /home/rio rio \
    && mkdir -p /data && chown rio:rio /data
USER rio
WORKDIR /data

# JSON logs on stdout; the store is PostgreSQL in compose.yaml, SQLite in /data otherwise.
ENV RIO_LOG_FORMAT=json \
    RIO_DATABASE_URL=sqlite:////data/rio.db
EXPOSE 8000

# Ready, not merely alive: the store answers and the read model is caught up.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=4)"]

CMD ["rio", "serve", "--host", "0.0.0.0"]
