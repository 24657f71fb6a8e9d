"""parse_message on corpus messages: what a volunteer sees of each kind of mail in the wild."""

from __future__ import annotations

import dataclasses
import email
import email.policy
from pathlib import Path

import pytest

from tests.mail.mailcorpus import corpus, corpus_files
from wikibridge.mail.parse import ParsedMessage, parse_message
from wikibridge.tickets.numbers import is_valid, number_in_subject


def parsed(name: str) -> ParsedMessage:
    return parse_message(corpus(name))


def _strings(value: object) -> list[str]:
    """Every string inside a parsed message (fields, headers, attachment names)."""
    if isinstance(value, str):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [s for f in dataclasses.fields(value) for s in _strings(getattr(value, f.name))]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list | tuple):
        return [s for item in value for s in _strings(item)]
    return []


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_every_corpus_message_parses_to_storable_text(path: Path) -> None:
    msg = parse_message(path.read_bytes())
    for text in _strings(msg):
        assert "\x00" not in text
        text.encode("utf-8")  # no lone surrogates: every database driver can encode it
        assert "\r\n" not in text
    assert len(msg.sender_address) <= 254
    assert len(msg.message_id) <= 1000
    for att in msg.attachments:
        assert len(att.filename) <= 255 and len(att.content_id) <= 500


def test_plain_ascii() -> None:
    msg = parsed("plain-ascii.eml")
    assert msg.subject == "Incorrect birth date in the article about my father"
    assert msg.sender == "Jonathan Miller <j.miller@example.com>"
    assert msg.sender_address == "j.miller@example.com"
    assert msg.message_id == "20240212091405.4411@mail.example.com"
    assert msg.recipient_addresses == ["info-en@example.org"]
    assert "3 May 1941" in msg.body_text
    assert not (msg.auto_submitted or msg.bounce or msg.spam_flag or msg.defects)


@pytest.mark.parametrize(
    ("name", "subject", "sender"),
    [
        ("utf8-8bit.eml", "Fehler im Artikel „Kölner Dom“", "Jürgen Weißmüller"),
        ("utf8-quoted-printable.eml", "Autorisation pour la photo du château", "Céline Lefèvre"),
        ("utf8-base64.eml", "Прохання видалити номер телефону", "Оксана Ковальчук"),
        ("iso-8859-1.eml", "Información errónea sobre la compañía", "José María Ibáñez"),
        ("rfc2047-base64.eml", "Άδεια χρήσης φωτογραφίας", "Νίκος Παπαδόπουλος"),
        ("gb2312.eml", "关于维基百科条目的更正请求", "张伟"),
        ("shift-jis.eml", "写真の利用許諾について", "山田"),
        ("koi8-r.eml", "Ошибка в статье о городе", "Ivan Petrov"),
        ("8bit-header-utf8.eml", "Fejl i artiklen om Århus Domkirke – årstal", "Søren Kierkegård"),
        # Raw ISO-8859-1 in headers: decoded as windows-1252, not shown as U+FFFD.
        ("8bit-header-latin1.eml", "Grüße und eine Frage zur Lizenz", "Renée Müller"),
    ],
)
def test_encoded_subject_and_sender_are_decoded(name: str, subject: str, sender: str) -> None:
    msg = parsed(name)
    assert msg.subject == subject
    assert msg.sender.startswith(sender + " <")
    assert "@" in msg.sender_address


def test_rfc2047_q_and_b_words_mixed_and_folded() -> None:
    msg = parsed("rfc2047-q-mixed-folded.eml")
    # Unfolding must not leave extra spaces; the space between the words is inside the second.
    assert msg.subject == "Re: Fråga om artikeln »Göteborgs spårvägar« and the översikt page"
    # CPython keeps the blank between adjacent encoded-words of a display name (RFC 2047 6.2
    # says to drop it), hence the normalised comparison.
    assert " ".join(msg.sender.split()) == "Björn Åkerström <bjorn.akerstrom@example.net>"
    assert msg.sender_address == "bjorn.akerstrom@example.net"


