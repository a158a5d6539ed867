"""nginx from the project's own template (``deploy/nginx/meet.conf``), on loopback, for tests.

Typical use::

    with Nginx(tmp_path, upstream_ports=[8001, 8002], static_root=path) as proxy:
        proxy.https_url     # "https://localhost:PORT"
        proxy.ca_file       # the self-signed certificate, to trust in clients

The template is used as a self-hoster uses it; only what must differ on a test machine is
replaced: the server name (``localhost``), the certificate (a fresh self-signed one for
``localhost`` and 127.0.0.1), the listening addresses (free loopback ports instead of 80/443 on
every interface), the upstream workers' ports and the static folder. Everything else — TLS
settings, headers, WebSocket upgrade, timeouts, size limits, cache rules — is the file as shipped.
A small main ``nginx.conf`` around it keeps the pid file, logs and temporary folders inside the
test's folder, and nginx runs in the foreground in its own process group.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.support import tools
from tests.support.certificates import write_self_signed_certificate
from tests.support.processes import ManagedServer

PROJECT_DIR = Path(__file__).resolve().parents[2]
TEMPLATE = PROJECT_DIR / "deploy" / "nginx" / "meet.conf"
STARTUP_TIMEOUT = 15.0


def nginx_path() -> str | None:
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )


def require_nginx() -> str:
    path = nginx_path()
    tools.require("nginx", bool(path), "install Debian's nginx package")
    return path


class Nginx(ManagedServer):
    """One nginx process serving ``deploy/nginx/meet.conf``; see the module docstring."""

    def __init__(self, workdir: Path, *, upstream_ports: list[int], static_root: Path) -> None:
        self.workdir = Path(workdir)
        self.upstream_ports = list(upstream_ports)
        self.static_root = Path(static_root)
        self.http_port = tools.free_port()
        self.https_port = tools.free_port()
        self.process: subprocess.Popen | None = None
        self.cert_path: Path | None = None

    @property
    def https_url(self) -> str:
        return f"https://localhost:{self.https_port}"

    @property
    def http_url(self) -> str:
        return f"http://localhost:{self.http_port}"

    @property
    def ca_file(self) -> str:
        return str(self.cert_path)

    @property
    def error_log(self) -> Path:
        return self.workdir / "error.log"

    def site_config(self) -> str:
        """The template with the test machine's values; fails loudly if the template moved on."""
        text = TEMPLATE.read_text()
        replacements = [
            (r"(?m)^\s*listen \[::\]:.*\n", ""),
            (r"listen 80;", f"listen 127.0.0.1:{self.http_port};"),
            (r"listen 443 ssl http2;", f"listen 127.0.0.1:{self.https_port} ssl http2;"),
            (r"server_name meet\.example\.org;", "server_name localhost;"),
            (
                r"/etc/letsencrypt/live/meet\.example\.org/fullchain\.pem",
                str(self.cert_path),
            ),
            (r"/etc/letsencrypt/live/meet\.example\.org/privkey\.pem", str(self.key_path)),
            (r"alias /srv/meet/staticfiles/;", f"alias {self.static_root}/;"),
            (r"root /var/www/letsencrypt;", f"root {self.workdir / 'acme'};"),
        ]
        for pattern, value in replacements:
            text, count = re.subn(pattern, value, text)
            if count == 0:
                raise AssertionError(f"deploy/nginx/meet.conf no longer has {pattern!r}")
        upstream_lines = "\n".join(
            f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;"
            for port in self.upstream_ports
        )
        text, count = re.subn(
            r"(?m)^    server 127\.0\.0\.1:800\d max_fails=1 fail_timeout=2s;\n"
            r"(    server 127\.0\.0\.1:800\d max_fails=1 fail_timeout=2s;\n)*",
            upstream_lines + "\n",
            text,
        )
        if count != 1:
            raise AssertionError("deploy/nginx/meet.conf's upstream block changed shape")
        return text

    def main_config(self) -> str:
        temp = self.workdir / "tmp"
        return f"""
# The test's folders belong to root and are private; nginx's workers read them as root here.
user root;
pid {self.workdir / "nginx.pid"};
error_log {self.error_log} info;
worker_processes 1;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {self.workdir / "access.log"};
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {self.workdir / "meet.conf"};
}}
"""

    def write_config(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "tmp").mkdir(exist_ok=True)
        (self.workdir / "acme").mkdir(exist_ok=True)
        if self.cert_path is None:
            self.cert_path, self.key_path = write_self_signed_certificate(self.workdir)
        (self.workdir / "meet.conf").write_text(self.site_config())
        main = self.workdir / "nginx.conf"
        main.write_text(self.main_config())
        return main

    def test_config(self) -> subprocess.CompletedProcess:
        """``nginx -t`` on the rendered configuration."""
        binary = require_nginx()
        main = self.write_config()
        return subprocess.run(
            [binary, "-t", "-c", str(main), "-p", str(self.workdir)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    output_name = "nginx.stdout"

    def prepare(self) -> None:
        self.main_config_path = self.write_config()

    def command(self) -> list[str]:
        main = str(self.main_config_path)
        return [require_nginx(), "-c", main, "-p", str(self.workdir), "-g", "daemon off;"]

    def wait_until_answering(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"nginx exited:\n{self.log_text()}")
            try:
                # The plain-HTTP server answers every path with a redirect to HTTPS.
                opener = urllib.request.build_opener(_NoRedirect)
                opener.open(self.http_url + "/", timeout=1)
            except urllib.error.HTTPError as answer:
                if answer.code == 301:
                    return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"nginx did not answer on {self.http_url}:\n{self.log_text()}")

    def log_text(self) -> str:
        return self.output_text(self.error_log)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
