"""Reading the directory as installed on this node, and this node's name."""

from __future__ import annotations

from django.conf import settings

from sharing.models import DirectoryEntry


def node_name() -> str:
    return str(settings.CARNET_NODE_NAME)


def directory_entries(*, order: tuple[str, ...] = ("name",)) -> list[DirectoryEntry]:
    """The practices of the installed directory (every practice of the node may look
    recipients up in it)."""
    return list(DirectoryEntry.objects.order_by(*order))
