"""The audit trail: append-only, hash-chained per practice, anchored by signatures."""