def test_broken_encoded_words_are_kept_readable() -> None:
    msg = parsed("rfc2047-broken.eml")
    assert msg.subject.startswith("Error in article")
    assert "unterminated" in msg.subject  # not decodable as a whole: kept, not dropped
    assert msg.sender_address == "hanna.mueller@example.com"


def test_windows_1252_smart_quotes_and_euro() -> None:
    text = parsed("windows-1252.eml").body_text
    assert "says \u201centry is free\u201d but it costs \u20ac12 \u2013 it has" in text
    assert "museum\u2019s own page" in text


def test_gb2312_shift_jis_koi8_r_bodies() -> None:
    assert "维基百科关于我们学校的条目中，建校年份写错了" in parsed("gb2312.eml").body_text
    assert "富士山の写真を CC BY-SA 4.0 で公開" in parsed("shift-jis.eml").body_text
    assert "неверное население" in parsed("koi8-r.eml").body_text
    assert "¿Podrían corregirlo?" in parsed("iso-8859-1.eml").body_text
    assert "Château de Chenonceau" in parsed("utf8-quoted-printable.eml").body_text
    assert "особистий номер телефону" in parsed("utf8-base64.eml").body_text


def test_unknown_and_wrong_charsets_fall_back_to_windows_1252() -> None:
    unknown = parsed("unknown-charset.eml")
    assert "één keer" in unknown.body_text
    assert "UnknownCharset" in unknown.defects
    mislabelled = parsed("latin1-labelled-utf8.eml")
    assert "la préfecture est à Rouen" in mislabelled.body_text
    assert "\ufffd" not in mislabelled.body_text
    assert mislabelled.sender.startswith("François <")
    assert "UndecodableText" in mislabelled.defects


def test_rfc2231_file_names() -> None:
    [pdf] = parsed("rfc2231-filename.eml").attachments
    assert pdf.filename == "Autorisation signée – Zoë.pdf"
    assert pdf.data.startswith(b"%PDF-")
    [png] = parsed("rfc2231-continuation.eml").attachments
    assert png.filename == "Prohlášení o licenci český hrad.png"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("traversal-windows.eml", ["evil.exe", "hosts"]),
        ("traversal-unix.eml", ["passwd", "bashrc", "attachment-3.bin"]),
    ],
)
def test_path_traversal_names_become_safe_basenames(name: str, expected: list[str]) -> None:
    names = [a.filename for a in parsed(name).attachments]
    assert names == expected
    for filename in names:
        assert "/" not in filename and "\\" not in filename
        assert not filename.startswith(".")


def test_attachments_keep_their_bytes() -> None:
    [png] = parsed("attachment-png.eml").attachments
    assert (png.filename, png.content_type) == ("pattern-study.png", "image/png")
    assert png.data.startswith(b"\x89PNG\r\n\x1a\n")
    [jpeg] = parsed("attachment-jpeg.eml").attachments
    assert jpeg.filename == "IMG_20230811_174502.jpg"
    assert jpeg.data.startswith(b"\xff\xd8") and jpeg.data.endswith(b"\xff\xd9")
    [pdf] = parsed("attachment-pdf.eml").attachments
    assert pdf.content_type == "application/pdf" and pdf.data.startswith(b"%PDF-1.4")
    [tnef] = parsed("tnef.eml").attachments
    assert (tnef.filename, tnef.content_type) == ("winmail.dat", "application/ms-tnef")
    assert tnef.data.startswith(b"\x78\x9f\x3e\x22")


def test_nested_rfc822_is_kept_as_an_attachment() -> None:
    msg = parsed("forwarded-rfc822.eml")
    assert "photographer's permission" in msg.body_text
    [forwarded] = msg.attachments
    assert forwarded.content_type == "message/rfc822"
    inner = email.message_from_bytes(forwarded.data, policy=email.policy.default)
    assert inner["subject"] == "Re: Can I use your photo on Wikipedia?"
    assert inner["message-id"] == "<inner-0022@example.com>"
    deep = parsed("nested-multipart-deep.eml")
    assert deep.body_text.startswith("Przesyłam zgodę autora zdjęcia.")
    assert [a.content_type for a in deep.attachments] == ["message/rfc822"]


