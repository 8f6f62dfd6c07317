#!/usr/bin/env python3
"""No include runs against the layering: a file in webhook/<folder>/ may include
"<other>/..." only when <folder>'s library links <other>'s, directly or through the
libraries it links.

Every folder shares one include root (webhook/), so the compiler cannot refuse an upward
include by itself; this test does. The allowed edges are not written here: they are the
link graph of the CMake targets, which webhook/CMakeLists.txt writes to layer_graph.txt
at configure time, so the build and this check read the same arrows.

    test_layer_includes.py BUILD_DIR/layer_graph.txt SOURCE_DIR/webhook
"""
import pathlib
import re
import sys

# A project include names its folder first: #include "guard/validator.hpp".
PROJECT_INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/[^"]+"', re.MULTILINE)
SOURCE_SUFFIXES = (".hpp", ".cpp")


def read_graph(path):
    """{folder: set of folders its library links directly}."""
    graph = {}
    for line in pathlib.Path(path).read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        folder, _, links = line.partition(":")
        graph[folder.strip()] = set(links.split())
    return graph


def reachable(graph, folder):
    """Every folder whose headers `folder` may include: itself and all it links, transitively."""
    seen = {folder}
    pending = [folder]
    while pending:
        for linked in graph.get(pending.pop(), ()):
            if linked not in seen:
                seen.add(linked)
                pending.append(linked)
    return seen


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    graph = read_graph(sys.argv[1])
    webhook = pathlib.Path(sys.argv[2])
    failures = []
    checked = 0
    for folder in sorted(graph):
        allowed = reachable(graph, folder)
        for source in sorted((webhook / folder).iterdir()):
            if source.suffix not in SOURCE_SUFFIXES:
                continue
            checked += 1
            for included in PROJECT_INCLUDE.findall(source.read_text()):
                if included not in allowed:
                    failures.append(f"{source.relative_to(webhook)} includes {included}/..., but the {folder} library "
                                    f"does not link {included} (it may include: {' '.join(sorted(allowed))})")
    if checked == 0:
        print(f"FAIL - no sources found under {webhook} for the folders of {sys.argv[1]}")
        return 1
    for failure in failures:
        print(f"FAIL - {failure}")
    if failures:
        print("Either the include is in the wrong layer, or the layer needs the link (webhook/<folder>/CMakeLists.txt).")
        return 1
    print(f"ok   - {checked} files in {len(graph)} folders include only the layers their library links")
    return 0


if __name__ == "__main__":
    sys.exit(main())
