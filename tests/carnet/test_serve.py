"""carnet serve loads the app once and freezes it, so the forked workers share its pages."""

from __future__ import annotations

import gc

from carnet.management.commands.serve import shared_application


def test_the_app_loaded_before_the_fork_is_frozen_out_of_the_collectors_reach():
    gc.unfreeze()
    try:
        application = shared_application()
        assert callable(application)
        # Every object alive at load time (modules, URL patterns, templates' loaders)
        # is in the permanent generation, which the collector never scans or writes.
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
