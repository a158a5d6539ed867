"""Rules for names people see: usernames, display names and room names.

Every name is normalised the same way (NFKC, whitespace runs collapsed to one space, stripped) and
refused when it hides or reorders text: control characters, characters that change text
direction (the "Trojan Source" bidi controls) and names with nothing visible. Usernames are also
compared by a look-alike skeleton, so "аdmin" with a Cyrillic а cannot pose as "admin".

Rooms reuse ``clean_name`` for room names, which is why this module knows nothing about users.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from confusable_homoglyphs.confusables import confusables_data
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

# Longer input is refused before normalising: NFKC of a huge string is slow, and every form that
# uses these rules caps names far below this.
NORMALISE_MAX_INPUT = 1000

# Explicit embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069), the left-to-right
# and right-to-left marks, and the Arabic letter mark: each can make a name render reversed or
# spill its direction into the text around it.
BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u061c"]
)

# Categories that draw nothing by themselves: separators, format characters (zero-width space,
# joiners, word joiner, BOM) and combining marks with no base character.
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cf", "Mn", "Me"})
# Control characters, unpaired surrogates and unassigned code points never belong in a name.
_CONTROL_CATEGORIES = frozenset({"Cc", "Cs", "Cn"})
_WHITESPACE_RUN = re.compile(r"\s+")


def normalise_name(value: str) -> str:
    """NFKC-normalise ``value``, collapse runs of whitespace to one space and strip the ends.

    Fullwidth "ａｎａ" becomes "ana" and an ideographic space an ordinary one, so two names
    that look the same are stored the same.
    """
    value = unicodedata.normalize("NFKC", value)
    return _WHITESPACE_RUN.sub(" ", value).strip()


def name_problem(value: str, *, label: str) -> str | None:
    """What is wrong with an already normalised name, as a sentence; or ``None``.

    ``label`` starts the sentence: "Room names", "Usernames", "Display names" (translated by
    the caller, like the sentence here, into the active language).
    """
    if any(character in BIDI_CONTROLS for character in value):
        return gettext("%(label)s cannot contain characters that change text direction.") % {
            "label": label
        }
    if any(unicodedata.category(character) in _CONTROL_CATEGORIES for character in value):
        return gettext("%(label)s cannot contain control characters.") % {"label": label}
    if all(unicodedata.category(character) in _INVISIBLE_CATEGORIES for character in value):
        return gettext("%(label)s need at least one visible character.") % {"label": label}
    return None


def clean_name(value: str, *, label: str) -> str:
    """Normalise a name a person typed and refuse the tricks above with a clear message.

    Tabs and line breaks count as whitespace (pasted names carry them) and collapse to one
    space. Empty input stays empty, so an optional field may be left blank; anything else must
    show at least one visible character. Raises ``ValidationError`` with a sentence starting
    with ``label``.
    """
    if not value:
        return ""
    if len(value) > NORMALISE_MAX_INPUT:
        raise ValidationError(
            gettext("%(label)s can be at most %(limit)d characters.")
            % {"label": label, "limit": NORMALISE_MAX_INPUT}
        )
    normalised = normalise_name(value)
    problem = name_problem(normalised, label=label)
    if problem:
        raise ValidationError(problem)
    return normalised


@cache
def _homoglyph_representatives() -> dict[str, str]:
    """Each character mapped to one representative of its look-alike class.

    The classes come from the Unicode confusables data shipped by ``confusable-homoglyphs``
    (UTS #39's confusables.txt). Linked characters are merged into one class, whose
    representative is its lowest single character, so "а" (Cyrillic) and "a" share "a".
    Built once per process, in about 0.1 s.
    """
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for character, homoglyphs in confusables_data.items():
        for homoglyph in homoglyphs:
            root_a, root_b = find(character), find(homoglyph["c"])
            if root_a != root_b:
                parent[root_a] = root_b
    classes: dict[str, list[str]] = {}
    for node in list(parent):
        classes.setdefault(find(node), []).append(node)
    representatives: dict[str, str] = {}
    for members in classes.values():
        representative = min(members, key=lambda member: (len(member) != 1, member))
        for member in members:
            if len(member) == 1:
                representatives[member] = representative
    return representatives


def username_skeleton(username: str) -> str:
    """A key that two usernames share when they look alike: case, then homoglyphs folded.

    "admin", "ADMIN", "аdmin" (Cyrillic а) and "ａｄｍｉｎ" all have the skeleton "admin".
    Multi-letter look-alikes ("rn" for "m") are not folded.
    """
    representatives = _homoglyph_representatives()

    def fold(text: str) -> str:
        return "".join(representatives.get(character, character) for character in text)

    # Case is folded first because usernames are unique regardless of case; an upper-case "I"
    # therefore matches "i", not its look-alike "l".
    return fold(unicodedata.normalize("NFKC", username).casefold())
