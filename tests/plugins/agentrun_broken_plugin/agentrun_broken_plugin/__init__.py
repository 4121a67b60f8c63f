"""A plugin whose import fails, as a plugin with a missing dependency does."""

import agentrun_no_such_dependency  # noqa: F401

BROKEN = None
