#!/usr/bin/env python3
"""Keeps src/ layered: a file may include only from its own folder and the
folders below it (docs/ARCHITECTURE.md draws the same table).

    python3 tools/check_layers.py [SRC_DIR]     check the tree (default: src/)
    python3 tools/check_layers.py --self-test   check the tree, then prove the
                                                check fails on a planted upward
                                                include in a scratch copy

Every quoted include must name a file that exists: "room/file.h" from
another room, "file.h" from the file's own folder, or the public mnas.h.
Exit status 1 and one line per violation when the tree is not layered."""
import os
import re
import shutil
import sys
import tempfile

# What each room may include besides itself and mnas.h (the public API:
# status codes and limits, which every room may use).
ALLOWED = {
    'base': set(),
    'simd': set(),
    'kernels': {'simd'},
    'threads': {'base'},
    'graph': {'base'},
    'onnx': {'graph', 'base'},
    'plan': {'kernels', 'simd', 'threads', 'base'},
    'compile': {'plan', 'kernels', 'simd', 'threads', 'graph', 'base'},
    'api': {'compile', 'plan', 'kernels', 'simd', 'threads', 'onnx', 'graph', 'base'},
    'cli': set(),   # the public API only
    'wasm': set(),  # the public API only
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def violations(src):
    found = []
    for room in sorted(os.listdir(src)):
        folder = os.path.join(src, room)
        if not os.path.isdir(folder):
            continue
        if room not in ALLOWED:
            found.append(f'{room}/: a folder the layering table does not know (add it to tools/check_layers.py)')
            continue
        for name in sorted(os.listdir(folder)):
            if not name.endswith(('.c', '.h', '.inc')):
                continue
            path = os.path.join(folder, name)
            with open(path, encoding='utf-8') as f:
                text = f.read()
            for m in INCLUDE.finditer(text):
                inc = m.group(1)
                line = text.count('\n', 0, m.start()) + 1
                where = f'src/{room}/{name}:{line}'
                if inc == 'mnas.h':
                    continue
                if '/' not in inc:
                    if not os.path.exists(os.path.join(folder, inc)):
                        found.append(f'{where}: "{inc}" is not in {room}/')
                    continue
                target = inc.split('/', 1)[0]
                if not os.path.exists(os.path.join(src, inc)):
                    found.append(f'{where}: "{inc}" does not exist')
                elif target != room and target not in ALLOWED[room]:
                    found.append(f'{where}: {room}/ includes "{inc}" from {target}/, which is not below it')
    return found


def self_test(src):
    """A planted upward include (plan/ reaching into graph/) must be caught."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, 'src')
        shutil.copytree(src, copy)
        with open(os.path.join(copy, 'plan', 'plan.h'), 'a', encoding='utf-8') as f:
            f.write('\n#include "graph/graph.h"\n')
        planted = violations(copy)
    if not any('plan/ includes "graph/graph.h"' in v for v in planted):
        print('check_layers: self-test FAILED: a planted plan/ -> graph/ include went unnoticed')
        return False
    print(f'check_layers: self-test ok (planted upward include caught: {planted[-1]})')
    return True


def main(argv):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    args = [a for a in argv if a != '--self-test']
    src = args[0] if args else os.path.join(root, 'src')
    found = violations(src)
    for v in found:
        print(v)
    if found:
        print(f'check_layers: {len(found)} include(s) break the layering')
        return 1
    print(f'check_layers: {src}: every include points down or sideways within its folder')
    if '--self-test' in argv and not self_test(src):
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
