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
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.stack.stack import compose, interpolate

ROOT = Path(__file__).resolve().parents[2]
NGINX = ROOT / "deploy" / "nginx"
# What an operator's .env holds (README, "Production").
DOT_ENV = {"SERVER_NAME": "iea.example.org", "SECRET_KEY": secrets.token_urlsafe(50), "POSTGRES_PASSWORD": "pw"}


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
    assert services["worker"]["command"][:5] == ["celery", "-A", "iea", "--quiet", "worker"]
    assert "--beat" not in services["worker"]["command"] and "-B" not in services["worker"]["command"]
    assert services["beat"]["command"][:5] == ["celery", "-A", "iea", "--quiet", "beat"]
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


def rendered_site(tmp_path: Path, env: dict | None = None) -> str:
    """The template as the nginx image renders it (envsubst of the variables the service defines), with the
    container's mount points moved into ``tmp_path``."""
    template = (NGINX / "templates" / "iea.conf.template").read_text()
    site = interpolate(template, service_environment("nginx", env))
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


def test_the_app_believes_the_client_address_nginx_writes_and_no_one_else(tmp_path):
    """nginx replaces X-Forwarded-For with the address it sees (a client's own header never reaches the app
    as the client's address), from a fixed address in a fixed subnet, the only one in TRUSTED_PROXIES."""
    import ipaddress

    site = rendered_site(tmp_path)
    assert re.findall(r"proxy_set_header X-Forwarded-For (\S+);", site) == ["$remote_addr"]
    services = compose()
    subnet = interpolate(services["networks"]["default"]["ipam"]["config"][0]["subnet"], DOT_ENV)
    nginx = interpolate(services["services"]["nginx"]["networks"]["default"]["ipv4_address"], DOT_ENV)
    assert ipaddress.ip_address(nginx) in ipaddress.ip_network(subnet)
    for service in ("web", "worker", "beat", "migrate"):
        assert service_environment(service)["TRUSTED_PROXIES"] == nginx
    env = service_environment("web")
    probe = ("from django.test import RequestFactory; from iea.proxies import client_ip; f = RequestFactory(); "
             f"print(client_ip(f.get('/', REMOTE_ADDR='{nginx}', HTTP_X_FORWARDED_FOR='203.0.113.7')), "
             "client_ip(f.get('/', REMOTE_ADDR='172.30.94.99', HTTP_X_FORWARDED_FOR='203.0.113.7')))")
    result = run([sys.executable, "manage.py", "shell", "--verbosity", "0", "-c", probe], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["203.0.113.7", "172.30.94.99"]


# What a build copies, what nginx reads, how mail leaves (#13) ---------------------------------------------

SECRETS = [".env", ".env.production", "deploy/certs/privkey.pem", "deploy/certs/fullchain.pem",
           "deploy/saml/sp.key", "var/db.sqlite3", "var/backups/iea-20261202T031500Z.tar.gz",
           "var/private/letters/2027/letter.pdf", ".venv/bin/python", ".git/config"]


def _dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _copied_by_a_build(root: Path) -> set[str]:
    """What ``COPY . .`` takes from ``root``: the files (not folders) that Docker's own matching of
    .dockerignore (docker-py, the rules of the Docker CLI) leaves in the build context."""
    from docker.utils.build import exclude_paths

    return {name for name in exclude_paths(str(root), _dockerignore()) if (root / name).is_file()}


def test_a_build_never_copies_the_secrets_an_operators_checkout_holds(tmp_path):
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in [*tracked, *SECRETS]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    copied = _copied_by_a_build(tmp_path)
    assert sorted(set(SECRETS) & copied) == []
    # …and still everything the image runs: the code, the templates, the translations' sources, deploy/.
    needed = {"manage.py", "pyproject.toml", "uv.lock", "iea/settings.py", "templates/base.html",
              "locale/fr/LC_MESSAGES/django.po", "deploy/data-folders.sh", "static/css/app.css", ".env.example"}
    assert needed - copied == set()


def test_this_checkout_copies_no_secret_into_an_image():
    secret = re.compile(r"(^|/)(\.env(\..+)?|.*\.(pem|key|crt|p12|pfx|sqlite3|tar\.gz)|id_(rsa|ed25519).*)$")
    found = sorted(name for name in _copied_by_a_build(ROOT) if secret.search(name) and name != ".env.example")
    assert found == []


def test_production_refuses_a_mail_backend_that_delivers_nothing():
    env = service_environment("web")
    for backend in ("console", "filebased", "locmem", "dummy"):
        result = run([sys.executable, "manage.py", "check"],
                     {**env, "EMAIL_BACKEND": f"django.core.mail.backends.{backend}.EmailBackend"})
        assert result.returncode != 0, backend
        assert "delivers no mail and DEBUG=0" in result.stderr, result.stderr
    probe = "from django.conf import settings as s; print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT)"
    result = run([sys.executable, "manage.py", "shell", "--verbosity", "0", "-c", probe],
                 {**env, "EMAIL_HOST": "smtp.example.org", "EMAIL_PORT": "587"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.core.mail.backends.smtp.EmailBackend", "smtp.example.org", "587"]


def test_collected_static_files_are_readable_by_nginx_and_uploads_by_its_group_only(tmp_path):
    env = {**service_environment("web"), "STATIC_ROOT": str(tmp_path / "static")}
    result = run([sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"], env)
    assert result.returncode == 0, result.stderr
    modes = {oct(path.stat().st_mode & 0o777) for path in (tmp_path / "static").rglob("*")}
    assert modes == {"0o644", "0o755"}
    probe = ("from django.conf import settings as s; "
             "print(oct(s.FILE_UPLOAD_PERMISSIONS), oct(s.FILE_UPLOAD_DIRECTORY_PERMISSIONS))")
    result = run([sys.executable, "manage.py", "shell", "--verbosity", "0", "-c", probe], env)
    assert result.stdout.split() == ["0o640", "0o750"]


@pytest.mark.skipif(os.geteuid() != 0, reason="changes owners: CI runs as root")
def test_the_data_folders_give_nginx_the_private_files_through_their_group(tmp_path):
    subprocess.run(["sh", str(ROOT / "deploy" / "data-folders.sh"), str(tmp_path), "nobody", "4242"], check=True)
    private = (tmp_path / "private").stat()
    assert (oct(private.st_mode & 0o7777), private.st_gid) == ("0o2750", 4242)
    (tmp_path / "private" / "letters").mkdir()
    (tmp_path / "private" / "letters" / "a.pdf").write_text("x")
    assert (tmp_path / "private" / "letters" / "a.pdf").stat().st_gid == 4242  # inherited, whoever writes
    assert oct((tmp_path / "backups").stat().st_mode & 0o777) == "0o700"


def test_the_site_url_and_trusted_origins_follow_the_published_https_port():
    for port, origin in (("443", "https://iea.example.org"), ("8443", "https://iea.example.org:8443")):
        env = service_environment("web", {**DOT_ENV, "HTTPS_PORT": port})
        probe = "from django.conf import settings as s; print(s.SITE_URL, *s.CSRF_TRUSTED_ORIGINS)"
        result = run([sys.executable, "manage.py", "shell", "--verbosity", "0", "-c", probe], env)
        assert result.stdout.split() == [origin, origin], result.stderr


def test_nginx_forwards_the_port_the_browser_used_and_redirects_to_it(tmp_path):
    site = rendered_site(tmp_path, {**DOT_ENV, "HTTPS_PORT": "8443"})
    assert "proxy_set_header Host $http_host;" in site
    assert "return 301 https://$host:8443$request_uri;" in site


def _site_blocks(site: str) -> dict[str, str]:
    return {match.group(1).strip(): match.group(2) for match in re.finditer(r"location ([^{]+)\{([^}]*)\}", site)}


def test_nginx_sends_one_cache_control_and_a_policy_on_its_own_pages(tmp_path):
    site = rendered_site(tmp_path)
    blocks = _site_blocks(site)
    assert "expires" not in blocks["/static/"] and blocks["/static/"].count("Cache-Control") == 1
    assert "Cache-Control" not in blocks["/_private/"]  # the app's "private, no-store" goes through
    headers = (NGINX / "iea-security-headers.conf").read_text()
    assert "add_header Content-Security-Policy $iea_csp always;" in headers
    csp_map = site[site.index("map $upstream_http_content_security_policy"):]
    assert "default-src 'none'" in csp_map.split("\n")[1] and 'default "";' in csp_map


def _secret_url_samples() -> list[tuple[str, str]]:
    """A path of every URL pattern with a secret argument (iea.logging.SECRET_URL_KWARGS), and its secret."""
    import django

    django.setup()
    from django.urls import URLPattern, URLResolver, get_resolver

    from iea.logging import SECRET_URL_KWARGS

    secret = "Zq7sEcReT0123456789"
    samples = []

    def walk(resolver, prefix=""):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                names = {name for pair in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route) for name in pair if name}
                if names & SECRET_URL_KWARGS:
                    path = re.sub(r"<(?:\w+:)?\w+>", secret, route)
                    path = re.sub(r"\(\?P<\w+>[^)]*\)", secret, path).replace("^", "").replace("$", "")
                    samples.append(("/" + path, secret))

    walk(get_resolver())
    return samples


def test_nginx_access_lines_hide_every_secret_link_the_app_hides(tmp_path):
    site = rendered_site(tmp_path)
    block = site[site.index("map $uri $iea_log_path"):].split("}", 1)[0]
    rules = [(re.compile(pattern.replace("(?<", "(?P<")), value)
             for pattern, value in re.findall(r'"~([^"]+)" "([^"]+)";', block)]
    assert rules

    def logged(path: str) -> str:
        for pattern, value in rules:
            match = pattern.search(path)
            if match:
                groups = match.groupdict()
                return re.sub(r"\$(\w+)", lambda name, groups=groups: groups[name.group(1)], value)
        return path

    samples = _secret_url_samples()
    assert len(samples) >= 5
    for path, secret in samples:
        assert secret not in logged(path), path
    assert logged("/proposals/12/edit/") == "/proposals/12/edit/"
