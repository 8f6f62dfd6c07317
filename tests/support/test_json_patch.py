#!/usr/bin/env python3
"""Tests for json_patch.py: it must refuse what the API server refuses, or a test that applies a
webhook's patch with it would pass a patch a cluster rejects.

Run from the repository root:  python3 tests/support/test_json_patch.py
"""

from __future__ import annotations

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from support.json_patch import PatchError, apply  # noqa: E402 (after the path it is found on)

POD = {"metadata": {"name": "p", "labels": {"a/b": "1"}}, "spec": {"containers": [{"name": "c"}]}}


class JsonPatchTest(unittest.TestCase):
    def test_add_appends_to_an_array_and_leaves_the_input_alone(self):
        patched = apply(POD, [{"op": "add", "path": "/spec/containers/-", "value": {"name": "d"}}])
        self.assertEqual([c["name"] for c in patched["spec"]["containers"]], ["c", "d"])
        self.assertEqual(len(POD["spec"]["containers"]), 1)

    def test_add_under_a_missing_member_is_refused(self):
        with self.assertRaisesRegex(PatchError, "initContainers"):
            apply(POD, [{"op": "add", "path": "/spec/initContainers/-", "value": {"name": "i"}}])

    def test_an_index_past_the_end_is_refused(self):
        with self.assertRaises(PatchError):
            apply(POD, [{"op": "add", "path": "/spec/containers/2", "value": {}}])

    def test_replace_and_remove_of_a_missing_member_are_refused(self):
        for op in ({"op": "replace", "path": "/spec/nodeName", "value": "n"}, {"op": "remove", "path": "/spec/nodeName"}):
            with self.subTest(op=op["op"]), self.assertRaises(PatchError):
                apply(POD, [op])

    def test_escaped_pointer_tokens_and_test(self):
        patched = apply(POD, [{"op": "test", "path": "/metadata/labels/a~1b", "value": "1"},
                              {"op": "replace", "path": "/metadata/labels/a~1b", "value": "2"}])
        self.assertEqual(patched["metadata"]["labels"], {"a/b": "2"})
        with self.assertRaisesRegex(PatchError, "test failed"):
            apply(POD, [{"op": "test", "path": "/metadata/name", "value": "q"}])

    def test_move_and_copy(self):
        patched = apply(POD, [{"op": "copy", "from": "/metadata/name", "path": "/spec/hostname"},
                              {"op": "move", "from": "/metadata/labels", "path": "/spec/labels"}])
        self.assertEqual(patched["spec"]["hostname"], "p")
        self.assertEqual(patched["spec"]["labels"], {"a/b": "1"})
        self.assertNotIn("labels", patched["metadata"])


if __name__ == "__main__":
    unittest.main()