def test_html_only_mail_gets_a_text_rendition() -> None:
    msg = parsed("html-only.eml")
    assert msg.body_html.startswith("<!DOCTYPE html>")
    assert msg.body_text.startswith("Dear press team,")
    assert "Ana María Gómez" in msg.body_text
    assert "<" not in msg.body_text and "font-family" not in msg.body_text


def test_script_and_handlers_do_not_reach_the_text() -> None:
    msg = parsed("html-script.eml")
    assert "<script" in msg.body_html  # kept raw; sanitised when shown
    assert "Dear user, your account will be closed." in msg.body_text
    assert "Click here to verify" in msg.body_text
    for fragment in ("SHOULD-NOT-APPEAR", "document.cookie", "javascript:", "alert", "onload"):
        assert fragment not in msg.body_text


def test_inline_image_with_content_id() -> None:
    msg = parsed("inline-image-cid.eml")
    assert 'src="cid:photo-0047@example.com"' in msg.body_html
    assert msg.body_text == "This is the photo:\n\nI release it under CC BY-SA 4.0."
    [image] = msg.attachments
    assert image.content_id == "photo-0047@example.com"
    assert image.inline and image.content_type == "image/png"


def test_calendar_invite() -> None:
    msg = parsed("calendar-invite.eml")
    assert msg.body_text.startswith("You have been invited to")
    types = [a.content_type for a in msg.attachments]
    assert types == ["text/calendar", "application/ics"]
    assert b"SUMMARY:Call about the photo donation" in msg.attachments[0].data


@pytest.mark.parametrize(
    ("name", "auto", "bounce"),
    [
        ("dsn-bounce.eml", True, True),
        ("auto-reply.eml", True, False),
        ("out-of-office.eml", True, False),
        ("precedence-bulk.eml", True, False),
        ("mailing-list.eml", True, False),
        ("plain-ascii.eml", False, False),
        ("ticket-reply.eml", False, False),
    ],
)
def test_bounce_auto_reply_and_bulk_flags(name: str, auto: bool, bounce: bool) -> None:
    msg = parsed(name)
    assert (msg.auto_submitted, msg.bounce) == (auto, bounce)


def test_bounce_keeps_the_delivery_status() -> None:
    msg = parsed("dsn-bounce.eml")
    assert msg.sender_address == "mailer-daemon@mx.example.net"
    assert "550 5.1.1 User unknown" in msg.body_text
    assert "message/delivery-status" in [a.content_type for a in msg.attachments]


def test_spam_flag_and_score() -> None:
    flagged = parsed("spam-flag.eml")
    assert flagged.spam_flag
    assert flagged.spam_score == 9.0  # X-Spam-Level: nine stars
    scored = parsed("spam-score.eml")
    assert not scored.spam_flag
    assert scored.spam_score == 12.3
    assert parsed("plain-ascii.eml").spam_score is None


def test_missing_from_and_sender_fallback() -> None:
    missing = parsed("missing-from.eml")
    assert missing.sender_address == "" and missing.sender == ""
    assert missing.subject == "Anonymous tip about an article"
    assert parsed("sender-only.eml").sender_address == "list-owner@example.net"


def test_missing_and_duplicate_message_ids() -> None:
    assert parsed("missing-message-id.eml").message_id == ""
    first, second = parsed("duplicate-message-id-a.eml"), parsed("duplicate-message-id-b.eml")
    assert first.message_id == second.message_id == "same-id-0040@example.net"
    assert first.body_text != second.body_text


