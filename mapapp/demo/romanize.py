"""Revised Romanization of Korean place names, as road signs spell them: sound changes across
syllables (종로 → Jongno, 신림 → Sillim, 독립문 → Dongnimmun), no hyphens inside a name.

Written for the demo's dong names (the build step of the shipped boundary files), where an official
English name is not at hand. Simplifications: tensing and palatalisation are not marked, and a
consonant before ㅎ keeps the h (묵호 → Mukho), as the rules allow for nouns.
"""

import re

_INITIALS = ("g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p", "h")
_VOWELS = (
    "a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo",
    "u", "wo", "we", "wi", "yu", "eu", "ui", "i",
)  # fmt: skip
# Each final consonant (0 = none) as it sounds at the end of a syllable: k, n, t, l, m, p, ng.
_FINAL_SOUND = (
    "", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l",
    "m", "p", "p", "t", "t", "ng", "t", "t", "k", "t", "p", "t",
)  # fmt: skip
# A final consonant carried over to a following syllable that starts with the silent ㅇ (liaison).
_FINAL_CARRIED = (
    "", "g", "kk", "ks", "n", "nj", "nh", "d", "r", "lg", "lm", "lb", "ls", "lt", "lp", "r",
    "m", "b", "bs", "s", "ss", "ng", "j", "ch", "k", "t", "p", "",
)  # fmt: skip
_SILENT, _NIEUN, _RIEUL, _MIEUM = 11, 2, 5, 6


def _syllables(word: str) -> list[tuple[int, int, int] | str]:
    out: list[tuple[int, int, int] | str] = []
    for ch in word:
        code = ord(ch) - 0xAC00
        out.append((code // 588, (code % 588) // 28, code % 28) if 0 <= code < 11172 else ch)
    return out


def romanize(word: str) -> str:
    """A Hangul word in the Revised Romanization, lower case; other characters pass through."""
    parts = _syllables(word)
    out: list[str] = []
    for i, part in enumerate(parts):
        if isinstance(part, str):
            out.append(part)
            continue
        initial, vowel, final = part
        prev = parts[i - 1] if i > 0 else None
        nxt = parts[i + 1] if i + 1 < len(parts) else None
        prev_sound = _FINAL_SOUND[prev[2]] if isinstance(prev, tuple) else ""
        # The initial, as the previous syllable's final makes it sound.
        if isinstance(prev, tuple) and prev[2] and initial == _SILENT:
            head = ""  # the previous final was carried over
        elif initial == _RIEUL:
            head = "l" if prev_sound in ("l", "n") else ("n" if prev_sound in ("k", "t", "p", "m", "ng") else "r")
            if not isinstance(prev, tuple):
                head = "r"
        elif initial == _NIEUN and prev_sound == "l":
            head = "l"  # ㄹ + ㄴ → ll
        else:
            head = _INITIALS[initial]
        # The final, as the next syllable's initial makes it sound.
        if not final:
            tail = ""
        elif isinstance(nxt, tuple) and nxt[0] == _SILENT:
            tail = _FINAL_CARRIED[final]
        elif isinstance(nxt, tuple):
            sound = _FINAL_SOUND[final]
            nasal_next = nxt[0] in (_NIEUN, _MIEUM) or (nxt[0] == _RIEUL and sound not in ("l", "n"))
            if nasal_next and sound in ("k", "t", "p"):
                tail = {"k": "ng", "t": "n", "p": "m"}[sound]
            elif nxt[0] == _RIEUL and sound == "n":
                tail = "l"  # ㄴ + ㄹ → ll
            else:
                tail = sound
        else:
            tail = _FINAL_SOUND[final]
        out.append(head + _VOWELS[vowel] + tail)
    return "".join(out)


# 사당2동, 성수1가1동, 종로1·2·3·4가동, 면목본동: a base, an optional "N가", an optional number, then 동.
_DONG = re.compile(r"^(?P<base>.+?)(?P<ga>[0-9·.,]+가)?(?P<num>[0-9·.,]+)?동$")


def dong_name_en(name_ko: str, known: dict[str, str] | None = None) -> str:
    """The English name of an administrative dong, e.g. 사당2동 → Sadang 2-dong, 성수1가1동 → Seongsu 1-ga 1-dong.

    `known` maps Korean base names to official spellings (e.g. 사당 → Sadang), used before romanizing.
    """
    match = _DONG.match(name_ko)
    if match is None:
        return romanize(name_ko).capitalize()
    base = match["base"]
    english = (known or {}).get(base) or romanize(base).capitalize()
    ga, num = match["ga"], match["num"]
    if ga:
        english += f" {ga[:-1]}-ga"
        return english + (f" {num}-dong" if num else "-dong")
    return english + (f" {num}-dong" if num else "-dong")
