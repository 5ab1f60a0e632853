"""Citation markers in a model's text: which name a passage, and the NO_ANSWER sentinel."""

from __future__ import annotations

import re
from typing import Collection

SENTINEL = "NO_ANSWER"


# --------------------------------------------------------------------------- markers

_REF = r"(?:(?:passages?|sources?|quellen?|abschnitt|p\.?|#)\s*)?(?:\d{1,9}|[0-9A-Za-z]{1,3})"
_MARKER = re.compile(
    r"[ \t]*\[\^?\s*(" + _REF + r"(?:\s*(?:[,;&–—-]|and|und)\s*" + _REF + r")*)\s*\]", re.IGNORECASE
)
_REF_TOKEN = re.compile(r"(?:(?:passages?|sources?|quellen?|abschnitt|p\.?|#)\s*)?(\d{1,9}|[0-9A-Za-z]{1,3})", re.IGNORECASE)
_RANGE = re.compile(r"^\s*(\d{1,9})\s*[–—-]\s*(\d{1,9})\s*$")
_VALID = re.compile(r"\[(\d+)\]")
_SENTINEL = re.compile(r"[ \t]*\[?\s*\bNO[_ -]?ANSWER\b\s*\]?\.?")


def _valid_set(n_passages: int | Collection[int]) -> set[int]:
    if isinstance(n_passages, int):
        return set(range(1, n_passages + 1))
    return {int(n) for n in n_passages}


def _marker_numbers(inner: str) -> list[str]:
    """The references inside one bracket: "1, 3" -> ["1", "3"], "2-4" -> ["2", "3", "4"]."""
    out: list[str] = []
    for part in re.split(r"\s*(?:[,;&]|\band\b|\bund\b)\s*", inner, flags=re.IGNORECASE):
        if not part.strip():
            continue
        m = _RANGE.match(part)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            if 0 < b - a <= 10:
                out.extend(str(i) for i in range(a, b + 1))
                continue
        toks = _REF_TOKEN.findall(part)
        out.extend(toks or [part.strip()])
    return out


def _is_valid(m: re.Match, valid: set[int]) -> bool:
    refs = _marker_numbers(m.group(1))
    return bool(refs) and all(r.isdigit() and int(r) in valid for r in refs)


def check_markers(text: str, n_passages: int | Collection[int]) -> tuple[str, list[int], list[str]]:
    """Keep the markers that name a passage, drop the rest.

    ``n_passages``: the number of passages (valid markers are 1..n) or the set
    of valid numbers. Returns ``(clean_text, used_ns, dropped)``: the text with
    every marker normalised to ``[n]`` (``[1, 3]`` -> ``[1][3]``, ``[2-3]`` ->
    ``[2][3]``) and invalid ones removed with the space before them; the
    numbers cited, in order of first use; the markers dropped, as written
    (``"[9]"``, ``"[0]"``, ``"[a]"``)."""
    valid = _valid_set(n_passages)
    used: list[int] = []
    dropped: list[str] = []

    def repl(m: re.Match) -> str:
        keep: list[int] = []
        for ref in _marker_numbers(m.group(1)):
            if ref.isdigit() and int(ref) in valid:
                if int(ref) not in keep:
                    keep.append(int(ref))
            else:
                dropped.append(f"[{ref}]")
        for n in keep:
            if n not in used:
                used.append(n)
        if not keep:
            return ""
        lead = m.group(0)[: len(m.group(0)) - len(m.group(0).lstrip(" \t"))]
        return lead + "".join(f"[{n}]" for n in keep)

    clean = text
    for _ in range(10):  # dropping a marker can expose another: "[[9]]", "[[]x]"
        new = _MARKER.sub(repl, clean)
        new = re.sub(r"[ \t]*\[\s*\](?!\()", "", new)  # empty brackets left behind
        if new == clean:
            break
        clean = new
    else:  # pathological nesting: remove whatever still looks like a reference
        clean = _MARKER.sub(lambda m: m.group(0) if _is_valid(m, valid) else "", clean)
    clean = re.sub(r"(?<=\w)(?=\[\d+\])", " ", clean)  # "word[1]" -> "word [1]"
    clean = re.sub(r"(\[\d+\])(?:[ \t]*\1)+", r"\1", clean)  # "[1][1]" -> "[1]"
    clean = re.sub(r"(\[\d+\])[ \t]+(?=\[\d+\])", r"\1", clean)  # "[1] [2]" -> "[1][2]"
    assert all(_is_valid(m, valid) for m in _MARKER.finditer(clean)), clean
    return clean, used, dropped


def strip_sentinel(text: str) -> tuple[str, bool]:
    """Remove the abstention sentinel; True when it was there."""
    new, k = _SENTINEL.subn("", text)
    return new, k > 0
