"""The docstring convention of CONTRIBUTING.md holds in every module of `agents` and `memtape_env`.

Parameters are documented as SB3 does (`:param name:` field lists), environments with Gymnasium's Markdown
sections; a Google-style (`Args:`) or numpy-style (`Parameters` over a line of dashes) section is a second
convention creeping back, and a `:param` naming an argument the signature lacks is a stale docstring. The modules
are parsed, not imported.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(p for package in ("agents", "memtape_env") for p in (ROOT / package).rglob("*.py"))
SECTIONS = "Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|Other Parameters|Returns|Yields|Raises"
# Google style ("Args:" alone on its line) and numpy style (the section name over a line of dashes). Gymnasium's
# "## Arguments" heading of the environments starts with "#", so it does not match.
GOOGLE = re.compile(rf"^\s*({SECTIONS}):\s*$")
NUMPY = re.compile(rf"^\s*({SECTIONS})\s*\n\s*-{{3,}}\s*$", re.MULTILINE)
PARAM = re.compile(r"^\s*:param\s+(?:[\w\[\], |.]+\s+)?(\w+):", re.MULTILINE)

Documented = ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef


def _documented(tree: ast.Module) -> Iterator[tuple[Documented, str]]:
    for node in ast.walk(tree):
        if isinstance(node, Documented):
            doc = ast.get_docstring(node, clean=True)
            if doc:
                yield node, doc


def _where(path: Path, node: Documented) -> str:
    return f"{path.name}:{getattr(node, 'lineno', 1)} {getattr(node, 'name', '<module>')}"


def _signature(node: Documented) -> set[str] | None:
    """The argument names a docstring's `:param`s may name: the function's, or a class's `__init__` (else its
    `forward`, for a `torch.autograd.Function` whose `apply` takes `forward`'s arguments); None: none to check."""
    if isinstance(node, ast.ClassDef):
        methods = {n.name: n for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
        node = methods.get("__init__") or methods.get("forward")  # type: ignore[assignment]
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return None
    args = node.args
    names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
    return set(names)


def _problems(path: Path) -> list[str]:
    problems = []
    for node, doc in _documented(ast.parse(path.read_text(encoding="utf-8"))):
        where = _where(path, node)
        problems += [
            f"{where}: Google-style section {line.strip()!r}" for line in doc.splitlines() if GOOGLE.match(line)
        ]
        problems += [f"{where}: numpy-style section {m.group(1)!r}" for m in NUMPY.finditer(doc)]
        allowed = _signature(node)
        if allowed is not None:
            problems += [
                f"{where}: :param {name} is not an argument" for name in PARAM.findall(doc) if name not in allowed
            ]
    return problems


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_docstrings_follow_the_convention(path: Path) -> None:
    problems = _problems(path)
    assert not problems, f"{path.relative_to(ROOT)}:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ('def f(x):\n    """Do.\n\n    Args:\n        x: a value\n    """\n', "Google-style section 'Args:'"),
        ('def f(x):\n    """Do.\n\n    Returns:\n        a value\n    """\n', "Google-style section 'Returns:'"),
        (
            'def f(x):\n    """Do.\n\n    Parameters\n    ----------\n    x : int\n    """\n',
            "numpy-style section 'Parameters'",
        ),
        ('def f(x):\n    """Do.\n\n    :param y: gone\n    """\n', ":param y is not an argument"),
        (
            'class C:\n    """Do.\n\n    :param y: gone\n    """\n\n    def __init__(self, x): ...\n',
            ":param y is not an argument",
        ),
    ],
)
def test_the_check_finds_other_conventions(tmp_path: Path, source: str, found: str) -> None:
    path = tmp_path / "module.py"
    path.write_text(source)
    problems = _problems(path)
    assert any(found in p for p in problems), problems


def test_the_check_accepts_the_convention(tmp_path: Path) -> None:
    source = (
        'class Env:\n    r"""An env.\n\n    ## Arguments\n\n    | argument | type |\n    """\n\n'
        "    def __init__(self, x: int) -> None: ...\n\n\n"
        'def f(x, *rest, y=1, **kw):\n    """Do.\n\n    :param x: a value\n    :param y: another\n    :param kw: more\n'
        '    :return: the result\n    """\n'
    )
    path = tmp_path / "module.py"
    path.write_text(source)
    assert _problems(path) == []
