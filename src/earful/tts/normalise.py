"""English text the way it is spoken: numbers, money, times, dates and abbreviations as words.

Every engine reads letters better than digits and symbols: espeak (Piper, Kokoro) says
"1999" as "one thousand nine hundred ninety-nine", reads "$3.50" digit by digit, and ends a
sentence at "Dr.". :func:`normalise_for_speech` rewrites those forms as words before any
engine sees the text. The number words come from ``num2words`` (American style: no "and",
no commas); the patterns are ours and deliberately conservative: what they do not
recognise is left for the engine, never dropped.

Only English is rewritten; any other language is returned unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from earful.errors import DependencyMissingError

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
_MONTH_ABBR = {m[:3]: m for m in MONTHS} | {"Sept": "September"}
# Titles expanded when a capitalised name follows (so "Elm Dr." stays a street; "St." is
# left alone: Saint or Street cannot be told apart by pattern).
_TITLES_BEFORE_NAME = {"Dr": "Doctor", "Prof": "Professor", "Gen": "General",
                       "Capt": "Captain", "Lt": "Lieutenant", "Sgt": "Sergeant",
                       "Rev": "Reverend", "Gov": "Governor", "Sen": "Senator"}
# Abbreviations that mean one thing wherever they are.
_ALWAYS = {"Mr.": "Mister", "Mrs.": "Missus", "Ms.": "Miz", "Jr.": "Junior", "Sr.": "Senior",
           "vs.": "versus", "etc.": "et cetera", "e.g.": "for example", "i.e.": "that is",
           "approx.": "approximately"}
_CURRENCIES = {"$": ("dollar", "dollars", "cent", "cents"),
               "£": ("pound", "pounds", "penny", "pence"),
               "€": ("euro", "euros", "cent", "cents")}
_SCALES = ("thousand", "million", "billion", "trillion")

_NUM = r"\d{1,3}(?:,\d{3})+|\d+"
_CURRENCY = re.compile(
    rf"(?P<sym>[$£€])\s?(?P<int>{_NUM})(?:\.(?P<frac>\d{{1,2}})(?!\d))?"
    rf"(?:\s(?P<scale>{'|'.join(_SCALES)})\b)?")
_MERIDIEM = r"(?P<mer>[aApP])\.?\s?[mM]\.?(?![A-Za-z])"
_CLOCK = re.compile(rf"\b(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?:\s?{_MERIDIEM})?")
_HOUR_MERIDIEM = re.compile(rf"\b(?P<h>1[0-2]|0?[1-9])\s?{_MERIDIEM}")
_MONTH_NAME = "|".join(MONTHS) + "|" + "|".join(rf"{a}\.?" for a in _MONTH_ABBR)
_MONTH_DAY = re.compile(
    rf"\b(?P<month>{_MONTH_NAME})\s(?P<day>[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?\b"
    rf"(?P<year>,?\s\d{{4}}\b)?")
_DAY_MONTH = re.compile(rf"(?:\bthe\s)?\b(?P<day>[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?\s(?:of\s)?"
                        rf"(?P<month>{'|'.join(MONTHS)})\b")
_ORDINAL = re.compile(r"\b(?P<n>\d+)(?:st|nd|rd|th)\b")
_PERCENT = re.compile(rf"(?P<n>(?:{_NUM})(?:\.\d+)?)\s?%")
_DECIMAL = re.compile(r"(?<![\d.])(?P<sign>(?<![\w-])-)?(?P<int>\d+)\.(?P<frac>\d+)(?!\d|\.\d)")
_YEAR = re.compile(r"(?<![\d,.$£€])\b(?P<n>1[1-9]\d\d|20\d\d)s?\b(?![.,]\d)")
_INTEGER = re.compile(rf"(?<![\d.])(?P<sign>(?<![\w-])-)?\b(?P<n>{_NUM})\b(?!\.\d)")
_NUMBER_SIGN = re.compile(r"\bNo\.(?=\s?\d)")
_TITLE = re.compile(rf"\b(?P<t>{'|'.join(_TITLES_BEFORE_NAME)})\.(?=\s+[A-Z])")
_ALWAYS_RE = re.compile(r"(?<![\w.])(?:" + "|".join(re.escape(a) for a in _ALWAYS) + r")(?!\w)")
_SPACES = re.compile(r"\s+")


def _words() -> Callable[..., str]:
    try:
        from num2words import num2words
    except ImportError as e:
        raise DependencyMissingError("num2words", "tts", "reading numbers as words") from e
    fn: Callable[..., str] = num2words
    return fn


def _american(words: str) -> str:
    """num2words' British forms to American ones ("one thousand, two hundred and five" ->
    "one thousand two hundred five")."""
    return words.replace(",", "").replace(" and ", " ")


def cardinal(n: int) -> str:
    """``1234`` -> ``one thousand two hundred thirty-four``."""
    return _american(_words()(n))


def ordinal(n: int) -> str:
    """``3`` -> ``third``."""
    return _american(_words()(n, to="ordinal"))


def year(n: int) -> str:
    """``1999`` -> ``nineteen ninety-nine``; ``2005`` -> ``two thousand five``."""
    return _american(_words()(n, to="year")).replace("oh-", "oh ")


def _int(digits: str) -> int:
    return int(digits.replace(",", ""))


def _money(m: re.Match[str]) -> str:
    one, many, sub_one, sub_many = _CURRENCIES[m["sym"]]
    whole = _int(m["int"])
    if m["scale"]:  # "$3.5 million" is "three point five million dollars"
        amount = cardinal(whole) + (f" point {' '.join(cardinal(int(d)) for d in m['frac'])}"
                                    if m["frac"] else "")
        return f"{amount} {m['scale']} {many}"
    cents = int(m["frac"].ljust(2, "0")) if m["frac"] else 0
    parts = []
    if whole or not cents:
        parts.append(f"{cardinal(whole)} {one if whole == 1 else many}")
    if cents:
        parts.append(f"{cardinal(cents)} {sub_one if cents == 1 else sub_many}")
    return " and ".join(parts)


def _meridiem(m: re.Match[str]) -> str:
    if not m["mer"]:
        return ""
    # "at 5 p.m." ending the text: its last dot was also the full stop.
    stop = "." if m[0].endswith(".") and not m.string[m.end():].strip() else ""
    return f" {m['mer'].lower()} m{stop}"


def _clock(m: re.Match[str]) -> str:
    hour, minute = int(m["h"]), int(m["m"])
    if minute == 0:
        said = cardinal(hour) + ("" if m["mer"] else " o'clock")
    elif minute < 10:
        said = f"{cardinal(hour)} oh {cardinal(minute)}"
    else:
        said = f"{cardinal(hour)} {cardinal(minute)}"
    return said + _meridiem(m)


def _month(name: str) -> str:
    return _MONTH_ABBR.get(name.rstrip("."), name.rstrip("."))


def _month_day(m: re.Match[str]) -> str:
    said = f"{_month(m['month'])} {ordinal(int(m['day']))}"
    if m["year"]:
        said += f", {year(int(m['year'].strip(' ,')))}"
    return said


def _decimal(m: re.Match[str]) -> str:
    digits = " ".join(cardinal(int(d)) for d in m["frac"])
    return f"{'minus ' if m['sign'] else ''}{cardinal(int(m['int']))} point {digits}"


def _number(text: str) -> str:
    """A plain or decimal number (with thousands commas) as words."""
    whole, _, frac = text.partition(".")
    said = cardinal(_int(whole))
    return f"{said} point {' '.join(cardinal(int(d)) for d in frac)}" if frac else said


def _year(m: re.Match[str]) -> str:
    said = year(int(m["n"]))
    if m[0].endswith("s"):  # the 1990s
        said = said[:-1] + "ies" if said.endswith("y") else said + "s"
    return said


def _expand_abbreviations(text: str) -> str:
    text = _NUMBER_SIGN.sub("number", text)
    text = _TITLE.sub(lambda m: _TITLES_BEFORE_NAME[m["t"]], text)
    return _ALWAYS_RE.sub(lambda m: _ALWAYS[m[0]], text)


def normalise_for_speech(text: str, language: str = "en") -> str:
    """Rewrite numbers, money, times, dates and common abbreviations as spoken words.

    ``"Dr. Smith paid $3.50 at 10:30 on Jan. 3, 1999."`` becomes ``"Doctor Smith paid three
    dollars and fifty cents at ten thirty on January third, nineteen ninety-nine."``. A full
    stop that ended the text stays, so a sentence keeps its falling tone.

    Args:
        text: One sentence or more.
        language: The text's language; only English (``en``, ``en-us``, ``en_GB``...) is
            rewritten.

    Returns:
        The text for the engine to read.
    """
    if not language.lower().startswith("en"):
        return text
    # Order matters: abbreviations first ("No. 5" needs its digit); money and clock times
    # hold digits that later patterns would take apart; dates before ordinals and years;
    # plain integers last.
    text = _expand_abbreviations(text)
    text = _CURRENCY.sub(_money, text)
    text = _CLOCK.sub(_clock, text)
    text = _HOUR_MERIDIEM.sub(lambda m: cardinal(int(m["h"])) + _meridiem(m), text)
    text = _MONTH_DAY.sub(_month_day, text)
    text = _DAY_MONTH.sub(lambda m: f"the {ordinal(int(m['day']))} of {m['month']}", text)
    text = _ORDINAL.sub(lambda m: ordinal(int(m["n"])), text)
    text = _PERCENT.sub(lambda m: f"{_number(m['n'])} percent", text)
    text = _DECIMAL.sub(_decimal, text)
    text = _YEAR.sub(_year, text)
    text = _INTEGER.sub(lambda m: ("minus " if m["sign"] else "") + cardinal(_int(m["n"])),
                        text)
    return _SPACES.sub(" ", text).strip()
