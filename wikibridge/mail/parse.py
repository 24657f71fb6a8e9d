"""Parse an RFC 5322 message into what a ticket needs, tolerating the mail found in the wild.

The result has ``email.policy.default`` semantics (decoded RFC 2047 headers, charsets, RFC 2231
file names, the body chosen as ``EmailMessage.get_body`` chooses it), but the MIME tree is read
with the ``compat32`` policy and only the headers a ticket needs are decoded: the default
policy parses every header into objects on access, which made it ten times slower, and ingest
parses every message once on its hot path. Anything the standard library cannot decode falls
back to a lossless-enough rendition and is noted in ``defects`` instead of raising: a message
is stored, or quarantined with a reason by the caller, never dropped.
"""

from __future__ import annotations

import codecs
import contextlib
import email.policy
import re
import unicodedata
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

from .mime import decoded_payload, read_tree

_MSGID = re.compile(r"<([^<>\s]+)>")
_LINESEP = re.compile(r"\r|\n")
_SURROGATE = re.compile("[\ud800-\udfff]")
_WHITESPACE = re.compile(r"[\r\n\t]+")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc
# RFC 5321 4.5.3.1.3: a path is at most 256 octets with its angle brackets. A longer "address"
# cannot be delivered to; it would only overflow the 320-character address columns.
MAX_ADDRESS = 254
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
    """What a ticket needs of a message. Every text field can be stored as it is: no NUL, no
    lone surrogate, LF line ends; Message-IDs, Content-IDs, file names and addresses are bounded
    (see MAX_ADDRESS, _ids, safe_filename); display values are cut to their columns by ingest."""

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
    msg = read_tree(raw)
    defects: list[str] = [type(d).__name__ for d in msg.defects]
    headers, raw_headers = _headers(msg, defects)

    def first(name: str) -> str:
        values = headers.get(name, [])
        return values[0] if values else ""

    # Addresses are split on the raw (still encoded) values: a decoded display name may hold
    # a comma or angle brackets ("=?utf-8?q?Doe=2C_John?=") that would split it wrongly.
    def first_raw(name: str) -> str:
        values = raw_headers.get(name, [])
        return values[0] if values else ""

    _, sender_address = _address(first_raw("from"))
    if not sender_address:
        _, sender_address = _address(first_raw("sender") or first_raw("return-path"))
    to = _address_list(raw_headers.get("to", []))
    cc = _address_list(raw_headers.get("cc", []))
    recipients: list[str] = []
    for name in ("delivered-to", "x-original-to", "envelope-to", "to", "cc"):
        for _, addr in getaddresses(raw_headers.get(name, [])):
            addr = addr.lower()
            if addr and addr not in recipients and len(addr) <= MAX_ADDRESS:
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


