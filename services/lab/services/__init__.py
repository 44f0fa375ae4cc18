"""Writes of the laboratory intake: receiving a file, matching it, reading and signing
it off."""

from lab.services.intake import Received, receive, receive_file
from lab.services.matching import match
from lab.services.review import report_open, sign_off

__all__ = ["Received", "match", "receive", "receive_file", "report_open", "sign_off"]
