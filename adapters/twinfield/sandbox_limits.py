"""Twinfield's Fair Use Policy in the sandbox (research notes §6.1).

* Cost per request: "Query" requests 1 credit, all others 3. Query = HTTP GET, the deleted
  transactions service, SOAP actions starting with Get/Query/Search/Load, and ProcessXml whose
  root is ``list``, ``read``, ``columns``, ``accountcode`` or ``accountcodes`` (Twinfield docs:
  Fair Use Policy).
* Buckets of credits per minute: per IP 1000 (docs); per client id 1000 certified / 50
  uncertified and per client id + organisation 500 / 25 (numbers quoted by CodeMill from the same
  page: the docs excerpt we have is truncated, so these are UNVERIFIED).
* Concurrency: at most 20 requests in flight per client id and 10 per client id + organisation
  (CodeMill, UNVERIFIED).
* Over a limit: HTTP 429 with ``Retry-After``; headers ``X-RateLimit-Limit``,
  ``X-RateLimit-Remaining`` and ``X-RateLimit-Credited`` (CodeMill, UNVERIFIED: which bucket the
  headers describe is not documented; the sandbox reports the tightest one, i.e. the one with the
  fewest credits left).

Buckets refill continuously (limit/60 credits a second, at most ``limit``): a token-bucket
reading of "credits per minute" (UNVERIFIED: a fixed minute window is the alternative; switch
``refill`` to reset at the minute boundary to model that).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

QUERY_ROOTS = frozenset({"list", "read", "columns", "accountcode", "accountcodes"})
QUERY_ACTION_PREFIXES = ("Get", "Query", "Search", "Load")


def credits_for_processxml(root: str) -> int:
    return 1 if root in QUERY_ROOTS else 3


def credits_for_action(soap_action: str) -> int:
    name = soap_action.strip('"').rsplit("/", 1)[-1]
    return 1 if name.startswith(QUERY_ACTION_PREFIXES) else 3


@dataclass(frozen=True)
class FairUseLimits:
    per_ip: int = 1000
    per_client: int = 1000
    per_client_org: int = 500
    concurrent_client: int = 20
    concurrent_client_org: int = 10

    @classmethod
    def certified(cls) -> FairUseLimits:
        return cls()

    @classmethod
    def uncertified(cls) -> FairUseLimits:
        return cls(per_client=50, per_client_org=25)


@dataclass
class _Bucket:
    limit: int
    level: float
    at: float

    def refill(self, now: float) -> None:
        self.level = min(float(self.limit), self.level + (now - self.at) * self.limit / 60.0)
        self.at = now


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    credited: int
    retry_after: int = 0


class FairUse:
    """Credit buckets and in-flight counters; thread-safe."""

    def __init__(self, limits: FairUseLimits) -> None:
        self.limits = limits
        self._buckets: dict[str, _Bucket] = {}
        self._inflight: dict[str, int] = {}
        self._lock = threading.Lock()

    def _bucket(self, key: str, limit: int, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(limit, float(limit), now)
        bucket.refill(now)
        return bucket

    def charge(self, *, ip: str, client_id: str, organisation: str, credits: int, now: float) -> Verdict:
        """Take ``credits`` from every bucket, or none when one of them has too few."""
        with self._lock:
            buckets = [
                self._bucket(f"ip:{ip}", self.limits.per_ip, now),
                self._bucket(f"client:{client_id}", self.limits.per_client, now),
                self._bucket(f"org:{client_id}:{organisation}", self.limits.per_client_org, now),
            ]
            short = [b for b in buckets if b.level < credits]
            if short:
                worst = max(short, key=lambda b: (credits - b.level) * 60.0 / b.limit)
                wait = (credits - worst.level) * 60.0 / worst.limit
                return Verdict(False, worst.limit, max(0, math.floor(worst.level)), 0, max(1, math.ceil(wait)))
            for bucket in buckets:
                bucket.level -= credits
            tight = min(buckets, key=lambda b: b.level)
            return Verdict(True, tight.limit, max(0, math.floor(tight.level)), credits)

    def enter(self, client_id: str, organisation: str) -> bool:
        """Count one request in flight; False (and nothing counted) when a concurrency limit is met."""
        keys = ((f"client:{client_id}", self.limits.concurrent_client),
                (f"org:{client_id}:{organisation}", self.limits.concurrent_client_org))
        with self._lock:
            if any(self._inflight.get(k, 0) >= limit for k, limit in keys):
                return False
            for k, _ in keys:
                self._inflight[k] = self._inflight.get(k, 0) + 1
            return True

    def leave(self, client_id: str, organisation: str) -> None:
        with self._lock:
            for k in (f"client:{client_id}", f"org:{client_id}:{organisation}"):
                self._inflight[k] = max(0, self._inflight.get(k, 0) - 1)
