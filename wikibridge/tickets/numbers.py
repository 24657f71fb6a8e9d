"""Ticket numbers in Znuny's DateChecksum format.

``YYYYMMDD`` + SystemID (2 digits) + daily counter (at least 5 digits) + one check digit, as in
Znuny's ``Kernel/System/Ticket/Number/DateChecksum.pm``: the digits are weighted 1, 2, 1, 2, ...
from the left, the sum is taken modulo 10, subtracted from 10, and a result of 10 becomes 1.
Numbers already cited on-wiki (e.g. 2016060210016939) validate with this function.
"""

from __future__ import annotations

import re
from datetime import date

# Znuny's Ticket::Hook "Ticket#" with an empty divider; GetTNByString accepts 4-10 digits, the
# SystemID, then 2-40 digits. We do not require our own SystemID: mail can cite VRTS numbers.
_SUBJECT_HOOK = re.compile(r"\[?Ticket#\s*:?\s*(\d{4,10}\d{2}\d{2,40})\]?", re.IGNORECASE)
_NUMBER = re.compile(r"\d{16,40}")
_HOOK = re.compile(r"\[Ticket#\s*(\d+)\]\s*")


def check_digit(digits: str) -> int:
    """The DateChecksum check digit for the digits before it."""
    total = 0
    weight = 1
    for ch in digits:
        total += weight * int(ch)
        weight = 2 if weight == 1 else 1
    total %= 10
    result = 10 - total
    return 1 if result == 10 else result


def format_number(day: date, system_id: str, counter: int) -> str:
    if not (len(system_id) == 2 and system_id.isdigit()):
        raise ValueError("system_id must be two digits")
    if counter < 0:
        raise ValueError("counter must not be negative")
    body = f"{day:%Y%m%d}{system_id}{counter:05d}"
    return body + str(check_digit(body))


def is_valid(number: str) -> bool:
    """Whether a string is a well-formed DateChecksum number with a plausible date."""
    if not _NUMBER.fullmatch(number):
        return False
    try:
        date(int(number[0:4]), int(number[4:6]), int(number[6:8]))
    except ValueError:
        return False
    if not ("1980" <= number[:4] < "3000"):
        return False
    return check_digit(number[:-1]) == int(number[-1])


def number_in_subject(subject: str) -> str | None:
    """The ticket number in a ``[Ticket#N]`` hook, as Znuny's GetTNByString finds it."""
    m = _SUBJECT_HOOK.search(subject or "")
    return m.group(1) if m else None


def subject_with_hook(number: str, subject: str) -> str:
    """``[Ticket#N] subject``, with any earlier hook for the same number taken out."""
    # One pattern for every number: a pattern per number was compiled anew for each ticket
    # (and pushed the others out of the re module's cache).
    cleaned = _HOOK.sub(lambda m: "" if m.group(1) == number else m.group(0), subject or "")
    cleaned = cleaned.strip()
    return f"[Ticket#{number}] {cleaned}".rstrip()
