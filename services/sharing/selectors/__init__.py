"""Reads of the sharing service: the directory, what a share would carry, the inbox and
the outbox, the patient's portability copy."""

from sharing.selectors.content import (
    ShareContent,
    share_content,
    shareable_documents,
    shareable_entries,
)
from sharing.selectors.directory import (
    directory_entries,
    node_name,
    own_listing,
    partner_practices,
)
from sharing.selectors.inbox import (
    inbox_pending,
    inbox_share,
    inbox_shares,
    match_candidates,
    outbox_messages,
    patient_shares,
    require_exchange_reader,
    require_share_reader,
    share_bundle,
    share_preview,
)
from sharing.selectors.overview import ShareOverview, share_overview
from sharing.selectors.portability import portability_bundle

__all__ = [
    "ShareContent",
    "ShareOverview",
    "directory_entries",
    "inbox_pending",
    "inbox_share",
    "inbox_shares",
    "match_candidates",
    "node_name",
    "outbox_messages",
    "own_listing",
    "partner_practices",
    "patient_shares",
    "portability_bundle",
    "require_exchange_reader",
    "require_share_reader",
    "share_bundle",
    "share_content",
    "share_overview",
    "share_preview",
    "shareable_documents",
    "shareable_entries",
]
