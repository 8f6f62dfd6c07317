"""JSON Patch (RFC 6902), applied strictly, the way the API server applies a mutating webhook's patch.

Strict: an operation whose path does not exist where RFC 6902 needs it to (a replace or remove
of a missing member, an add under a missing parent, an index past the end) is an error, as
it is for the API server, so a test sees the patch fail where a cluster would refuse it.

    apply(document, operations) -> the patched copy; PatchError names the operation that failed.

Run as a script, `json_patch.py REVIEW RESPONSE` applies the base64 patch of an
AdmissionReview response file to the review file's .request.object and prints the patched
object, or one line "error: <operation>: <why>" (exit status 0 either way: the caller checks).
"""

from __future__ import annotations

import base64
import copy
import json
import sys

# The most of an error line worth printing: the operation and why, not a whole pod.
ERROR_LINE_CHARS = 500


class PatchError(ValueError):
    """An operation that cannot apply; the message names it."""


def _tokens(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"pointer {pointer!r} does not start with /")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _parent(doc, tokens):
    for t in tokens[:-1]:
        if isinstance(doc, list):
            doc = doc[int(t)]
        elif isinstance(doc, dict):
            doc = doc[t]
        else:
            raise KeyError(t)
    return doc


def _get(doc, tokens):
    for t in tokens:
        doc = doc[int(t)] if isinstance(doc, list) else doc[t]
    return doc


def _add(doc, tokens, value):
    if not tokens:
        return value
    p, last = _parent(doc, tokens), tokens[-1]
    if isinstance(p, list):
        index = len(p) if last == "-" else int(last)
        if not 0 <= index <= len(p):
            raise IndexError(f"index {index} out of range")
        p.insert(index, value)
    elif isinstance(p, dict):
        p[last] = value
    else:
        raise KeyError(last)
    return doc


def _remove(doc, tokens):
    p, last = _parent(doc, tokens), tokens[-1]
    if isinstance(p, list):
        del p[int(last)]
    else:
        del p[last]
    return doc


def _apply_one(doc, op: dict):
    tokens = _tokens(op["path"])
    kind = op["op"]
    if kind == "add":
        return _add(doc, tokens, copy.deepcopy(op["value"]))
    if kind == "remove":
        return _remove(doc, tokens)
    if kind == "replace":
        _get(doc, tokens)
        return _add(_remove(doc, tokens), tokens, copy.deepcopy(op["value"]))
    if kind == "test":
        if _get(doc, tokens) != op["value"]:
            raise ValueError(f"test failed at {op['path']}")
        return doc
    if kind in ("move", "copy"):
        value = copy.deepcopy(_get(doc, _tokens(op["from"])))
        if kind == "move":
            doc = _remove(doc, _tokens(op["from"]))
        return _add(doc, tokens, value)
    raise ValueError(f"unknown op {kind}")


def apply(document, operations: list[dict]):
    """The patched copy of `document`; `document` itself is left as it was."""
    doc = copy.deepcopy(document)
    for op in operations:
        try:
            doc = _apply_one(doc, op)
        except PatchError:
            raise
        except Exception as e:  # what a malformed or unappliable operation raises, named
            raise PatchError(f"{op!r}: {type(e).__name__}: {e}") from e
    return doc


def main(review_file: str, response_file: str) -> None:
    with open(review_file, encoding="utf-8") as f:
        review = json.load(f)
    with open(response_file, encoding="utf-8") as f:
        response = json.load(f)["response"]
    try:
        patched = apply(review["request"]["object"], json.loads(base64.b64decode(response["patch"])))
    except PatchError as e:
        print(f"error: {e}"[:ERROR_LINE_CHARS])
        return
    print(json.dumps(patched))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
