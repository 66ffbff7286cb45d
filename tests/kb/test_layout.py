"""The README's layout section matches the tree: every module and subpackage of ``knowledge/`` is
named there, every top-level folder it names exists, and no module of ``knowledge/`` imports one
that imports it back (at import time)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE = ROOT / "knowledge"


def _layout_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Layout", 1)[1]
    return section.split("```", 2)[1]


def test_every_knowledge_module_is_named_in_the_readme_layout():
    block = _layout_block()
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", block))
    missing = []
    for path in sorted(KNOWLEDGE.rglob("*.py")):
        if path.name == "__init__.py":
            if path.parent != KNOWLEDGE and f"{path.parent.name}/" not in block:
                missing.append(str(path.parent.relative_to(ROOT)))
            continue
        if path.stem not in words:
            missing.append(str(path.relative_to(ROOT)))
    assert missing == [], f"not in the README's layout section: {missing}"


def test_every_folder_the_layout_names_exists():
    block = _layout_block()
    top = re.findall(r"^([a-z_.]+/)", block, flags=re.M)
    assert "knowledge/" in top and "tests/" in top
    assert [name for name in top if not (ROOT / name).is_dir()] == []
    subpackages = re.findall(r"^  ([a-z_]+/)", block, flags=re.M)
    assert subpackages, "the knowledge/ subpackages are listed"


def _imports(path: Path) -> set[str]:
    """knowledge.* modules imported at module level (not inside functions: lazy imports)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("knowledge"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("knowledge"))
    return found


def test_no_import_cycle_between_knowledge_modules():
    modules = {}
    for path in KNOWLEDGE.rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        modules[name] = path
    # (a package's ``from knowledge import ingest`` names its own child: not an edge)
    graph = {name: {m for m in _imports(path) if m in modules and m != name}
             for name, path in modules.items()}
    # the package's flat API re-exports its modules; a package importing its own children is not
    # a cycle for our purpose
    cycles = []
    for name, targets in graph.items():
        for target in targets:
            if target.startswith(name + "."):
                continue
            # does target reach name back?
            seen, stack = set(), [target]
            while stack:
                current = stack.pop()
                if current in seen:
                    continue
                seen.add(current)
                for nxt in graph.get(current, ()):
                    if nxt == name and not name.startswith(current + "."):
                        cycles.append((name, target))
                        stack = []
                        break
                    stack.append(nxt)
    assert cycles == [], f"import cycles: {sorted(set(cycles))}"
