"""Text normalisation shared by training and run time, so both see the same strings.

TweetEval anonymises user mentions to ``@user``; SemEval's raw pool keeps them and keeps
URLs. Mapping both (and live posts) to one form stops a model from keying on handles.
Pure standard library: the GPU training machine imports this file by path.
"""

from __future__ import annotations

import html
import re

_MENTION = re.compile(r"@\w+")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Unescape HTML entities, mentions -> ``@user``, URLs -> ``http``, collapse whitespace."""
    text = html.unescape(text)
    text = _MENTION.sub("@user", text)
    text = _URL.sub("http", text)
    return _SPACE.sub(" ", text).strip()


_LOOSE_DROP = re.compile(r"[^a-z0-9@# ]")


def loose_key(text: str) -> str:
    """The loose key of the data README, used to drop training rows that repeat a val row."""
    text = _MENTION.sub("@user", text.lower())
    text = _URL.sub(" ", text)
    text = _LOOSE_DROP.sub("", text)
    return _SPACE.sub(" ", text).strip()
