"""A real nginx (Debian's) in front of gateway replicas on this machine: round robin, the next
replica on a refused connection, the inbox's live events unbuffered — as deploy/nginx.conf
does in production, without TLS. For the scale benchmark and the replica tests."""

from __future__ import annotations

import getpass
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bot.core.errors import ProcessFailed
from bot.ops.processes import ChildProcess, free_port, http_ok

CONFIG = """
daemon off;
worker_processes 1;
user {user};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    client_max_body_size 4m;
    upstream gateways {{
{servers}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_buffering off;
        proxy_read_timeout 300s;
        proxy_next_upstream error timeout http_502 http_503;
        proxy_next_upstream_tries 3;
        location / {{ proxy_pass http://gateways; }}
    }}
}}
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )


class Nginx:
    """nginx on a free port of this machine, proxying to the gateways on `ports`."""

    def __init__(self, ports: Sequence[int]) -> None:
        binary = nginx_binary()
        if binary is None:
            raise ProcessFailed("nginx is not installed (apt-get install nginx-light)")
        self._folder = tempfile.TemporaryDirectory(prefix="loket-nginx-")
        prefix = Path(self._folder.name)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=0;" for p in ports)
        config = prefix / "nginx.conf"
        config.write_text(
            CONFIG.format(user=getpass.getuser(), prefix=prefix, servers=servers, port=self.port)
        )
        self._child = ChildProcess(
            "nginx",
            [binary, "-c", str(config), "-p", str(prefix), "-e", str(prefix / "error.log")],
            log_path=prefix / "nginx.log",
            ready=http_ok(f"{self.url}/livez"),
        )

    def start(self, timeout: float = 15) -> Nginx:
        self._child.start(timeout=timeout)
        return self

    @property
    def pid(self) -> int | None:
        return self._child.pid

    def stop(self) -> None:
        self._child.stop()
        self._folder.cleanup()
