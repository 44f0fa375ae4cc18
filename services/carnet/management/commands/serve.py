"""carnet serve: gunicorn, as in production, on 127.0.0.1:$PORT (8000 by default)."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Carnet with gunicorn."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--bind", default=None, help="host:port (default 127.0.0.1:$PORT)")
        parser.add_argument("--workers", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        from gunicorn.app.base import BaseApplication

        from carnet.wsgi import application

        bind = (
            options["bind"]
            or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
        )
        workers = (
            options["workers"]
            or int(os.environ.get("WEB_CONCURRENCY", "0"))
            or ((os.cpu_count() or 1) * 2 + 1)
        )

        class Server(BaseApplication):
            def load_config(self) -> None:
                self.cfg.set("bind", bind)
                self.cfg.set("workers", workers)
                self.cfg.set("preload_app", True)
                self.cfg.set("accesslog", "-")
                self.cfg.set("timeout", 60)

            def load(self) -> Any:
                return application

        self.stdout.write(f"Carnet is serving on http://{bind}/ ({workers} workers)")
        Server().run()
