"""Reads of the laboratory intake: the practitioner's "to read" list, the matching queue
(identity only, never a value), the backlog nobody read, one file."""

from lab.selectors.lists import (
    Overdue,
    QueueRow,
    ToRead,
    lab_file_for_matching,
    matching_queue,
    overdue,
    to_read,
)

__all__ = [
    "Overdue",
    "QueueRow",
    "ToRead",
    "lab_file_for_matching",
    "matching_queue",
    "overdue",
    "to_read",
]
