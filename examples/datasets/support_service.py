"""The shop's support service of ``paradigms/support_bot.py``, importable from this folder."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "support_bot", Path(__file__).resolve().parents[2] / "paradigms" / "support_bot.py"
)
assert _spec is not None and _spec.loader is not None
_module = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("support_bot", _module)  # its dataclasses look themselves up
_spec.loader.exec_module(_module)
reply = _module.reply
