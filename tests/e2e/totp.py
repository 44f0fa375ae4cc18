"""Codes for the browser tests' logins. A TOTP code is accepted once per account (a
replayed code is refused), and several tests log in as the same demo account, so each
login takes a code of a time step not used yet for that secret, waiting for the next
step when both the current and the next one are used."""

from __future__ import annotations

import time

from carnet.management.commands.totp import current_code

USED_STEPS: dict[str, set[int]] = {}


def fresh_code(secret: str) -> str:
    used = USED_STEPS.setdefault(secret.replace(" ", "").upper(), set())
    while True:
        now = time.time()
        for at in (now, now + 30):  # the next step is accepted too (tolerance)
            step = int(at // 30)
            if step not in used:
                used.add(step)
                return current_code(secret, at)
        time.sleep(30 - now % 30 + 0.5)
