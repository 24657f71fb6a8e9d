"""Realistic generated mail for benchmarks: Zipf-distributed senders and words, replies."""

from __future__ import annotations

import random
import textwrap
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

WORDS = [
    "article",
    "photo",
    "licence",
    "permission",
    "wikipedia",
    "commons",
    "image",
    "copyright",
    "author",
    "source",
    "biography",
    "deletion",
    "request",
    "error",
    "correction",
    "birth",
    "date",
    "company",
    "page",
    "edit",
    "revert",
    "vandalism",
    "claim",
    "reference",
    "citation",
    "press",
    "interview",
    "statement",
    "release",
    "consent",
    "email",
    "ticket",
    "volunteer",
    "question",
    "answer",
    "please",
    "thank",
    "regards",
    "hello",
    "help",
    "urgent",
    "private",
    "information",
    "removal",
    "privacy",
    "address",
    "phone",
    "family",
    "name",
    "death",
    "living",
    "person",
]


def _zipf_pick(rng: random.Random, items: list[str], s: float = 1.1) -> str:
    weights = [1 / (i + 1) ** s for i in range(len(items))]
    return rng.choices(items, weights)[0]


def messages(n: int, *, reply_share: float = 1 / 3, seed: int = 1) -> list[bytes]:
    """n messages; about reply_share of them answer an earlier one (In-Reply-To)."""
    return [raw for raw, _ in threads(n, reply_share=reply_share, seed=seed)]


def threads(n: int, *, reply_share: float = 1 / 3, seed: int = 1) -> list[tuple[bytes, int | None]]:
    """The messages of :func:`messages`, each with the index of the message that started its
    thread (None for a message that starts one). A reply's subject is ``Re: `` and the first
    message's subject, so that a ticket system's subject tag can be put in after ``Re: ``."""
    rng = random.Random(seed)
    senders = [f"sender{i}@example.net" for i in range(max(10, n // 5))]
    sent: list[tuple[str, str, str, int]] = []  # (message-id, subject, sender, thread start)
    out: list[tuple[bytes, int | None]] = []
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(n):
        msg = EmailMessage()
        root: int | None = None
        if sent and rng.random() < reply_share:
            parent_id, subject, sender, root = rng.choice(sent)
            msg["In-Reply-To"] = f"<{parent_id}>"
            msg["References"] = f"<{parent_id}>"
            subject = f"Re: {subject}"
        else:
            sender = _zipf_pick(rng, senders)
            subject = " ".join(_zipf_pick(rng, WORDS) for _ in range(rng.randint(3, 8)))
        mid = f"bench-{seed}-{i}@example.net"
        msg["From"] = f"Sender {sender.split('@')[0]} <{sender}>"
        msg["To"] = rng.choice(["info-en@example.org", "permissions@example.org"])
        msg["Subject"] = subject
        msg["Date"] = format_datetime(start + timedelta(minutes=i))
        msg["Message-ID"] = f"<{mid}>"
        body = " ".join(_zipf_pick(rng, WORDS) for _ in range(rng.randint(30, 300)))
        body = textwrap.fill(body, 72)  # lines as mail clients write them (SMTP allows 998)
        msg.set_content(f"Hello,\n\n{body}\n\nRegards,\n{sender}\n")
        if rng.random() < 0.1:
            msg.add_attachment(
                rng.randbytes(rng.randint(2_000, 60_000)),
                maintype="image",
                subtype="jpeg",
                filename=f"photo-{i}.jpg",
            )
        sent.append((mid, subject.removeprefix("Re: "), sender, i if root is None else root))
        out.append((msg.as_bytes(), root))
    return out
