"""The layers of the code, written down once, and a walk over every module that
fails on an import of a higher layer.

From the bottom up; a module imports only from its own layer or below (the
README's "Architecture" section draws the same picture):

1. foundation    types, errors, config, text, language
2. index         embeddings, store (the only module importing chromadb)
3. ingest        ingest/: load, clean, chunk, structure, prepare, library, pipeline
4. retrieval     retrieve, lexical, translate, decompound, fitted
5. answering     answer, answering/, llm/, conversation
6. facade        the ``Assistant`` (assistant), feedback, draft (drafts are built
                 through the Assistant), and the package itself (``lsn_assistant``
                 re-exports ``Assistant``, lazily)
7. tools         eval/ (the evaluation and the performance runs) and
                 integrations/ (llama-index adapters; eval/bench times them)
8. interfaces    api/, cli, feedback_cli, mcp_server, auth, schemas, ui/

Edge to edge: the interfaces may use the tools below them (``lsn eval`` is
eval's command group, the UI's evaluation tab reads eval's runs), and interfaces
may mount one another (the API mounts /mcp and the UI); nothing in eval/ or
integrations/ imports an interface. scripts/ sit above everything and are not
walked.

A function-level import of one of our own modules is allowed only where it
defers a heavy library and says so in a comment containing "defer" (on the
import or on the comment lines right above it), or where it is listed in
``KNOWN_INNER`` with the reason it is still there. Imports of third-party
libraries inside functions are not checked: those only defer a load.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WALKED = ("lsn_assistant", "ingest", "ui", "eval")
OURS = WALKED

LAYERS = {1: "foundation", 2: "index", 3: "ingest", 4: "retrieval", 5: "answering", 6: "facade",
          7: "tools", 8: "interfaces"}

# module (or package prefix) -> layer; the longest matching prefix wins.
LAYER_OF = {
    "lsn_assistant.types": 1,
    "lsn_assistant.errors": 1,
    "lsn_assistant.config": 1,
    "lsn_assistant.text": 1,
    "lsn_assistant.language": 1,
    "lsn_assistant.i18n": 1,
    "lsn_assistant.data": 1,
    "lsn_assistant.embeddings": 2,
    "lsn_assistant.store": 2,
    "ingest": 3,
    "lsn_assistant.retrieve": 4,
    "lsn_assistant.lexical": 4,
    "lsn_assistant.translate": 4,
    "lsn_assistant.decompound": 4,
    "lsn_assistant.fitted": 4,
    "lsn_assistant.answer": 5,
    "lsn_assistant.answering": 5,
    "lsn_assistant.llm": 5,
    "lsn_assistant.conversation": 5,
    "lsn_assistant": 6,  # the package: re-exports Assistant (lazily)
    "lsn_assistant.assistant": 6,
    "lsn_assistant.feedback": 6,
    "lsn_assistant.draft": 6,
    "eval": 7,
    "lsn_assistant.integrations": 7,
    "lsn_assistant.api": 8,
    "lsn_assistant.cli": 8,
    "lsn_assistant.feedback_cli": 8,
    "lsn_assistant.mcp_server": 8,
    "lsn_assistant.auth": 8,
    "lsn_assistant.schemas": 8,
    "ui": 8,
}

# Function-level imports of our own modules that stay, with why: files another
# piece of work owns right now. None of them hides a cycle (the imported
# modules import nothing of the importer's at module level); they can move to
# the top of their files when that work lands.
KNOWN_INNER: dict[tuple[str, str], str] = {}

# Files the answers rebuild is rewriting right now: their function-level imports
# are not checked yet (the layer rule and the cycle check apply). Remove an
# entry when that work lands.
IN_PROGRESS: tuple[str, ...] = ()


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        layer = LAYER_OF.get(".".join(parts[:n]))
        if layer is not None:
            return layer
    return None


def module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> list[Path]:
    found = []
    for top in WALKED:
        found.extend(p for p in sorted((REPO / top).rglob("*.py")) if "static" not in p.parts)
    return found


def is_package(module: str) -> bool:
    return (REPO / Path(*module.split(".")) / "__init__.py").is_file()


def known_module(module: str) -> bool:
    base = REPO / Path(*module.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports(path: Path):
    """(line, imported module, at module level?) for each import of our own
    modules in one file. ``from pkg import mod`` counts as importing ``pkg.mod``
    when that is a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    me = module_name(path)
    package = me if is_package(me) else me.rpartition(".")[0]

    def visit(node, top: bool):
        for child in ast.iter_child_nodes(node):
            inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] in OURS:
                        yield child, alias.name, top
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - (child.level - 1)]
                    source = ".".join(base + ([child.module] if child.module else []))
                else:
                    source = child.module or ""
                if source.split(".")[0] not in OURS:
                    continue
                for alias in child.names:
                    target = f"{source}.{alias.name}"
                    yield child, target if known_module(target) else source, top
            else:
                yield from visit(child, inner)

    yield from visit(tree, True)


