"""Print the architecture figures of issue 28 for the package as it stands.

Run it before and after a change to the layout::

    .venv/bin/python tools/architecture_metrics.py [--json]

It reads the source as text (nothing is imported) and prints:

- the modules over 900 lines;
- the import circles between modules, counting the imports made at module
  level and, separately, those made anywhere (inside functions too);
- the underscore names one module imports from another (a private module
  imported as a whole does not count: ``from . import _store`` is a layout
  choice, ``from ._store import _helper`` reaches into a module);
- how many imports are made inside functions.
"""

from __future__ import annotations

import argparse
import ast
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent / "allsh_sklearn"
LARGE = 900


def _module_name(path):
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules():
    return {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _resolve(module, path, node):
    """The absolute module an ``ImportFrom`` node names, or None."""
    if node.level:
        package = module.split(".")
        if path.name != "__init__.py":
            package = package[:-1]
        package = package[: len(package) - (node.level - 1)]
        return ".".join(package + ([node.module] if node.module else []))
    return node.module


def _is_private(name):
    return name.startswith("_") and not name.startswith("__")


def _scan(modules):
    """Edges (module level, anywhere), underscore imports, imports in functions."""
    top_edges, all_edges, private = set(), set(), []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top_level = set(map(id, tree.body))
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.ImportFrom):
                base = _resolve(module, path, node)
                if not base or not base.startswith("allsh_sklearn"):
                    continue
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    if candidate in modules:
                        targets.append(candidate)
                    else:
                        targets.append(base)
                        if _is_private(alias.name) and base != module:
                            private.append((module, base, alias.name))
            elif isinstance(node, ast.Import):
                targets = [
                    a.name for a in node.names if a.name.startswith("allsh_sklearn")
                ]
            for target in targets:
                if target in modules and target != module:
                    all_edges.add((module, target))
                    if id(node) in top_level or _in_top_level_block(tree, node):
                        top_edges.add((module, target))
    return top_edges, all_edges, private, _count_nested(modules)


def _in_top_level_block(tree, node):
    """True for an import under a module-level ``if``/``try`` (not in a def)."""
    for statement in tree.body:
        if isinstance(statement, (ast.If, ast.Try)):
            for inner in ast.walk(statement):
                if inner is node:
                    return True
    return False


def _count_nested(modules):
    count = 0
    for path in modules.values():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        seen = set()
        for function in ast.walk(tree):
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(function):
                    if (
                        isinstance(node, (ast.Import, ast.ImportFrom))
                        and id(node) not in seen
                    ):
                        seen.add(id(node))
                        count += 1
    return count