def test_ticket_reply_threading() -> None:
    msg = parsed("ticket-reply.eml")
    assert number_in_subject(msg.subject) == "2016060210016939"
    assert is_valid("2016060210016939")
    assert msg.in_reply_to == ["2016060210016939.5f3c2a@tickets.example.org"]
    assert msg.references == [
        "original-0001@example.com",
        "2016060210016939.5f3c2a@tickets.example.org",
    ]
    assert msg.thread_ids == [
        "2016060210016939.5f3c2a@tickets.example.org",
        "original-0001@example.com",
    ]
    assert number_in_subject(parsed("out-of-office.eml").subject) == "2024030710000039"


def test_nul_bytes_are_removed_from_text() -> None:
    msg = parsed("nul-bytes.eml")
    assert msg.subject == "Text with a NUL byte"
    assert msg.sender_address == "nora@example.com"
    assert msg.body_text == "Before the NULafter the NUL."
    [page] = msg.attachments
    assert page.filename == "page.html"
    assert page.content_id == "cidnul@example.com"
    assert b"\x00" in page.data  # attachment bytes are kept exactly


def test_line_endings_do_not_matter() -> None:
    assert parsed("crlf.eml").body_text == "Merci de retirer mon adresse de la page de discussion."
    lf = parse_message(corpus("lf-only.eml"))
    crlf = parse_message(corpus("lf-only.eml").replace(b"\n", b"\r\n"))
    assert (lf.subject, lf.body_text, lf.message_id) == (
        crlf.subject,
        crlf.body_text,
        crlf.message_id,
    )
    assert "\r" not in parsed("attachment-jpeg.eml").body_text


def test_long_subject_and_many_recipients() -> None:
    subject = parsed("long-subject.eml").subject
    assert len(subject) > 1000  # parse keeps it whole; ingest cuts it to the column
    assert "  " not in subject and "number 59 in the article" in subject
    msg = parsed("many-recipients.eml")
    assert len(msg.to) == 120 and len(msg.cc) == 80
    assert msg.to[0] == "Recipient 001 <person001@example.org>"
    assert "cc080@example.net" in msg.recipient_addresses
    assert not msg.defects  # folded address headers parse normally


def test_overlong_values_are_bounded() -> None:
    msg = parsed("overlong-values.eml")
    assert msg.sender_address == ""  # longer than RFC 5321 allows: not an address
    assert msg.sender.startswith("Long Address <xxx")
    assert len(msg.message_id) == 900
    [att] = msg.attachments
    assert len(att.filename) <= 200 and att.filename.endswith(".txt")
    assert len(att.content_id) == 500


@pytest.mark.parametrize(
    ("name", "defect"),
    [
        ("missing-boundary.eml", "NoBoundaryInMultipartDefect"),
        ("multipart-no-parts.eml", "StartBoundaryNotFoundDefect"),
        ("unclosed-boundary.eml", "CloseBoundaryNotFoundDefect"),
        ("header-without-colon.eml", "MissingHeaderBodySeparatorDefect"),
    ],
)
def test_broken_mime_is_noted_and_kept(name: str, defect: str) -> None:
    msg = parsed(name)
    assert defect in msg.defects
    kept = msg.body_text + "".join(a.data.decode("utf-8", "replace") for a in msg.attachments)
    assert kept.strip()  # what could not be structured is still there to read


def test_broken_mime_contents() -> None:
    assert "grandmother's house" in parsed("missing-boundary.eml").attachments[0].data.decode()
    unclosed = parsed("unclosed-boundary.eml")
    assert unclosed.body_text.startswith("Segue a autorização em anexo.")
    assert [a.filename for a in unclosed.attachments] == ["autorizacao.png"]
    bad = parsed("bad-base64.eml")
    assert bad.body_text.startswith("The article has an error")
    assert [a.filename for a in bad.attachments] == ["scan.bin"]
    no_colon = parsed("header-without-colon.eml")
    assert no_colon.sender_address == "mei.tanaka@example.com"
    assert "My name is spelled wrongly" in no_colon.body_text
