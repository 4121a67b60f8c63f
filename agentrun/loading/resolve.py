"""Load-time checks that a paradigm's code references resolve: functions and programs.

A ``python`` agent or check whose module cannot be found, a function name with a
typo, or a ``command`` whose program is not installed would fail on its first
attempt, however long the run took to get there. They are reported with the
file's other problems instead.

Two modes: ``import`` imports each module (with the paradigm's folder on
``sys.path``) and checks the function itself; ``find`` executes no user code and
only checks that each module's file exists. Commands are checked the same way in
both: a program that is a template (``{{ vars.tool }}``) is left to the run.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.machinery
import importlib.util
import inspect
import os
import shutil
import sys
from collections.abc import Collection, Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

from agentrun.engine.imports import importable_from
from agentrun.loading.positions import Loc
from agentrun.loading.semantics import Finding, hint, provider_name_of, provider_type_of
from agentrun.loading.spec import Paradigm

if TYPE_CHECKING:
    from agentrun.registry import Registry

ResolveMode = Literal["import", "find", "skip"]
"""``import``: import user modules; ``find``: locate their files only; ``skip``: neither."""

# Keys, not type names, so that a plugin's provider type with the same keys is checked too.
_CALLABLE_KEY = "callable"
_ARGV_KEY = "command"
_CALLABLE_CHECK = "python"


def check_references(
    paradigm: Paradigm,
    path: Path,
    registry: Registry,
    mode: ResolveMode = "import",
    unresolved: Collection[Loc] = (),
) -> list[Finding]:
    """Problems with the functions and programs a valid paradigm names.

    Args:
        paradigm: the validated paradigm.
        path: its file; modules and relative programs are looked up beside it.
        registry: the provider types (to tell which agents run a function or a program).
        mode: whether to import modules, only find their files, or check nothing.
        unresolved: locations holding a ``${VAR}`` that is not set (not checked: the
            value is incomplete).

    Returns:
        One finding per reference that cannot work, located at its value.
    """
    if mode == "skip":
        return []
    base = path.resolve().parent
    resolver = _Resolver(base, mode)
    findings: list[Finding] = []
    with importable_from(base):
        importlib.invalidate_caches()  # files written since the last import must be seen
        for loc, reference, what in _callables(paradigm, registry):
            if loc not in unresolved:
                message = resolver.callable_problem(reference, what)
                if message is not None:
                    findings.append(Finding(loc, message))
    for loc, program, cwd, search in _programs(paradigm, registry, base):
        if loc not in unresolved and "{" not in program:
            message = _program_problem(program, cwd, search)
            if message is not None:
                findings.append(Finding(loc, message))
    return list(dict.fromkeys(findings))


def _field(
    paradigm: Paradigm, registry: Registry, agent_name: str, key: str
) -> tuple[Loc, Any] | None:
    """The value of a provider key of an agent (its own, else its entry's), with its loc."""
    agent = paradigm.agents[agent_name]
    value = agent.provider_field(key)
    if value is not None:
        return ("agents", agent_name, key), value
    entry_name = provider_name_of(agent, paradigm, registry)
    entry = paradigm.providers.get(entry_name or "")
    if entry is not None and entry.provider_field(key) is not None:
        return ("providers", entry_name or "", key), entry.provider_field(key)
    return None


def _agents_with(paradigm: Paradigm, registry: Registry, key: str) -> Iterator[str]:
    """Agents whose provider type has ``key`` among its fields."""
    for name, agent in paradigm.agents.items():
        kind = provider_type_of(agent, paradigm, registry)
        if kind is not None and key in registry.providers[kind].field_names:
            yield name


def _callables(paradigm: Paradigm, registry: Registry) -> Iterator[tuple[Loc, str, str]]:
    """Each ``module:function`` reference: its loc, the reference, and what calls it."""
    for name in _agents_with(paradigm, registry, _CALLABLE_KEY):
        found = _field(paradigm, registry, name, _CALLABLE_KEY)
        if found is not None and isinstance(found[1], str):
            yield found[0], found[1], "agent"
    for name, imperative in paradigm.imperatives.items():
        if imperative.check == _CALLABLE_CHECK and isinstance(imperative.argument, str):
            yield ("imperatives", name, _CALLABLE_CHECK), imperative.argument, "check"


def _programs(
    paradigm: Paradigm, registry: Registry, base: Path
) -> Iterator[tuple[Loc, str, Path, str | None]]:
    """Each program run: its loc, its name, its working folder and the PATH it is searched in."""
    for name in _agents_with(paradigm, registry, _ARGV_KEY):
        found = _field(paradigm, registry, name, _ARGV_KEY)
        if found is None or not isinstance(found[1], list) or not found[1]:
            continue
        cwd = _field(paradigm, registry, name, "cwd")
        env = _field(paradigm, registry, name, "env")
        variables = env[1] if env is not None and isinstance(env[1], dict) else {}
        # The program's own env may set PATH; subprocess searches that one.
        search = str(variables["PATH"]) if "PATH" in variables else os.environ.get("PATH")
        folder = base / str(cwd[1]) if cwd is not None else base
        yield (*found[0], 0), str(found[1][0]), folder, search


class _Resolver:
    """Resolves ``module:function`` references, each module once."""

    def __init__(self, base: Path, mode: ResolveMode) -> None:
        self.base = base
        self.mode = mode
        self.modules: dict[str, ModuleType | str] = {}

    def callable_problem(self, reference: str, what: str) -> str | None:
        """Why ``reference`` cannot be called, or ``None`` when it can (or cannot be told)."""
        module_name, _, attribute = reference.partition(":")
        if module_name.endswith(".py"):
            stem = module_name.removesuffix(".py")
            return f"{reference!r} names a file; use the module name '{stem}:{attribute}'"
        if self.mode == "find":
            return self._find_problem(module_name)
        module = self.modules.get(module_name)
        if module is None:
            module = self.modules[module_name] = self._import(module_name)
        if isinstance(module, str):
            return module
        return _function_problem(module, reference, attribute, what)

    def _import(self, module_name: str) -> ModuleType | str:
        """The module, or why it cannot be imported."""
        self._forget_other(module_name.split(".")[0])
        try:
            return importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and f"{module_name}.".startswith(f"{exc.name}."):
                return self._not_found(module_name, exc.name)
            return f"cannot import {module_name!r}: {type(exc).__name__}: {exc}"
        except (Exception, SystemExit) as exc:  # user code: any failure is reported
            return f"cannot import {module_name!r}: {type(exc).__name__}: {exc}"

    def _forget_other(self, top: str) -> None:
        """Drop a cached module of this name that another paradigm's folder provided.

        Validating a folder checks several paradigms in one process; each may have its
        own ``bot.py``, and the first one imported must not stand in for the others.
        """
        cached = sys.modules.get(top)
        origin = getattr(cached, "__file__", None)
        if cached is None or origin is None:
            return
        local = importlib.machinery.PathFinder.find_spec(top, [str(self.base)])
        if local is None or local.origin is None or Path(local.origin) == Path(origin):
            return
        for name in [n for n in sys.modules if n == top or n.startswith(f"{top}.")]:
            del sys.modules[name]

    def _find_problem(self, module_name: str) -> str | None:
        """Whether the module's file exists, found without executing any module.

        ``importlib.util.find_spec`` of a dotted name imports its parents, so only the
        top-level name goes through it; submodules are looked up in the folders of
        their package with the path finder, which reads directories only.
        """
        parts = module_name.split(".")
        try:
            spec = importlib.util.find_spec(parts[0])
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            return self._not_found(module_name, parts[0])
        for index in range(1, len(parts)):
            locations = spec.submodule_search_locations
            parent = ".".join(parts[:index])
            if locations is None:
                return f"module {parent!r} is not a package, so {module_name!r} does not exist"
            name = ".".join(parts[: index + 1])
            found = importlib.machinery.PathFinder.find_spec(name, list(locations))
            if found is None:
                return self._not_found(module_name, name)
            spec = found
        return None

    def _not_found(self, module_name: str, missing: str) -> str:
        where = "beside the paradigm or on sys.path"
        message = f"no module named {missing!r} {where}"
        if missing == module_name.split(".")[0]:
            message += hint(missing, _local_modules(self.base))
        return message


def _local_modules(base: Path) -> list[str]:
    """Names of the modules and packages in ``base``, for a did-you-mean hint."""
    try:
        entries = list(base.iterdir())
    except OSError:
        return []
    names = [p.stem for p in entries if p.suffix == ".py" and p.is_file()]
    names += [p.name for p in entries if p.is_dir() and (p / "__init__.py").is_file()]
    return sorted(names)


def _function_problem(module: ModuleType, reference: str, attribute: str, what: str) -> str | None:
    """Why ``module.attribute`` cannot serve as a function, or ``None``."""
    if not hasattr(module, attribute):
        functions = [n for n in dir(module) if not n.startswith("_") and _is_function(module, n)]
        close = difflib.get_close_matches(attribute, functions, n=1)
        found = f" (did you mean {close[0]!r}?)" if close else ""
        return f"module {module.__name__!r} has no function {attribute!r}{found}"
    function = getattr(module, attribute)
    if not callable(function):
        return f"{reference!r} is not callable (it is a {type(function).__name__})"
    if inspect.isgeneratorfunction(function) or inspect.isasyncgenfunction(function):
        wanted = "a string" if what == "agent" else "a bool or (bool, reason)"
        return f"{reference!r} is a generator function; it must return {wanted}"
    return None


def _is_function(module: ModuleType, name: str) -> bool:
    value = getattr(module, name, None)
    return callable(value) and not isinstance(value, type | ModuleType)


def _program_problem(program: str, cwd: Path, search: str | None) -> str | None:
    """Why ``program`` cannot be started from ``cwd``, or ``None`` when it can."""
    if not program:
        return "the command's program is empty"
    if os.sep in program or (os.altsep and os.altsep in program):
        target = Path(cwd, program)
        if not target.exists():
            return f"command not found: {program!r} (no such file in {_shown(cwd)})"
        if target.is_dir() or not os.access(target, os.X_OK):
            return f"command not executable: {program!r} (make it executable: chmod +x)"
        return None
    if shutil.which(program, path=search) is not None:
        return None
    message = f"command not found: {program!r} is not on PATH"
    if Path(cwd, program).is_file():
        message += f" (a program in this folder needs a path: './{program}')"
    return message


def _shown(folder: Path) -> str:
    """The folder as a user would name it: relative to the current one when below it."""
    try:
        return str(folder.relative_to(Path.cwd())) or "."
    except ValueError:
        return str(folder)
