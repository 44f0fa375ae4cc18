"""Writes of the laboratory intake: receiving a file, matching it, signing it off."""

from lab.services.intake import Received, receive
from lab.services.matching import match

__all__ = ["Received", "match", "receive"]
