"""The layers of docs/architecture.md, read from the code's own imports: no import circles, and each
layer imports only the layers below it (a fake never reaches production code, a source never
reaches another platform or the Dagster code location)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("pipelines", "assets", "deskpulse")


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for package in PACKAGES for path in (REPO / package).rglob("*.py")}


def imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Each first-party module → the first-party modules it imports, wherever in the file (an
    import inside a function is a dependency too). ``from a import b`` names the module ``a.b``
    when there is one, else ``a``."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    submodule = f"{node.module}.{alias.name}"
                    found.add(submodule if submodule in modules else node.module)
        graph[name] = {target for target in found if target in modules and target != name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


# What a source applies while it loads: the classes of personal fields and the suppression of
# erased people. The other privacy modules work across platforms, through the registry.
PRIVACY_AT_LOAD = {"pipelines.privacy", "pipelines.privacy.classification", "pipelines.privacy.suppression"}


def layer(module: str) -> str:
    """The layer a module belongs to (docs/architecture.md)."""
    parts = module.split(".")
    if parts[0] != "pipelines":
        return parts[0]
    if module in PRIVACY_AT_LOAD:
        return "pipelines.privacy"
    if len(parts) > 1 and parts[1] in ("world", "ingest", "fakes"):
        return f"pipelines.{parts[1]}"
    if len(parts) > 2 and parts[1] == "sources":
        return f"pipelines.sources.{parts[2]}"
    return "pipelines"


# What each layer may import besides itself; a platform's source or fake may not import another's.
ALLOWED = {
    "pipelines.world": set(),
    "pipelines.ingest": set(),
    "pipelines.privacy": {"pipelines.ingest"},
    "pipelines.sources.*": {"pipelines.ingest", "pipelines.privacy"},
    "pipelines.fakes": {"pipelines.world"},
    "pipelines": {"pipelines.ingest", "pipelines.privacy", "pipelines.sources.*", "pipelines.world"},
    "assets": {"pipelines", "pipelines.ingest", "pipelines.privacy", "pipelines.sources.*"},
    "deskpulse": {"assets", "pipelines", "pipelines.ingest", "pipelines.privacy", "pipelines.sources.*",
                  "pipelines.fakes", "pipelines.world"},
}


def allowed(source: str, target: str) -> bool:
    home, there = layer(source), layer(target)
    if home == there:
        return True
    def generic(name: str) -> str:
        return "pipelines.sources.*" if name.startswith("pipelines.sources.") else name

    return generic(home) != generic(there) and generic(there) in ALLOWED[generic(home)]


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return imports(_modules())


def test_there_are_no_import_circles(graph: dict[str, set[str]]) -> None:
    assert circles(graph) == []


def test_each_layer_imports_only_the_layers_below_it(graph: dict[str, set[str]]) -> None:
    crossings = sorted(f"{source} imports {target}" for source, targets in graph.items()
                       for target in targets if not allowed(source, target))
    assert crossings == []


def test_no_production_module_imports_a_fake(graph: dict[str, set[str]]) -> None:
    production = [name for name in graph if layer(name) not in ("pipelines.fakes", "deskpulse")]
    assert [name for name in production if any(layer(t) == "pipelines.fakes" for t in graph[name])] == []


def test_pipelines_never_import_dagster() -> None:
    found = []
    for name, path in _modules().items():
        if not name.startswith("pipelines"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{name} imports {n}" for n in names if n.split(".")[0] in ("dagster", "dagster_dbt",
                                                                                 "dagster_dlt", "assets")]
    assert found == []


def test_the_checker_sees_a_circle_and_a_crossing() -> None:
    """The checks above can fail: a made-up graph with a circle and a fake imported by production."""
    graph = {"pipelines.ingest.a": {"pipelines.ingest.b"},
             "pipelines.ingest.b": {"pipelines.ingest.a"},
             "assets.x": {"pipelines.fakes.zendesk.api"}, "pipelines.fakes.zendesk.api": set(),
             "pipelines.sources.zendesk": {"pipelines.sources.freshdesk"},
             "pipelines.sources.freshdesk": set()}
    assert circles(graph) == [["pipelines.ingest.a", "pipelines.ingest.b"]]
    assert not allowed("assets.x", "pipelines.fakes.zendesk.api")
    assert not allowed("pipelines.sources.zendesk", "pipelines.sources.freshdesk")
    assert allowed("pipelines.sources.zendesk", "pipelines.ingest.config")
