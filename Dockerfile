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
 && useradd --system --uid 1000 --home /app iea \
 && mkdir -p /data/private /data/static /data/backups && chown -R iea /data

USER iea
EXPOSE 8000
CMD ["gunicorn", "--config", "python:iea.gunicorn", "iea.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2"]
