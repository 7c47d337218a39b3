"""The hash chain of a case's history: each event's hash covers its content and the previous
event's hash, so editing, removing or reordering any event breaks every later link."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def canonical_time(at: datetime) -> str:
    """UTC, microseconds, ISO 8601: the same text whatever the database returns."""
    if at.tzinfo is None:
        raise ValueError("event times must carry a time zone")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def event_hash(prev_hash: str, payload: Mapping[str, Any]) -> str:
    body = (prev_hash + "\n" + canonical_json(payload)).encode("utf-8")
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True)
class ChainLink:
    """One stored event as the chain sees it."""

    seq: int
    payload: Mapping[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class BrokenLink:
    seq: int
    reason: str


def first_broken_link(links: Iterable[ChainLink], head: str | None = None) -> BrokenLink | None:
    """The first event whose stored links do not match its recomputed hash, in seq order
    starting at 1; `head` (the hash the case records as its last) detects removed tails."""
    expected_prev = GENESIS
    expected_seq = 1
    for link in links:
        if link.seq != expected_seq:
            return BrokenLink(link.seq, f"expected event {expected_seq}, found {link.seq}")
        if link.prev_hash != expected_prev:
            return BrokenLink(link.seq, "previous-hash link does not match the event before it")
        if event_hash(link.prev_hash, link.payload) != link.hash:
            return BrokenLink(link.seq, "content does not match its hash (edited)")
        expected_prev = link.hash
        expected_seq += 1
    if head is not None and head != expected_prev:
        return BrokenLink(expected_seq, "the case's last recorded hash is not the last event's")
    return None
