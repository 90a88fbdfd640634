"""The production stack of docker-compose.yml, run as plain local processes, for the stack test (#13).

No Docker engine runs here, so each service runs its own command — read from docker-compose.yml, never
copied by hand — with the environment compose gives it (the ``x-app`` block, an operator's ``.env``), as
the image's users: the app as an unprivileged user, nginx's master as root and its workers as another
user whose group reads the private files, exactly as deploy/data-folders.sh arranges it in the image.
PostgreSQL and Redis are private instances on free ports; the mail server is the test's own.

What a container would see differently is translated by one table, :meth:`Stack.localize`: the service
names (``postgres:5432``, ``redis:6379``, ``web:8000``) become 127.0.0.1 and a free port, nginx's address on
the stack's network (the app's TRUSTED_PROXIES) 127.0.0.1, the volumes' mount points (``/data/``, ``/tmp/``,
nginx's ``/etc/nginx/…`` mounts) become folders of the run, and the ports nginx listens on inside its
container become the ones compose publishes (HTTP_PORT, HTTPS_PORT).
"""

import contextlib
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
# The users of the image (Dockerfile: "iea", uid 1000) and of nginx's workers (the nginx image: "nginx",
# uid and gid 101), played here by two users every Debian system has.
APP_USER = "daemon"
NGINX_USER = "nobody"


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def interpolate(value: str, env: dict) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}``, ``${VAR:?error}`` and ``$$``, as ``docker compose config``."""
    def one(match):
        if match.group(0) == "$$":
            return "$"
        name, operator, word = match.group(1), match.group(2), match.group(3)
        if env.get(name):
            return env[name]
        if operator == ":-":
            return word
        if operator == ":?":
            raise KeyError(f"{name}: {word}")
        return ""

    return re.sub(r"\$\$|\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, value)


def envsubst(template: str, env: dict) -> str:
    """The nginx image's templates: ``${VAR}`` replaced for the variables its environment defines only."""
    return re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), m.group(0)), template)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def dotenv_parse(path: Path) -> dict[str, str]:
    """An env_file as compose reads it (KEY=VALUE, quotes removed, comments and blank lines skipped)."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


@dataclass
class Service:
    name: str
    process: subprocess.Popen | None = None
    log: Path | None = None
    restarts: int = 0


@dataclass
class Stack:
    """Start with :meth:`up`, stop with :meth:`down`. ``work`` holds every file of the run."""

    work: Path
    smtp_port: int
    ports: dict = field(default_factory=dict)
    services: dict = field(default_factory=dict)
    dotenv: dict = field(default_factory=dict)

    @classmethod
    def create(cls, smtp_port: int) -> "Stack":
        work = Path(tempfile.mkdtemp(prefix="iea-stack-"))
        work.chmod(0o755)  # the app's and nginx's users go through it
        stack = cls(work=work, smtp_port=smtp_port)
        stack.ports = {name: free_port() for name in ("postgres", "redis", "web", "http", "https")}
        return stack

    # --- the environment --------------------------------------------------------------------------------

    def operator_env(self, server_name: str = "localhost") -> dict[str, str]:
        """What an operator puts in ``.env`` (README, "Production"): .env.example with its placeholders set,
        the mail going to this run's SMTP server as to the staging mail catcher, and the published ports."""
        values = dotenv_parse(ROOT / ".env.example")
        values.update(SERVER_NAME=server_name, SECRET_KEY="stack-test-" + os.urandom(24).hex(),
                      POSTGRES_PASSWORD="stack-" + os.urandom(8).hex(), EMAIL_HOST="127.0.0.1",
                      EMAIL_PORT=str(self.smtp_port), EMAIL_USE_TLS="0",
                      HTTP_PORT=str(self.ports["http"]), HTTPS_PORT=str(self.ports["https"]))
        self.dotenv = values
        return values

    def localize(self, text: str) -> str:
        """A container's view of the stack → this machine's (the module's docstring)."""
        p = self.ports
        pairs = [
            ("@postgres:5432/", f"@127.0.0.1:{p['postgres']}/"), ("redis://redis:6379/", f"redis://127.0.0.1:{p['redis']}/"),
            ("http://web:8000", f"http://127.0.0.1:{p['web']}"), ("0.0.0.0:8000", f"127.0.0.1:{p['web']}"),
            ("http://127.0.0.1:8000/", f"http://127.0.0.1:{p['web']}/"),
            ("http://127.0.0.1/", f"http://127.0.0.1:{p['http']}/"),
            ("/data/", f"{self.work}/data/"), ("/tmp/", f"{self.work}/tmp/"),
            ("/etc/nginx/certs/", f"{self.work}/deploy/certs/"),
            ("/etc/nginx/snippets/", f"{self.work}/app/deploy/nginx/"),
            (self.nginx_address(), "127.0.0.1"),
        ]
        table = dict(pairs)
        # One pass, so that a local path (under /tmp/) is never translated again.
        text = re.sub("|".join(re.escape(container) for container in table), lambda m: table[m.group(0)], text)
        text = re.sub(r"\blisten 80\b", f"listen 127.0.0.1:{p['http']}", text)
        return re.sub(r"\blisten 443\b", f"listen 127.0.0.1:{p['https']}", text)

    def nginx_address(self) -> str:
        address = compose()["services"]["nginx"]["networks"]["default"]["ipv4_address"]
        return interpolate(str(address), self.dotenv)

    def service_env(self, name: str) -> dict[str, str]:
        """The process environment of a compose service: the image's ENV, the env_file, then ``environment``."""
        spec = compose()["services"][name]
        env = {"PATH": f"{self.work / 'venv' / 'bin'}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1", "DJANGO_SETTINGS_MODULE": "iea.settings",
               "HOME": str(self.work / "home"), "HOSTNAME": socket.gethostname()}
        if spec.get("env_file"):
            env.update(self.dotenv)
        for key, value in (spec.get("environment") or {}).items():
            env[key] = self.localize(interpolate(str(value), self.dotenv))
        return env

    def command(self, name: str) -> list[str]:
        spec = compose()["services"][name]
        return [self.localize(interpolate(str(part), self.dotenv)) for part in spec["command"]]

    # --- processes --------------------------------------------------------------------------------------

    def _user(self, name: str):
        """The app runs with nginx's workers' group as its own (the Dockerfile's ``useradd --gid 101``)."""
        entry = pwd.getpwnam(name)
        group = pwd.getpwnam(NGINX_USER).pw_gid if name == APP_USER else entry.pw_gid
        return {"user": entry.pw_uid, "group": group, "extra_groups": []}

    def start(self, name: str, command: list[str], env: dict, *, user: str | None = APP_USER) -> Service:
        cwd = self.work / "app"
        service = self.services.get(name) or Service(name=name, log=self.work / "logs" / f"{name}.log")
        with service.log.open("ab") as log:
            service.process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                               start_new_session=True, **(self._user(user) if user else {}))
        self.services[name] = service
        return service

    def run(self, name: str, command: list[str], *, env: dict | None = None, user: str | None = APP_USER,
            check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        """A one-off command in a service's environment (``docker compose exec``/``run``)."""
        result = subprocess.run(command, cwd=self.work / "app", env=env if env is not None else self.service_env(name),
                                capture_output=True, text=True, timeout=timeout, **(self._user(user) if user else {}))
        with (self.work / "logs" / f"{name}-exec.log").open("a") as log:
            log.write(result.stdout + result.stderr)
        if check and result.returncode != 0:
            raise AssertionError(f"{shlex.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.services[name].process
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def down(self) -> None:
        for service in reversed(list(self.services.values())):
            if service.process and service.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(service.process.pid, signal.SIGTERM)
        for service in self.services.values():
            if service.process:
                try:
                    service.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(service.process.pid, signal.SIGKILL)

    def logs(self, *names: str) -> str:
        files = [self.work / "logs" / f"{name}.log" for name in names] if names else sorted((self.work / "logs").glob("*.log"))
        return "\n".join(path.read_text(errors="replace") for path in files if path.exists())

    # --- health -----------------------------------------------------------------------------------------

    def healthcheck(self, name: str) -> bool:
        """The service's own compose health check, run once in its environment."""
        test = compose()["services"][name]["healthcheck"]["test"]
        parts = [self.localize(interpolate(str(part), self.dotenv)) for part in test]
        env = self.service_env(name) if name in ("web", "worker", "beat") else {"PATH": os.environ["PATH"]}
        if name == "postgres":
            env.update(PGHOST="127.0.0.1", PGPORT=str(self.ports["postgres"]))
        command = ["sh", "-c", parts[1]] if parts[0] == "CMD-SHELL" else parts[1:]
        if command[0] == "redis-cli":
            command[1:1] = ["-p", str(self.ports["redis"])]
        try:
            result = subprocess.run(command, cwd=self.work / "app", env=env, capture_output=True, timeout=30,
                                    **(self._user(APP_USER) if name in ("web", "worker", "beat") else {}))
        except subprocess.TimeoutExpired:
            return False
        return result.returncode == 0

    def wait_healthy(self, name: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            process = self.services.get(name) and self.services[name].process
            if process is not None and process.poll() is not None:
                raise AssertionError(f"{name} exited ({process.returncode}):\n{self.logs(name)[-4000:]}")
            if self.healthcheck(name):
                return
            time.sleep(0.5)
        raise AssertionError(f"{name} not healthy after {timeout} s:\n{self.logs(name)[-4000:]}")

    # --- the services -----------------------------------------------------------------------------------

    def up_postgres(self) -> None:
        """The postgres image's first start: a cluster whose superuser is POSTGRES_USER with its password,
        password authentication over TCP, and POSTGRES_DB."""
        env = {key: interpolate(str(value), self.dotenv) for key, value in compose()["services"]["postgres"]["environment"].items()}
        image_major = compose()["services"]["postgres"]["image"].split(":")[1].split("-")[0]
        bindir = Path(f"/usr/lib/postgresql/{image_major}/bin")
        if not (bindir / "postgres").exists():
            raise AssertionError(f"PostgreSQL {image_major} (the compose file's) is not installed: {bindir}")
        data = self.work / "postgres"
        data.mkdir()
        shutil.chown(data, "postgres")
        password = data / "pwfile"
        password.write_text(env["POSTGRES_PASSWORD"])
        shutil.chown(password, "postgres")
        self.run("postgres-init", [str(bindir / "initdb"), "-D", str(data / "data"), "-U", env["POSTGRES_USER"],
                                   f"--pwfile={password}", "--auth-local=trust", "--auth-host=scram-sha-256",
                                   "--encoding=UTF8", "--locale=C.UTF-8"],
                 env={"PATH": os.environ["PATH"]}, user="postgres")
        self.start("postgres", [str(bindir / "postgres"), "-D", str(data / "data"), "-p", str(self.ports["postgres"]),
                                "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={data}"],
                   {"PATH": os.environ["PATH"]}, user="postgres")
        self.wait_healthy("postgres", timeout=60)
        self.psql(f"CREATE DATABASE {env['POSTGRES_DB']}", database="postgres")

    def psql(self, sql: str, *, database: str = "iea") -> str:
        user = compose()["services"]["postgres"]["environment"]["POSTGRES_USER"]
        result = subprocess.run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
                                 str(self.ports["postgres"]), "-U", user, "-d", database, "-c", sql],
                                env={"PATH": os.environ["PATH"], "PGPASSWORD": self.dotenv["POSTGRES_PASSWORD"]},
                                capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise AssertionError(f"psql: {result.stderr}")
        return result.stdout.strip()

    def up_redis(self) -> None:
        folder = self.work / "redis"
        folder.mkdir(exist_ok=True)
        command = compose()["services"]["redis"]["command"]
        self.start("redis", [shutil.which("redis-server") or "redis-server", *command[1:], "--port",
                             str(self.ports["redis"]), "--bind", "127.0.0.1", "--dir", str(folder)],
                   {"PATH": os.environ["PATH"]}, user=None)
        self.wait_healthy("redis", timeout=30)

    def up_app(self, name: str) -> None:
        self.start(name, self.command(name), self.service_env(name))

    def up_nginx(self) -> None:
        spec = compose()["services"]["nginx"]
        env = {key: interpolate(str(value), self.dotenv) for key, value in spec["environment"].items()}
        folder = self.work / "nginx"
        (folder / "conf.d").mkdir(parents=True)
        for template in (ROOT / "deploy" / "nginx" / "templates").glob("*.template"):
            site = self.localize(envsubst(template.read_text(), env))
            (folder / "conf.d" / template.name.removesuffix(".template")).write_text(site)
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        # The nginx image's own nginx.conf, but for the paths: workers as another user than the app's.
        (folder / "nginx.conf").write_text(
            f"user {NGINX_USER} {self._group_name(NGINX_USER)};\nworker_processes 2;\n"
            f"error_log stderr notice;\npid {folder}/nginx.pid;\ndaemon off;\n"
            "events { worker_connections 1024; }\n"
            "http {\n  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n"
            "  sendfile on;\n  keepalive_timeout 65;\n"
            f"  client_body_temp_path {folder}/body;\n  proxy_temp_path {folder}/proxy;\n"
            f"  fastcgi_temp_path {folder}/fastcgi;\n  uwsgi_temp_path {folder}/uwsgi;\n  scgi_temp_path {folder}/scgi;\n"
            f"  include {folder}/conf.d/*.conf;\n}}\n")
        self.start("nginx", [nginx, "-p", str(folder), "-c", str(folder / "nginx.conf")], {"PATH": os.environ["PATH"]},
                   user=None)
        self.wait_healthy("nginx", timeout=30)

    @staticmethod
    def _group_name(user: str) -> str:
        import grp

        return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name

    def build(self) -> None:
        """What the Dockerfile builds, as it builds it: a virtualenv of the locked dependencies without the
        dev ones (``uv sync --frozen --no-install-project --no-dev``) on a Python the app's user may run, the
        files ``COPY . .`` takes (Docker's own reading of .dockerignore), the compiled translations."""
        from docker.utils.build import exclude_paths

        python = next((path for path in ("/usr/local/bin/python3.11", "/usr/bin/python3.11", "/usr/bin/python3")
                       if Path(path).exists() and subprocess.run(["python3", "-c", "0"], executable=path,
                                                                 **self._user(APP_USER)).returncode == 0), None)
        if python is None:
            raise AssertionError(f"No Python 3.11+ that the user {APP_USER} may run (Debian's python3).")
        uv = ROOT / ".tools" / "bin" / "uv"
        subprocess.run([str(uv), "venv", "--quiet", "--python", python, str(self.work / "venv")], check=True)
        subprocess.run([str(uv), "sync", "--quiet", "--frozen", "--no-install-project", "--no-dev"], cwd=ROOT,
                       env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(self.work / "venv")}, check=True)
        ignore = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                  if line.strip() and not line.startswith("#")]
        app = self.work / "app"
        for name in sorted(exclude_paths(str(ROOT), ignore)):
            source = ROOT / name
            if source.is_file() and not source.is_symlink():
                (app / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, app / name)
        subprocess.run([str(self.work / "venv" / "bin" / "python"), "manage.py", "compilemessages", "--verbosity", "0"],
                       cwd=app, check=True, env={"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "iea.settings"})

    def up(self) -> None:
        """docker compose up: the services in the order of their ``depends_on``, each healthy (or, for
        migrate, finished) before those that depend on it start."""
        (self.work / "logs").mkdir()
        self.build()
        for folder in ("home", "tmp"):
            (self.work / folder).mkdir()
            shutil.chown(self.work / folder, APP_USER)
        # The image's data folders (Dockerfile → deploy/data-folders.sh), with nginx's group reading the files.
        subprocess.run(["sh", str(self.work / "app" / "deploy" / "data-folders.sh"), str(self.work / "data"), APP_USER,
                        str(pwd.getpwnam(NGINX_USER).pw_gid)], check=True)
        self.up_postgres()
        self.up_redis()
        result = self.run("migrate", ["sh", "-c", self.command("migrate")[-1]], env=self.service_env("migrate"))
        assert result.returncode == 0
        for name in ("web", "worker", "beat"):
            self.up_app(name)
        self.wait_healthy("web")
        self.up_nginx()
        self.wait_healthy("worker", timeout=90)
        self.wait_healthy("beat", timeout=60)
