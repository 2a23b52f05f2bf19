# One image for every Reverso process: `reverso api` (default), `reverso worker`, `reverso migrate`.
# Exact tag, so a rebuild next year starts from the same Python and Debian.
FROM python:3.11.10-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    REVERSO_STATE_DIR=/var/lib/reverso \
    REVERSO_API_HOST=0.0.0.0

# Numeric ids, so Kubernetes' runAsNonRoot can verify the user without reading /etc/passwd.
RUN groupadd --system --gid 10001 reverso \
    && useradd --system --uid 10001 --gid reverso --home-dir /var/lib/reverso --create-home \
       --shell /usr/sbin/nologin reverso

# The sources are listed one by one (they mirror pyproject's py-modules and packages) so that a
# developer's .venv, .git or .reverso state directory, with its secrets, never lands in the image.
WORKDIR /opt/reverso
COPY pyproject.toml cli.py worker.py settings.py devstack.py devpeers.py devpeers_stripe.py ./
COPY domain/ domain/
COPY workflows/ workflows/
COPY activities/ activities/
COPY api/ api/
COPY labels/ labels/
COPY db/ db/
COPY words/ words/
# Runtime dependencies only: the [test] extra (pytest, ruff, mypy, test servers) stays out.
RUN pip install . && rm -rf build ./*.egg-info

USER 10001:10001
WORKDIR /var/lib/reverso
EXPOSE 8000
CMD ["reverso", "api"]
