"""What nginx says about itself and passes on from the app (issue #16): its version hidden
(``server_tokens off``), gunicorn's ``Server`` line never passed on, and one Permissions-Policy, the app's
own, on every answer. Checked in the configuration, then with Debian's nginx running it in front of a small
stand-in for gunicorn."""

import http.server
import re
import shutil
import subprocess
import threading
import time

import httpx
import pytest
from django.http import HttpResponse
from django_permissions_policy import PermissionsPolicyMiddleware

from tests.stack.stack import free_port

from .test_deploy import NGINX, rendered_site


def app_policy() -> str:
    return PermissionsPolicyMiddleware(lambda request: HttpResponse()).permissions_policy


def proxied_block(site: str) -> str:
    return next(block for block in re.findall(r"location [^{]+\{([^}]*)\}", site) if "proxy_pass" in block)


def test_nginx_hides_its_version_and_the_apps_server_line(tmp_path):
    site = rendered_site(tmp_path)
    assert re.findall(r"^\s*server_tokens (\w+);", site, re.MULTILINE) == ["off"]
    assert site.index("server_tokens off;") < site.index("server {")  # for every server, its error pages too
    proxied = proxied_block(site)
    for header in ("Server", "Permissions-Policy"):
        assert f"proxy_hide_header {header};" in proxied, header


def test_nginx_sends_the_apps_permissions_policy_word_for_word():
    headers = (NGINX / "iea-security-headers.conf").read_text()
    policies = re.findall(r'add_header Permissions-Policy "([^"]+)" always;', headers)
    assert policies == [app_policy()]
    assert {"camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"} <= set(policies[0].split(", "))


class _Gunicorn(http.server.BaseHTTPRequestHandler):
    """Answers as the app behind gunicorn does: its own Server line and its own Permissions-Policy."""

    def version_string(self):
        return "gunicorn/23.0.0"

    def do_GET(self):  # noqa: N802 (http.server's name)
        body = b"<!doctype html><title>calls</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Permissions-Policy", app_policy())
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def nginx_in_front(tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not shutil.which(nginx):
        pytest.fail("nginx not found: install Debian's nginx-light (or nginx) package.")
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Gunicorn)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port = free_port()
    site = (rendered_site(tmp_path)
            .replace("listen 80 default_server;", f"listen 127.0.0.1:{free_port()};")
            .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{port} ssl;")
            .replace("resolver 127.0.0.11 valid=10s ipv6=off;", "")
            .replace("set $iea_web http://web:8000;", f"set $iea_web http://127.0.0.1:{upstream.server_port};")
            .replace("/dev/stdout", str(tmp_path / "access.log")))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"daemon off;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  client_body_temp_path {tmp_path}/body;\n  proxy_temp_path {tmp_path}/proxy;\n"
        f"  include {tmp_path}/site.conf;\n}}\n")
    process = subprocess.Popen([nginx, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")])
    base = f"https://127.0.0.1:{port}"
    try:
        with httpx.Client(verify=False, timeout=5) as client:  # noqa: S501 (the test's self-signed certificate)
            for _attempt in range(100):
                try:
                    client.get(f"{base}/nginx-health")
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            yield client, base
    finally:
        process.terminate()
        process.wait(timeout=10)
        upstream.shutdown()


def test_nginx_running_shows_no_version_no_gunicorn_and_one_policy(nginx_in_front):
    client, base = nginx_in_front
    page = client.get(f"{base}/calls/")  # the app's answer, through nginx
    missing = client.get(f"{base}/static/nothing-here.css")  # nginx's own
    assert (page.status_code, missing.status_code) == (200, 404)
    for response in (page, missing):
        assert response.headers.get_list("server") == ["nginx"], response.url
        assert response.headers.get_list("permissions-policy") == [app_policy()], response.url
    assert "gunicorn" not in str(page.headers).lower()
