"""``prompt_file:``: an agent's prompt read verbatim from a file beside the paradigm.

Its text is never rendered: a prompt full of ``{{`` (adversarial prompts, code
samples) reaches the provider exactly as written. It is turned into a template
that renders to itself, so the rest of the program sees an ordinary prompt.
"""

from __future__ import annotations

from pathlib import Path

from agentrun.loading.positions import MAX_FILE_BYTES
from agentrun.loading.semantics import Finding
from agentrun.loading.spec import AgentSpec, Paradigm

_KEY = "prompt_file"


def literal_template(text: str) -> str:
    """A Jinja template that renders to ``text`` exactly (every ``{`` a literal)."""
    return text.replace("{", "{{ '{' }}")


def read_prompt_files(paradigm: Paradigm, path: Path) -> tuple[Paradigm, list[Finding]]:
    """The paradigm with each ``prompt_file`` read into its agent's prompt, and the problems.

    Args:
        paradigm: the validated paradigm.
        path: its file; a relative ``prompt_file`` is relative to its folder.

    Returns:
        The updated paradigm (unchanged when no agent names a file) and one finding per
        file that cannot be read or agent that also sets ``prompt``.
    """
    base = path.resolve().parent
    findings: list[Finding] = []
    agents: dict[str, AgentSpec] = {}
    for name, agent in paradigm.agents.items():
        if agent.prompt_file is None:
            continue
        loc = ("agents", name, _KEY)
        if agent.prompt is not None:
            findings.append(
                Finding(loc, "prompt and prompt_file exclude each other; keep one", at_key=True)
            )
            continue
        text, problem = _read(base / agent.prompt_file, agent.prompt_file)
        if problem is not None:
            findings.append(Finding(loc, problem))
        else:
            agents[name] = agent.model_copy(update={"prompt": literal_template(text)})
    if not agents:
        return paradigm, findings
    updated = paradigm.model_copy(update={"agents": {**paradigm.agents, **agents}})
    return updated, findings


def _read(file: Path, written: str) -> tuple[str, str | None]:
    """The file's text, or why it cannot be read."""
    try:
        with file.open("rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return "", f"prompt_file: no such file {written!r} (looked in {file.parent})"
    except IsADirectoryError:
        return "", f"prompt_file: {written!r} is a folder, not a file"
    except OSError as exc:
        return "", f"prompt_file: cannot read {written!r}: {exc.strerror or exc}"
    if len(data) > MAX_FILE_BYTES:
        return "", f"prompt_file: {written!r} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB"
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return "", f"prompt_file: {written!r} is not UTF-8 text (byte 0x{data[exc.start]:02x})"
