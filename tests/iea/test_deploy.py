"""What can be checked of the container stack without a Docker engine: the compose file against the Compose
Specification's JSON schema, the settings each service runs with, the commands they start, and nginx's
configuration with Debian's nginx (``nginx -t``)."""

import datetime as dt
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[2]
NGINX = ROOT / "deploy" / "nginx"
# What an operator's .env holds (README, "Production").
DOT_ENV = {"SERVER_NAME": "iea.example.org", "SECRET_KEY": secrets.token_urlsafe(50), "POSTGRES_PASSWORD": "pw"}


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def interpolate(value: str, env: dict) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error}, as ``docker compose config`` resolves them."""
    def one(match):
        name, operator, word = match.group(1), match.group(2), match.group(3)
        if env.get(name):
            return env[name]
        if operator == ":-":
            return word
        if operator == ":?":
            raise KeyError(f"{name}: {word}")
        return ""

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, value)


def service_environment(service: str, env: dict | None = None) -> dict[str, str]:
    env = DOT_ENV if env is None else env
    values = compose()["services"][service].get("environment", {})
    return {key: interpolate(str(value), env) for key, value in values.items()}


def run(args, env):
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    full_env.update(env)
    return subprocess.run(args, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120)


def test_the_compose_file_follows_the_compose_specification():
    schema = json.loads((Path(__file__).parent / "data" / "compose-spec.json").read_text())
    errors = [f"{list(e.absolute_path)}: {e.message}"
              for e in jsonschema.Draft201909Validator(schema).iter_errors(compose())]
    assert errors == []


def test_every_long_running_service_has_a_health_check():
    services = compose()["services"]
    assert sorted(services) == ["beat", "mailcatcher", "migrate", "nginx", "postgres", "redis", "web", "worker"]
    assert [name for name, s in services.items() if name != "migrate" and "healthcheck" not in s] == []
    assert services["mailcatcher"]["profiles"] == ["staging"]
    assert "/readyz" in services["web"]["healthcheck"]["test"][-1]


def test_the_stack_refuses_to_start_without_its_secrets():
    for missing in DOT_ENV:
        env = {k: v for k, v in DOT_ENV.items() if k != missing}
        with pytest.raises(KeyError, match=missing):
            for service in ("web", "nginx", "postgres"):
                service_environment(service, env)


def test_redis_never_evicts_queued_messages():
    assert "noeviction" in compose()["services"]["redis"]["command"]


def test_only_nginx_is_published_and_it_reads_the_private_files_read_only():
    services = compose()["services"]
    assert [name for name, s in services.items() if "ports" in s] == ["nginx", "mailcatcher"]
    assert "private:/data/private:ro" in services["nginx"]["volumes"]
    assert service_environment("web")["PRIVATE_FILES_SERVE"] == "nginx"


def test_web_runs_with_production_settings_that_pass_the_deploy_check():
    env = service_environment("web")
    assert env["DEBUG"] == "0" and env["ALLOWED_HOSTS"] == "iea.example.org"
    result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    probe = ("from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
             "s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_AGE, s.CACHES['default']['BACKEND'], "
             "s.STORAGES['default']['BACKEND'])")
    result = run([sys.executable, "manage.py", "shell", "--verbosity", "0", "-c", probe], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "31536000", "True", str(8 * 3600),
                                     "iea.cache.FailOpenRedisCache",
                                     "django.core.files.storage.FileSystemStorage"]


def test_s3_storage_is_private_with_short_signed_urls():
    env = {**service_environment("web"), "S3_BUCKET": "iea-files", "S3_ENDPOINT_URL": "https://s3.example.org"}
    probe = "from django.conf import settings as s; import json; print(json.dumps(s.STORAGES['default']))"
    result = run([sys.executable, "manage.py", "shell", "--verbosity", "0", "-c", probe], env)
    assert result.returncode == 0, result.stderr
    storage = json.loads(result.stdout)
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["default_acl"] == "private" and storage["OPTIONS"]["querystring_auth"] is True
    assert storage["OPTIONS"]["querystring_expire"] <= 300


def test_the_gunicorn_and_celery_commands_load_with_the_services_settings():
    env = service_environment("web")
    services = compose()["services"]
    web = services["web"]["command"]
    assert web[0] == "gunicorn"
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    result = run([gunicorn, "--check-config", *web[1:]], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert services["worker"]["command"][:4] == ["celery", "-A", "iea", "worker"]
    assert "--beat" not in services["worker"]["command"] and "-B" not in services["worker"]["command"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "iea", "beat"]
    assert services["beat"]["deploy"]["replicas"] == 1
    result = run([sys.executable, "-c", "from iea.celery import app; print(app.conf.broker_url, app.conf.task_always_eager)"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["redis://redis:6379/0", "False"]
    result = run([sys.executable, "-c", "from iea.celery import app; app.loader.import_default_modules(); "
                  "entry = app.conf.beat_schedule['dispatch-due-notifications']; "
                  "print(entry['task'] in app.tasks, entry['schedule'])"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "30"]
    celery = str(Path(sys.executable).parent / "celery")
    result = run([celery, "-A", "iea", "report"], env)
    assert result.returncode == 0, result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in service_environment("web").items() if k != "SECRET_KEY"}
    result = run([sys.executable, "manage.py", "check"], env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


# nginx ---------------------------------------------------------------------------------------------------


def _self_signed(folder: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "iea.example.org")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    (folder / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "privkey.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def rendered_site(tmp_path: Path) -> str:
    """The template as the nginx image renders it (envsubst of the variables the service defines), with the
    container's mount points moved into ``tmp_path``."""
    template = (NGINX / "templates" / "iea.conf.template").read_text()
    site = interpolate(template, service_environment("nginx"))
    certs = tmp_path / "certs"
    certs.mkdir()
    _self_signed(certs)
    return (site.replace("/etc/nginx/certs/", f"{certs}/")
            .replace("/etc/nginx/snippets/iea-security-headers.conf", str(NGINX / "iea-security-headers.conf")))


