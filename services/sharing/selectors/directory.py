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


def partner_practices(*, node: str, slug: str) -> list[DirectoryEntry]:
    """The other practices of the installed directory (this one left out), by node then
    name: the practices this one may share with when a patient consents."""
    return list(
        DirectoryEntry.objects.exclude(node=node, slug=slug).order_by("node", "name", "slug")
    )


def own_listing(*, node: str, slug: str) -> DirectoryEntry | None:
    """This practice as the installed directory lists it (None: not listed yet)."""
    return DirectoryEntry.objects.filter(node=node, slug=slug).first()
