"""Coordination between agents: the shared ``state:`` board, answers and votes.

The models of the keys live in :mod:`.spec`; the board and its waiters in
:mod:`.state`; answers and majority votes in :mod:`.vote`; the static checks in
:mod:`.checks`; what the report shows in :mod:`.fold`.
"""