def test_nginx_accepts_the_configuration(tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        pytest.fail("nginx not found: install Debian's nginx-light (or nginx) package.")
    (tmp_path / "site.conf").write_text(rendered_site(tmp_path))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path};\n  include {tmp_path}/site.conf;\n}}\n")
    result = subprocess.run([nginx, "-t", "-q", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def test_nginx_passes_a_full_letter_and_refuses_beyond(tmp_path, settings):
    site = rendered_site(tmp_path)
    limit = re.search(r"client_max_body_size (\d+)m;", site)
    assert limit, "client_max_body_size in megabytes"
    allowed = int(limit.group(1)) * 1024 * 1024
    # The app's own limit (with its clear message) must be reached first; nginx's is the backstop.
    assert settings.SUPPORT_LETTER_MAX_BYTES < allowed <= settings.SUPPORT_LETTER_MAX_BYTES + 4 * 1024 * 1024


def test_nginx_keeps_private_files_internal_and_sets_the_security_headers(tmp_path):
    site = rendered_site(tmp_path)
    private = site[site.index("location /_private/"):]
    private = private[:private.index("}")]
    assert "internal;" in private and "alias /data/private/;" in private
    headers = (NGINX / "iea-security-headers.conf").read_text()
    for header in ("Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"):
        assert re.search(rf'add_header {header} "[^"]+" always;', headers), header
    # Every location that adds a header of its own must include the security headers again (nginx drops
    # the server's add_header in such a location).
    for block in re.findall(r"location [^{]+\{([^}]*)\}", site):
        if "add_header" in block:
            assert "iea-security-headers.conf" in block, block
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site
    assert "proxy_set_header X-Request-ID $request_id;" in site
