"""Composition root: settings, URLs, WSGI, the `carnet` command, the embedded database.

Nothing in the services imports this package; it imports them.
"""
