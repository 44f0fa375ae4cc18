"""Writes of the sharing service: the directory, sending, the gateway, accepting,
receipts and revocation notices."""

from sharing.services.directory import (
    cooperative_key_on_node,
    directory_check,
    directory_import,
    listing_for_practice,
)
from sharing.services.exchange import (
    MAX_REASON,
    consent_revoke_and_notify,
    deliver_pending,
    gateway_receive,
    import_shared_bundle,
    process_notices,
    refusal_code,
    share_accept,
    share_decline,
    share_send,
)

__all__ = [
    "MAX_REASON",
    "consent_revoke_and_notify",
    "cooperative_key_on_node",
    "deliver_pending",
    "directory_check",
    "directory_import",
    "gateway_receive",
    "import_shared_bundle",
    "listing_for_practice",
    "process_notices",
    "refusal_code",
    "share_accept",
    "share_decline",
    "share_send",
]