def _headers(msg: Message, defects: list[str]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """All headers by lower-case name: decoded for display and rules, and raw (unfolded)."""
    decoded: dict[str, list[str]] = {}
    raw: dict[str, list[str]] = {}
    for name, raw_value in msg.raw_items():
        # Unfolded first: folded encoded-words would keep stray spaces between them.
        value = _decode_8bit("".join(_LINESEP.split(str(raw_value))))
        key = name.lower()
        raw.setdefault(key, []).append(_clean(value))
        decoded.setdefault(key, []).append(_clean(_decode_words(value, name, defects)))
    return decoded, raw


def _decode_words(value: str, name: str, defects: list[str]) -> str:
    """RFC 2047 encoded-words decoded; a header the library chokes on is kept leniently."""
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # noqa: BLE001 - broken encoded-words: keep the text as it came
        defects.append(f"BadHeader:{name}")
        return value


def _lenient_header(value: object) -> str:
    text = str(value)
    try:
        return str(make_header(decode_header(text)))
    except Exception:  # noqa: BLE001
        return text.encode("utf-8", "replace").decode("utf-8", "replace")


def _decode_8bit(value: str) -> str:
    """Raw 8-bit bytes in a header (no RFC 2047), which the parser keeps as surrogate escapes.

    The library would show them as U+FFFD unless they are UTF-8; senders without encoding
    mostly write UTF-8 or a Windows code page, so those bytes are decoded like a mislabelled
    body instead.
    """
    if not _SURROGATE.search(value):
        return value
    try:
        data = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that does not stand for a byte: leave it to _clean
        return value
    return _decode_fallback(data)


def _decode_fallback(data: bytes) -> str:
    """Text whose declared charset is missing, unknown or wrong: UTF-8, else windows-1252.

    windows-1252 is what HTML5 assumes for unlabelled legacy text; it covers ISO-8859-1 and
    the smart quotes and euro sign of Windows mailers. Its five unassigned bytes become U+FFFD.
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("windows-1252", "replace")


def _storable(value: str) -> str:
    """Text every database accepts, with LF line ends: PostgreSQL rejects NUL in text columns,
    and a lone surrogate (an undecodable byte the parser escaped) no database driver encodes."""
    value = value.replace("\x00", "").replace("\r\n", "\n")
    return _SURROGATE.sub("\ufffd", value)


def _clean(value: str) -> str:
    """One line, no control characters (they would allow header injection when reused)."""
    value = _WHITESPACE.sub(" ", _storable(value or ""))
    return _CONTROL.sub("", value).strip()


def _address(value: str) -> tuple[str, str]:
    name, addr = parseaddr(value)
    addr = addr.strip().lower()
    if "@" not in addr or len(addr) > MAX_ADDRESS:
        addr = ""
    return name, addr


def _address_list(values: list[str]) -> list[str]:
    """Addresses for display: decoded names, one line each, nothing a database refuses."""
    out = []
    for name, addr in getaddresses(values):
        if not addr:
            continue
        name = _clean(_decode_words(name, "address", [])) if name else ""
        out.append(f"{name} <{addr}>" if name else _clean(addr))
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
    """A text part in its declared charset, with LF line ends and nothing a database refuses.

    The parser keeps the line ends it was given, so the same mail read from a Maildir (LF) and
    received over SMTP (CRLF) would otherwise differ.
    """
    payload = decoded_payload(part)
    if payload is None:
        return ""
    return _storable(_decode_charset(payload, part.get_content_charset() or "us-ascii", defects))


def _decode_charset(payload: bytes, charset: str, defects: list[str]) -> str:
    try:
        return payload.decode(charset)
    except UnicodeDecodeError:
        defects.append("UndecodableText")
        # Text labelled UTF-8 or ASCII that is not is nearly always a Windows code page (the
        # library's errors="replace" would turn every accent into U+FFFD); any other label is
        # believed, with the bad bytes replaced.
        if codecs.lookup(charset).name not in ("utf-8", "ascii"):
            with contextlib.suppress(ValueError):
                return payload.decode(charset, "replace")
    except (LookupError, ValueError):  # an unknown label, or a codec that is not for text
        defects.append("UnknownCharset")
    return _decode_fallback(payload)


def _find_body(part: Message, subtype: str, depth: int = 0) -> Message | None:
    """The first text/<subtype> body part, searched as ``EmailMessage.get_body`` searches:
    attachments are skipped, multipart/related is entered through its start part."""
    if depth > 50 or (part.get_content_disposition() or "") == "attachment":
        return None
    maintype, _, sub = part.get_content_type().partition("/")
    if maintype == "text":
        return part if sub == subtype else None
    if maintype != "multipart" or not part.is_multipart():
        return None
    payload = part.get_payload()
    subparts = [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []
    if sub == "related":
        start = part.get_param("start")
        chosen = next((p for p in subparts if start and p.get("content-id") == start), None)
        subparts = [chosen or subparts[0]] if subparts else []
    for subpart in subparts:
        found = _find_body(subpart, subtype, depth + 1)
        if found is not None:
            return found
    return None


def _bodies(msg: Message, defects: list[str]) -> tuple[str, str, list[ParsedAttachment]]:
    """The text and HTML bodies, and everything else as attachments (nested mail included)."""
    text_part = _find_body(msg, "plain")
    html_part = _find_body(msg, "html")
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
                text = _storable(att.data.decode("utf-8", "replace"))
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
    ctype = _clean(part.get_content_type())  # stored: a NUL in it would be refused
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
    decoded = decoded_payload(part)
    data = decoded if decoded is not None else str(part.get_payload()).encode("utf-8", "replace")
    try:
        filename = str(part.get_filename() or "")
        # RFC 2047 inside a parameter is not standard, but common (Outlook, Thunderbird).
        filename = _decode_words(filename, "filename", defects)
    except Exception:  # noqa: BLE001
        defects.append("BadFilename")
        filename = ""
    disposition = (part.get_content_disposition() or "").lower()
    cid = _clean(str(part.get("content-id", "") or "")).strip("<>")
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
    data = decoded_payload(part)
    return data if data is not None else str(payload).encode("utf-8", "replace")


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
    if name.split(".")[0].rstrip(" ").upper() in _WINDOWS_DEVICES:
        # Saved under such a name on Windows, "CON.txt" writes to a device, not a file.
        name = f"_{name}"
    return name


_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{port}{n}" for port in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")}
)


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
