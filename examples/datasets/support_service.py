"""The shop's support service of ``paradigms/support_bot.py``, importable from this folder."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_PARADIGMS = Path(__file__).resolve().parents[2] / "paradigms"

_spec = importlib.util.spec_from_file_location("support_bot", _PARADIGMS / "support_bot.py")
assert _spec is not None and _spec.loader is not None
_module = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("support_bot", _module)  # its dataclasses look themselves up
# The bot imports its neighbour `pace`; the folder is on the path only while it loads.
sys.path.insert(0, str(_PARADIGMS))
try:
    _spec.loader.exec_module(_module)
finally:
    sys.path.remove(str(_PARADIGMS))
reply = _module.reply