def says_deferred(lines: list[str], node: ast.stmt) -> bool:
    """A comment with "defer" on the import, or in the run of comment, import
    and blank lines right above it."""
    for no in range(node.lineno, (node.end_lineno or node.lineno) + 1):
        if "#" in lines[no - 1] and "defer" in lines[no - 1].split("#", 1)[1].lower():
            return True
    no = node.lineno - 1
    while no >= 1:
        line = lines[no - 1].strip()
        if line.startswith("#"):
            if "defer" in line.lower():
                return True
        elif line and not line.startswith(("from ", "import ")) and line != ")" and not line.endswith(","):
            return False
        no -= 1
    return False


def test_every_module_has_a_layer():
    missing = [module_name(p) for p in modules() if layer_of(module_name(p)) is None]
    assert not missing, f"modules without a layer (add them to LAYER_OF in tests/test_layers.py): {missing}"


def test_no_module_imports_a_higher_layer():
    problems = []
    for path in modules():
        mine = layer_of(module_name(path))
        for node, target, _top in imports(path):
            theirs = layer_of(target)
            if mine is not None and theirs is not None and theirs > mine:
                problems.append(
                    f"{path.relative_to(REPO)}:{node.lineno}: {module_name(path)} ({mine} {LAYERS[mine]}) "
                    f"imports {target} ({theirs} {LAYERS[theirs]})")
    assert not problems, "imports of a higher layer:\n" + "\n".join(problems)


def test_function_level_imports_of_our_modules_only_defer_a_heavy_library():
    problems: list[str] = []
    seen_known = set()
    for path in modules():
        rel = path.relative_to(REPO).as_posix()
        lines = path.read_text(encoding="utf-8").splitlines()
        for node, target, top in imports(path):
            if top or rel.startswith(IN_PROGRESS):
                continue
            if (rel, target) in KNOWN_INNER:
                seen_known.add((rel, target))
                continue
            if not says_deferred(lines, node) and not any(p.startswith(f"{rel}:{node.lineno}: {target} ") for p in problems):
                problems.append(f"{rel}:{node.lineno}: {target} imported inside a function without saying "
                                "what heavy library it defers (import it at the top, or say `# defers …`)")
    assert not problems, "\n".join(problems)
    stale = set(KNOWN_INNER) - seen_known
    assert not stale, f"KNOWN_INNER lists imports that are gone (remove them): {sorted(stale)}"


def test_no_cycle_among_module_level_imports():
    graph: dict[str, set[str]] = {}
    for path in modules():
        me = module_name(path)
        graph.setdefault(me, set()).update(t for _n, t, top in imports(path) if top and t != me)
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = walk(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))
    for node in sorted(graph):
        if node not in state:
            cycle = walk(node)
            assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_walk_sees_a_planted_upward_import(tmp_path):
    """The walk itself works: an upward import is found and named."""
    assert layer_of("lsn_assistant.store") == 2 and layer_of("lsn_assistant.assistant") == 6
    assert layer_of("ingest.library") == 3 and layer_of("eval.perf.common") == 7
    assert layer_of("lsn_assistant.api.routes.answers") == 8 and layer_of("lsn_assistant.llm.grounding") == 5
    found = {t for _n, t, _top in imports(REPO / "lsn_assistant" / "assistant.py")}
    assert {"lsn_assistant.retrieve", "ingest.library", "lsn_assistant.llm"} <= found
