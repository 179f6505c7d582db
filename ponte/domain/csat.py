"""CSAT: reading a customer's 1-5 rating from what they answer, in Brazilian Portuguese.

Digits (``5``, ``nota 4``, ``4/5``, ``10`` is not a rating), star and face emoji, number words
(``cinco``) and quality words (``ótimo``, ``péssimo``). An answer that is not a rating (a new
question, anything with a "?" or over five words) returns None: the conversation then reopens
as for any message."""

from __future__ import annotations

import re
import unicodedata

_WORDS = {
    # number words
    "nota um": 1, "dois": 2, "duas": 2, "tres": 3, "quatro": 4, "cinco": 5,
    # quality words
    "pessimo": 1, "pessima": 1, "horrivel": 1, "terrivel": 1, "muito ruim": 1,
    "ruim": 2, "fraco": 2, "insatisfeito": 2, "insatisfeita": 2,
    "regular": 3, "razoavel": 3, "mais ou menos": 3, "medio": 3,
    "bom": 4, "boa": 4, "satisfeito": 4, "satisfeita": 4, "muito bom": 5, "muito boa": 5,
    "otimo": 5, "otima": 5, "excelente": 5, "perfeito": 5, "perfeita": 5, "maravilhoso": 5, "nota dez": 5,
}  # fmt: skip
_FACES = {
    "😡": 1, "🤬": 1, "😠": 1, "😞": 2, "🙁": 2, "☹": 2, "😕": 2, "😐": 3, "😶": 3,
    "🙂": 4, "😊": 4, "👍": 4, "😀": 5, "😃": 5, "😄": 5, "😁": 5, "😍": 5, "🤩": 5, "🥰": 5, "👏": 5,
}  # fmt: skip
_STARS = ("⭐", "🌟", "★")
_DIGIT = re.compile(r"(?<![\d.,])([1-5])(?:\s*/\s*5)?(?!\d|[.,]\d)")
MAX_ANSWER_CHARS = 120  # a rating is short; a long message is a new question
MAX_ANSWER_WORDS = 5


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def parse_rating(text: str | None) -> int | None:
    """The 1-5 rating in ``text``, or None when it holds none or more than one."""
    if not text or len(text) > MAX_ANSWER_CHARS or "?" in text or len(text.split()) > MAX_ANSWER_WORDS:
        return None
    found: set[int] = set()
    stars = sum(text.count(star) for star in _STARS)
    if 1 <= stars <= 5:
        found.add(stars)
    found |= {score for face, score in _FACES.items() if face in text}
    folded = _fold(text)
    found |= {int(m.group(1)) for m in _DIGIT.finditer(folded)}
    words = re.sub(r"[^a-z ]+", " ", folded)
    padded = f" {' '.join(words.split())} "
    matched = {phrase: score for phrase, score in _WORDS.items() if f" {phrase} " in padded}
    # "muito bom" also contains "bom": the longer phrase wins
    for phrase in list(matched):
        if any(other != phrase and f" {phrase} " in f" {other} " for other in matched):
            del matched[phrase]
    found |= set(matched.values())
    return found.pop() if len(found) == 1 else None
