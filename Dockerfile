# logbot container image.
#
#   docker build -t logbot .
#   docker run -d --name logbot \
#       -v "$PWD/config.yaml:/config/config.yaml:ro" \
#       -v logbot-logs:/logs -v logbot-data:/data \
#       logbot
#
# Layout of the runtime image:
#   /config   the config, mounted read-only (LOGBOT_CONFIG=/config/config.yaml);
#             relative paths in it (password_file, plugin_dirs, ...) start there
#   /logs     the channel logs (a volume)
#   /data     the plugins' stores, e.g. !seen (a volume)
#   /         the working directory: the sample config's relative "root: logs" and
#             "data_dir: data" resolve to /logs and /data, so it works unchanged
#   /opt/logbot  the virtualenv holding logbot, its dependencies and (under
#             share/logbot/plugins) the bundled plugins
# The bot runs as uid/gid 10001, not root: a mounted /logs or /data must be writable
# by that uid. It stops cleanly on SIGTERM (docker stop): QUIT on every network, logs
# flushed and closed, exit 0. logbot is PID 1 and reaps only the children it started
# (exec plugins); if an exec plugin leaves orphans behind, run with --init.

# --- stage 1: build the wheel -------------------------------------------------------
FROM python:3.12-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
# Only what the wheel is made of (see .dockerignore): the package, the bundled
# plugins (installed as data files), the README (the package's long description) and
# config.yaml (logbot/cli/sample-config.yaml, the sample `logbot init` fills in, links
# to it).
COPY pyproject.toml README.md config.yaml ./
COPY logbot/ logbot/
COPY plugins/ plugins/
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# --- stage 2: the runtime image -----------------------------------------------------
FROM python:3.12-slim-bookworm

LABEL org.opencontainers.image.title="logbot" \
      org.opencontainers.image.description="An IRC logging bot on its own reactor" \
      org.opencontainers.image.licenses="MIT"

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/logbot \
    PATH=/opt/logbot/bin:$PATH \
    LOGBOT_CONFIG=/config/config.yaml \
    LOGBOT_HEALTH_HOST=0.0.0.0 \
    LOGBOT_HEALTH_PORT=9102

# A fixed uid/gid, so that volume permissions can be prepared on the host.
# --no-log-init: no sparse /var/log/lastlog entry sized by the high uid.
RUN groupadd --gid 10001 logbot \
    && useradd --uid 10001 --gid 10001 --no-log-init --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin logbot \
    && mkdir -p /config /logs /data \
    && chown 10001:10001 /logs /data

# libpq, the PostgreSQL client library psycopg (the "postgres" extra: archive.store:
# postgres) talks through; Debian's, so that it gets Debian's security updates.
RUN apt-get update \
    && apt-get install -y --no-install-recommends "libpq5=15.*" \
    && rm -rf /var/lib/apt/lists/*

# A virtualenv keeps logbot apart from the base image's Python and puts the bundled
# plugins where the loader looks for them (sys.prefix/share/logbot/plugins). It has
# no pip of its own: the base image's pip installs into it (--python). The wheel
# comes from stage 1 through a bind mount, so it leaves no layer behind; its
# dependencies (pyyaml, click, cryptography for the "ecdsa" extra: SASL
# ECDSA-NIST256P-CHALLENGE, and psycopg for the "postgres" extra) come from the
# package index.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python -m venv --without-pip /opt/logbot \
    && pip --python /opt/logbot/bin/python install --no-cache-dir \
        "$(echo /wheels/logbot-*.whl)[ecdsa,postgres]" \
    && logbot version \
    && /opt/logbot/bin/python -c "import psycopg; print('psycopg', psycopg.__version__)"

WORKDIR /
VOLUME ["/logs", "/data"]
USER 10001:10001

# The health endpoint (logbot run --health-port, from LOGBOT_HEALTH_HOST/PORT) and
# the probe that asks it (logbot health: exit 0 healthy, 1 not).
EXPOSE 9102
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["logbot", "health"]

# Exec form: logbot is PID 1 and gets the SIGTERM of "docker stop" itself.
STOPSIGNAL SIGTERM
ENTRYPOINT ["logbot"]
CMD ["run", "-c", "/config/config.yaml"]
