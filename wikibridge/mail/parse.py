"""Parse an RFC 5322 message into what a ticket needs, tolerating the mail found in the wild.

Parsing uses ``email.policy.default`` semantics (decoded RFC 2047 headers, charsets, RFC 2231
file names). Anything the standard library cannot decode falls back to a lossless-enough
rendition and is noted in ``defects`` instead of raising: a message is stored, or quarantined
with a reason by the caller, never dropped.
"""

from __future__ import annotations

import email
import email.policy
import re
import unicodedata
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

_MSGID = re.compile(r"<([^<>\s]+)>")
_AUTO_PRECEDENCE = ("bulk", "junk", "list", "auto_reply")
MAX_PARTS = 500  # deeper or wider MIME trees are cut off and flagged


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes
    content_id: str = ""
    inline: bool = False


@dataclass
class ParsedMessage:
    message_id: str
    subject: str
    sender: str  # the From header as displayed
    sender_address: str  # lower case; "" when there is none
    to: list[str]
    cc: list[str]
    recipient_addresses: list[str]  # lower case: Delivered-To, X-Original-To, To, Cc
    in_reply_to: list[str]
    references: list[str]
    body_text: str
    body_html: str
    attachments: list[ParsedAttachment] = field(default_factory=list)
    headers: dict[str, list[str]] = field(default_factory=dict)  # lower-case names
    auto_submitted: bool = False  # RFC 3834 Auto-Submitted, Precedence: bulk/junk/list, ...
    bounce: bool = False  # delivery status notification (multipart/report) or mailer-daemon
    spam_flag: bool = False
    spam_score: float | None = None
    language: str = ""  # Content-Language when given
    defects: list[str] = field(default_factory=list)

    def header(self, name: str) -> str:
        values = self.headers.get(name.lower(), [])
        return values[0] if values else ""

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this message refers to, nearest first."""
        seen: list[str] = []
        for mid in [*self.in_reply_to, *reversed(self.references)]:
            if mid not in seen:
                seen.append(mid)
        return seen


def parse_message(raw: bytes) -> ParsedMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    defects: list[str] = [type(d).__name__ for d in msg.defects]
    headers = _headers(msg, defects)

    def first(name: str) -> str:
        values = headers.get(name, [])
        return values[0] if values else ""

    sender_name, sender_address = _address(first("from"))
    if not sender_address:
        sender_name, sender_address = _address(first("sender") or first("return-path"))
    to = _address_list(headers.get("to", []))
    cc = _address_list(headers.get("cc", []))
    recipients: list[str] = []
    for name in ("delivered-to", "x-original-to", "envelope-to", "to", "cc"):
        for _, addr in getaddresses(headers.get(name, [])):
            addr = addr.lower()
            if addr and addr not in recipients:
                recipients.append(addr)

    text, html, attachments = _bodies(msg, defects)
    if not text and html:
        text = html_to_text(html)

    content_type = msg.get_content_type()
    auto = _is_auto(headers)
    bounce = content_type == "multipart/report" or sender_address.startswith(
        ("mailer-daemon@", "postmaster@")
    )
    score = _spam_score(first("x-spam-score") or first("x-spam-level"))
    return ParsedMessage(
        message_id=_first_id(first("message-id")),
        subject=_clean(first("subject")),
        sender=_clean(first("from")) or sender_address,
        sender_address=sender_address,
        to=to,
        cc=cc,
        recipient_addresses=recipients,
        in_reply_to=_ids(first("in-reply-to")),
        references=_ids(" ".join(headers.get("references", []))),
        body_text=text,
        body_html=html,
        attachments=attachments,
        headers=headers,
        auto_submitted=auto or bounce,
        bounce=bounce,
        spam_flag=first("x-spam-flag").strip().lower() == "yes",
        spam_score=score,
        language=first("content-language").split(",")[0].strip().lower()[:12],
        defects=sorted(set(defects)),
    )


def _headers(msg: Message, defects: list[str]) -> dict[str, list[str]]:
    """All headers, decoded; a header the policy cannot parse is decoded leniently."""
    out: dict[str, list[str]] = {}
    for name, raw_value in msg.raw_items():
        try:
            value = str(msg.policy.header_factory(name, raw_value))  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - any header the library chokes on is kept leniently
            defects.append(f"BadHeader:{name}")
            value = _lenient_header(raw_value)
        out.setdefault(name.lower(), []).append(_clean(value))
    return out


def _lenient_header(value: object) -> str:
    text = str(value)
    try:
        return str(make_header(decode_header(text)))
    except Exception:  # noqa: BLE001
        return text.encode("utf-8", "replace").decode("utf-8", "replace")


def _clean(value: str) -> str:
    """One line, no control characters (they would allow header injection when reused)."""
    value = re.sub(r"[\r\n\t]+", " ", value or "")
    value = "".join(ch for ch in value if unicodedata.category(ch) != "Cc")
    return value.strip()


def _address(value: str) -> tuple[str, str]:
    name, addr = parseaddr(value)
    addr = addr.strip().lower()
    if "@" not in addr:
        addr = ""
    return name, addr


def _address_list(values: list[str]) -> list[str]:
    out = []
    for name, addr in getaddresses(values):
        if not addr:
            continue
        out.append(f"{name} <{addr}>" if name else addr)
    return out


def _first_id(value: str) -> str:
    ids = _ids(value)
    if ids:
        return ids[0]
    value = value.strip().strip("<>").strip()
    return value[:900] if value and " " not in value else ""


def _ids(value: str) -> list[str]:
    return [m[:900] for m in _MSGID.findall(value or "")][:200]


def _is_auto(headers: dict[str, list[str]]) -> bool:
    auto = (headers.get("auto-submitted") or ["no"])[0].strip().lower()
    if auto and not auto.startswith("no"):
        return True
    precedence = (headers.get("precedence") or [""])[0].strip().lower()
    if precedence in _AUTO_PRECEDENCE:
        return True
    if any(h in headers for h in ("x-autoreply", "x-autorespond", "list-id")):
        return True
    suppress = (headers.get("x-auto-response-suppress") or [""])[0].lower()
    return any(word in suppress for word in ("all", "oof", "autoreply"))


def _spam_score(value: str) -> float | None:
    value = value.strip()
    if not value:
        return None
    if set(value) == {"*"}:  # SpamAssassin's X-Spam-Level: one star per point
        return float(len(value))
    m = re.match(r"-?\d+(\.\d+)?", value)
    return float(m.group(0)) if m else None


def _decode_text(part: Message, defects: list[str]) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
        if isinstance(content, bytes):
            return content.decode("utf-8", "replace")
    except (LookupError, UnicodeError, ValueError, AssertionError):
        defects.append("UndecodableText")
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    for candidate in (charset, "utf-8", "windows-1252"):
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1")


def _bodies(msg: EmailMessage, defects: list[str]) -> tuple[str, str, list[ParsedAttachment]]:
    """The text and HTML bodies, and everything else as attachments (nested mail included)."""
    text_part = html_part = None
    try:
        text_part = msg.get_body(preferencelist=("plain",))
        html_part = msg.get_body(preferencelist=("html",))
    except Exception:  # noqa: BLE001 - broken structure: fall back to a walk
        defects.append("BrokenStructure")
    if text_part is None and html_part is None and msg.get_content_maintype() == "text":
        text_part = msg
    text = _decode_text(text_part, defects) if text_part is not None else ""
    html = _decode_text(html_part, defects) if html_part is not None else ""
    if html_part is not None and html_part.get_content_type() != "text/html":
        html = ""
    attachments: list[ParsedAttachment] = []
    _collect(msg, {id(text_part), id(html_part)}, attachments, defects, depth=0)
    if not text and not html:
        for att in attachments:
            if att.content_type == "text/plain" and not att.inline:
                text = att.data.decode("utf-8", "replace")
                break
    return text, html, attachments


def _collect(
    part: Message,
    bodies: set[int],
    out: list[ParsedAttachment],
    defects: list[str],
    depth: int,
) -> None:
    if len(out) >= MAX_PARTS or depth > 50:
        defects.append("TooManyParts")
        return
    ctype = part.get_content_type()
    if ctype == "message/rfc822" or ctype.startswith("message/") and ctype != "message/rfc822":
        data = _part_bytes(part)
        name = "forwarded-message.eml" if ctype == "message/rfc822" else "status.txt"
        out.append(ParsedAttachment(safe_filename(name, len(out)), ctype, data))
        return
    if part.is_multipart():
        payload = part.get_payload()
        if isinstance(payload, list):
            for sub in payload:
                if isinstance(sub, Message):
                    _collect(sub, bodies, out, defects, depth + 1)
        return
    if id(part) in bodies:
        return
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        data = str(part.get_payload()).encode("utf-8", "replace")
    try:
        filename = part.get_filename() or ""
    except Exception:  # noqa: BLE001
        defects.append("BadFilename")
        filename = ""
    disposition = (part.get_content_disposition() or "").lower()
    cid = str(part.get("content-id", "") or "").strip().strip("<>")
    out.append(
        ParsedAttachment(
            filename=safe_filename(filename, len(out), ctype),
            content_type=ctype,
            data=data,
            content_id=cid[:500],
            inline=disposition == "inline" or bool(cid and not filename),
        )
    )


def _part_bytes(part: Message) -> bytes:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        try:
            return payload[0].as_bytes(policy=email.policy.compat32)
        except Exception:  # noqa: BLE001
            return str(payload[0]).encode("utf-8", "replace")
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else str(payload).encode("utf-8", "replace")


_EXTENSIONS = {
    "text/plain": ".txt",
    "text/html": ".html",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "application/pdf": ".pdf",
}


def safe_filename(name: str, index: int, content_type: str = "") -> str:
    """A display name that cannot address a path: no directories, controls or leading dots."""
    name = _clean(str(name)).replace("\\", "/").split("/")[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if ch not in '<>:"|?*' and unicodedata.category(ch)[0] != "C")
    name = name.strip(" .")
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:190] + dot + ext[:9]) if dot and len(ext) < 10 else name[:200]
    if not name:
        name = f"attachment-{index + 1}{_EXTENSIONS.get(content_type, '.bin')}"
    return name


class _TextExtractor(HTMLParser):
    _BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}
    _SKIP = {"script", "style", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """A plain-text rendition of an HTML-only mail, for search and for quoting in replies."""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - malformed HTML still yields what was read so far
        pass
    text = "".join(parser.parts)
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
