"""A fixed-rate HTTP load generator (what wrk2 does, which Debian does not ship).

    python bench/fixed_rate.py URL TARGETS_FILE RATE SECONDS

Request i is due at ``start + i / RATE``, whatever happened before; its latency is
measured from that due time, not from when it was actually sent. So a server that
stalls is charged for the requests that queued behind the stall (no "coordinated
omission"). Requests go out on as many connections as needed (kept alive when the
server allows it). Same targets file as ``wrk/targets.lua``. Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

# Requests in flight at most (connections): beyond, a request waits, and its wait counts.
MAX_IN_FLIGHT = 64


def load_targets(path: str, host: str) -> list[bytes]:
    requests = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        method, target, headers, *rest = line.split("\t")
        body = (rest[0] if rest else "").encode()
        lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
        lines += [pair.strip() for pair in headers.split("|") if pair.strip()]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        requests.append(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    return requests


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def exchange(self, request: bytes) -> tuple[int, bool, bytes]:
        """Send one request, read the whole response: (status, may be reused, body)."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
            keep = headers.get("connection", "").lower() != "close"
        else:
            body = await self.reader.read()  # until the server closes
            keep = False
        return status, keep, body


async def run(url: str, targets: list[bytes], rate: float, seconds: float) -> dict[str, object]:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
    idle: list[Connection] = []
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    # The first answer of each refusal status, so that a reader sees why it was refused.
    refusals: dict[int, str] = {}
    errors = dropped = 0
    total = int(rate * seconds)

    slots = asyncio.Semaphore(MAX_IN_FLIGHT)
    give_up = time.perf_counter() + 2 * seconds + 5

    async def one(index: int, due: float) -> None:
        nonlocal errors, dropped
        async with slots:
            if time.perf_counter() > give_up:
                dropped += 1  # the server fell too far behind: counted, not sent
                return
            await send(index, due)

    async def send(index: int, due: float) -> None:
        nonlocal errors
        conn = idle.pop() if idle else None
        try:
            if conn is None:
                conn = Connection(*await asyncio.open_connection(host, port))
            status, keep, body = await conn.exchange(targets[index % len(targets)])
            latencies.append(time.perf_counter() - due)
            statuses[status] = statuses.get(status, 0) + 1
            if status >= 400 and status not in refusals:
                refusals[status] = body[:300].decode("utf-8", "replace")
            if keep:
                idle.append(conn)
            else:
                conn.writer.close()
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            errors += 1
            if conn is not None:
                conn.writer.close()

    start = time.perf_counter() + 0.1
    tasks = []
    for index in range(total):
        due = start + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index, due)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    ordered = sorted(latencies)

    def percentile(p: float) -> float:
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1)] * 1000

    return {
        "rate": rate,
        "requests": total,
        "completed": len(latencies),
        "achieved_rate": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(50), 2),
        "p95_ms": round(percentile(95), 2),
        "p99_ms": round(percentile(99), 2),
        "max_ms": round(ordered[-1] * 1000, 2) if ordered else None,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "refusals": {str(k): v for k, v in sorted(refusals.items())},
        "errors": errors + dropped,
        "dropped": dropped,
    }


def main() -> None:
    url, path, rate, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    targets = load_targets(path, urlparse(url).netloc)
    print(json.dumps(asyncio.run(run(url, targets, rate, seconds))))


if __name__ == "__main__":
    main()
