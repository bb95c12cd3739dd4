"""The tree says where things go: layers import one way, rules stays pure, docs match the tree,
and nothing in the repository points outside it (docs/architecture.md §2)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import REPO

PACKAGES = ("connector", "adapters", "rules")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The project modules ``name`` imports (at module level or inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    typing_only = {id(inner) for node in ast.walk(tree)
                   if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
                   for stmt in node.body for inner in ast.walk(stmt)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            candidates = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for candidate in candidates:
            while candidate and candidate not in MODULES:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                targets.add(candidate)
    return targets


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(module: str) -> str:
    for prefix in ("connector.cli", "connector.serve", "connector.actions"):
        if module == prefix or module.startswith(prefix + "."):
            return prefix
    return module.split(".")[0] if not module.startswith("connector") else "connector.core"


def test_no_import_cycle_between_modules() -> None:
    seen: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(node: str) -> None:
        seen[node] = 1
        stack.append(node)
        for target in sorted(GRAPH[node]):
            if target.startswith(node + "."):
                continue  # a package's __init__ may re-export its own submodules
            if seen.get(target) == 1:
                cycle = [*stack[stack.index(target):], target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in seen:
                visit(target)
        stack.pop()
        seen[node] = 2

    for module in sorted(GRAPH):
        if module not in seen:
            visit(module)


ALLOWED = {
    "connector.cli": {"connector.cli", "connector.serve", "connector.actions", "connector.core", "rules", "adapters"},
    "connector.serve": {"connector.serve", "connector.actions", "connector.core", "rules"},
    "connector.actions": {"connector.actions", "connector.core", "rules"},
    "connector.core": {"connector.core"},
    "adapters": {"adapters", "connector.core"},
    "rules": {"rules", "connector.core"},
}


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_point_one_way(module: str) -> None:
    """cli → serve → actions → core; adapters and rules use the core only."""
    layer = _layer(module)
    wrong = sorted(t for t in GRAPH[module] if _layer(t) not in ALLOWED[layer])
    # The CLI may import an adapter package only to register its own commands and simulators;
    # the core finds adapters by name (connector.packages), never by import.
    assert not wrong, f"{module} ({layer}) imports {wrong}"


def test_rules_imports_only_the_model_and_the_errors_of_the_connector() -> None:
    assert {t for m in GRAPH if m.startswith("rules") for t in GRAPH[m] if t.startswith("connector")} <= {
        "connector.model", "connector.errors"}
    code = ("import sys, rules, rules.engine, rules.costs, rules.letters, rules.loading, rules.schema; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'connector'))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert loaded.stdout.strip() == "['connector', 'connector.errors', 'connector.model']"


def test_the_core_never_names_a_package() -> None:
    names = re.compile(r"\b(exact|moneybird|twinfield|adsolut)\b", re.IGNORECASE)
    offenders = []
    for name, path in MODULES.items():
        if not name.startswith("connector"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(r"^\s*(from|import)\s+adapters\b", code) or (names.search(code) and re.search(r"""["']adapters\.""", code)):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_connector_has_about_a_dozen_top_level_modules() -> None:
    top = sorted(p.name for p in (REPO / "connector").glob("*.py") if p.name != "__init__.py")
    assert len(top) <= 14, top


def test_the_architecture_page_names_every_folder_and_module_of_connector_as_it_is() -> None:
    page = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    tree = page.split("```", 2)[1]
    for path in sorted((REPO / "connector").iterdir()):
        if path.name.startswith(("_", ".")) or path.name == "py.typed":
            continue
        assert f"  {path.name}{'/' if path.is_dir() else ''}" in tree or f" {path.name}," in tree, path.name
    for path in sorted((REPO / "connector" / "cli").glob("*.py")):
        if path.name != "__init__.py":
            assert f"    {path.name}" in tree, f"cli/{path.name}"
    for word in re.findall(r"^\s{2,4}(\w+\.py|\w+/)", tree, re.M):
        name = word.rstrip("/")
        found = [p for folder in ("connector", "adapters", "rules", "tests", "docs") for p in (REPO / folder).rglob(name)]
        assert found or (REPO / name).exists(), f"docs/architecture.md names {word}, which does not exist"


# The folder beside the repository, spelled in pieces so this file does not name it itself.
SIBLING = "sha" + "red"
OUTSIDE = re.compile(rf"\.\./{SIBLING}|/[^/\s]+/{SIBLING}/|(?<![\w/.-])(DESIGN|DOMAIN)\.md|\bref §")


def test_nothing_in_the_repository_points_outside_it() -> None:
    tracked = subprocess.run(["git", "ls-files"], capture_output=True, text=True, cwd=REPO, check=False).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    offenders = []
    for name in tracked:
        path = REPO / name
        if path.suffix not in (".py", ".md", ".yaml", ".yml", ".j2", ".toml", ".cfg", ".txt", "") or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        offenders += [f"{name}: {m.group(0)}" for m in OUTSIDE.finditer(text)]
    assert not offenders, offenders