def strongly_connected(edges):
    """The circles of a directed graph: its strongly connected components of
    two nodes or more, each sorted (scipy.sparse.csgraph.connected_components)."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    edges = list(edges)
    nodes = sorted({node for edge in edges for node in edge}, key=repr)
    index = {node: i for i, node in enumerate(nodes)}
    rows = [index[a] for a, _ in edges]
    cols = [index[b] for _, b in edges]
    graph = coo_matrix((np.ones(len(edges)), (rows, cols)), shape=(len(nodes),) * 2)
    _, component = connected_components(graph, directed=True, connection="strong")
    members = {}
    for node, label in zip(nodes, component, strict=True):
        members.setdefault(label, []).append(node)
    return sorted(sorted(group) for group in members.values() if len(group) > 1)


def measure():
    """The figures as a dict."""
    modules = _modules()
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines())
        for name, path in modules.items()
    }
    top_edges, all_edges, private, nested = _scan(modules)

    # An import of a package's __init__ re-export is an edge to the package;
    # circles through a package's own __init__ are how packages work.
    def real(edges):
        return {
            (a, b)
            for a, b in edges
            if not a.startswith(b + ".") and not b.startswith(a + ".")
        }

    return {
        "modules": len(modules),
        "lines": sum(sizes.values()),
        "large_modules": {
            n: s for n, s in sorted(sizes.items(), key=lambda x: -x[1]) if s > LARGE
        },
        "circles_module_level": strongly_connected(real(top_edges)),
        "circles_any_import": strongly_connected(real(all_edges)),
        "cross_module_underscore_imports": sorted(set(private)),
        "imports_inside_functions": nested,
    }


def package_edges():
    """Which top-level part of the package imports which (any import)."""
    modules = _modules()
    _, all_edges, _, _ = _scan(modules)

    def part(module):
        pieces = module.split(".")
        return pieces[1] if len(pieces) > 1 else "allsh_sklearn"

    return {
        (part(a), part(b))
        for a, b in all_edges
        if part(a) != part(b) and "allsh_sklearn" not in (part(a), part(b))
    }


def _reduced(edges):
    """The transitive reduction of an acyclic graph: arrows no path implies."""
    graph = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)

    def reachable(start, skip):
        seen, todo = set(), [n for n in graph.get(start, ()) if (start, n) != skip]
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(graph.get(node, ()))
        return seen

    return {(a, b) for a, b in edges if b not in reachable(a, (a, b))}


#: The drivers and the page, drawn in a warmer colour than the library.
_DRIVERS = {"experiments", "session", "web", "labelstudio"}


def graph_dot():
    """The parts' import graph in Graphviz's DOT language.

    Arrows point to what a part uses; arrows implied by others (a -> b -> c
    makes a -> c) are left out, so the picture shows the layering.
    """
    edges = _reduced(package_edges())
    nodes = sorted({n for edge in edges for n in edge})
    lines = [
        "digraph allsh_sklearn {",
        '  graph [rankdir=TB, nodesep=0.35, ranksep=0.45, fontname="Helvetica"];',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", '
        'fontsize=11, color="#4a6fa5", fillcolor="#e8f0fa"];',
        '  edge [color="#777777", arrowsize=0.7];',
    ]
    for node in nodes:
        fill = ', fillcolor="#fbeedd", color="#b9772e"' if node in _DRIVERS else ""
        lines.append(f'  "{node}" [label="{node}"{fill}];')
    lines += [f'  "{a}" -> "{b}";' for a, b in sorted(edges)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def draw_graph(path):
    """Write the graph's DOT source beside ``path`` and render it with ``dot``.

    Rendering needs Graphviz's ``dot`` on the PATH (Debian: ``apt-get
    install graphviz``); without it only the ``.dot`` file is written.
    """
    import shutil
    import subprocess

    path = pathlib.Path(path)
    source = path.with_suffix(".dot")
    source.write_text(graph_dot(), encoding="utf-8")
    if shutil.which("dot") is None:
        print(f"wrote {source}; install Graphviz's dot to render it", file=sys.stderr)
        return source
    subprocess.run(
        ["dot", "-Tpng", "-Gdpi=110", str(source), "-o", str(path)], check=True
    )
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--graph", metavar="PNG", help="also draw the parts' import graph (Graphviz)"
    )
    args = parser.parse_args(argv)
    if args.graph:
        draw_graph(args.graph)
    figures = measure()
    if args.json:
        print(json.dumps(figures, indent=1))
        return
    print(f"modules: {figures['modules']}, lines: {figures['lines']}")
    print(f"modules over {LARGE} lines: {len(figures['large_modules'])}")
    for name, size in figures["large_modules"].items():
        print(f"  {size:5d}  {name}")
    for key in ("circles_module_level", "circles_any_import"):
        print(f"{key.replace('_', ' ')}: {len(figures[key])}")
        for circle in figures[key]:
            print("  " + " <-> ".join(circle))
    underscored = figures["cross_module_underscore_imports"]
    names = sorted({name for _, _, name in underscored})
    print(f"cross-module underscore imports: {len(underscored)} ({len(names)} names)")
    for source, target, name in underscored:
        print(f"  {source} <- {target}.{name}")
    print(f"imports inside functions: {figures['imports_inside_functions']}")


if __name__ == "__main__":
    main()
