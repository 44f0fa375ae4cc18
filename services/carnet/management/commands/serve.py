"""carnet serve: gunicorn, as in production, on 127.0.0.1:$PORT (8000 by default).

The worker class is gthread: each worker keeps a client's connection open between its
requests (HTTP/1.1 keep-alive), so a browser's page and its assets, an API client and the
reverse proxy's upstream pool skip a TCP handshake and an accept per request. One thread
per worker by default: as many requests at once as the sync worker served, and no two
threads of one process contending for the interpreter (measured in docs/performance.md:
with 2 or 4 threads the saturation rate went down by 8-10 %). The sync worker closes the
connection after every response; it stays available (``--worker-class sync``) for
comparison."""

from __future__ import annotations

import gc
import os
from typing import Any

from django.core.management.base import BaseCommand


def shared_application() -> Any:
    """The WSGI app, loaded once in gunicorn's master before the workers fork.

    The workers share the loaded app's memory pages until one writes to them. Python's
    collector writes into every object it scans, so each worker would soon hold a private
    copy of the whole app; frozen objects are never scanned. Measured on the benchmark's
    node: the workers' proportional memory went from 406 to 264 MiB, and each request
    costs less CPU, as the collector scans only what the request made
    (docs/performance.md)."""
    from carnet.wsgi import application

    gc.collect()
    gc.freeze()
    return application


class Command(BaseCommand):
    help = "Serve Carnet with gunicorn."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--bind", default=None, help="host:port (default 127.0.0.1:$PORT)")
        parser.add_argument("--workers", type=int, default=None)
        parser.add_argument(
            "--worker-class",
            choices=["gthread", "sync"],
            default=os.environ.get("WEB_WORKER_CLASS", "gthread"),
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=int(os.environ.get("WEB_THREADS", "1")),
            help="threads per gthread worker (each holds its own database connection)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from gunicorn.app.base import BaseApplication

        bind = (
            options["bind"]
            or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
        )
        workers = (
            options["workers"]
            or int(os.environ.get("WEB_CONCURRENCY", "0"))
            or ((os.cpu_count() or 1) * 2 + 1)
        )

        worker_class = options["worker_class"]
        threads = options["threads"] if worker_class == "gthread" else 1

        class Server(BaseApplication):
            def load_config(self) -> None:
                self.cfg.set("bind", bind)
                self.cfg.set("workers", workers)
                self.cfg.set("worker_class", worker_class)
                self.cfg.set("threads", threads)
                # Longer than the reverse proxy's idle upstream timeout, so the proxy
                # closes first and never sends on a connection gunicorn has just closed.
                self.cfg.set("keepalive", 75)
                # gunicorn 25.1+ opens a control socket in $HOME by default: one path for
                # every instance of the user (the tests run several), and a way to change
                # the workers that Carnet does not use. systemd restarts the service.
                if "control_socket_disable" in self.cfg.settings:
                    self.cfg.set("control_socket_disable", True)
                self.cfg.set("preload_app", True)
                self.cfg.set("accesslog", "-")
                self.cfg.set("timeout", 60)

            def load(self) -> Any:
                return shared_application()

        self.stdout.write(
            f"Carnet is serving on http://{bind}/ ({workers} {worker_class} workers"
            + (f", {threads} thread(s) each)" if worker_class == "gthread" else ")")
        )
        Server().run()
