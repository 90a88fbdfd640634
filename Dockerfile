# The application image: web (gunicorn), Celery worker and beat, and the one-shot "migrate" share it.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=iea.settings

# WeasyPrint needs Pango and fonts; gettext compiles the translations; postgresql-client (15, like the
# compose file's PostgreSQL) gives pg_dump/pg_restore to `manage.py backup`/`restore`; curl the health checks.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
      fonts-liberation gettext curl postgresql-client \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
RUN pip install --no-cache-dir 'uv>=0.5,<1'
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-install-project --no-dev
COPY . .
RUN python manage.py compilemessages --ignore=.venv --verbosity 0 \
 && DEBUG=0 SECRET_KEY=build-only python manage.py collectstatic --noinput --verbosity 0 \
 && (getent group 101 >/dev/null || groupadd --system --gid 101 iea-files) \
 && useradd --system --uid 1000 --gid 101 --home /app iea \
 && deploy/data-folders.sh /data iea 101
# 101: the group of nginx's workers in the nginx image (docker-compose.yml). It is the app's own group, so
# every upload (0640, in folders 0750) is readable by nginx, which sends it after the app's check.

USER iea
EXPOSE 8000
CMD ["gunicorn", "--config", "python:iea.gunicorn", "iea.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2"]
