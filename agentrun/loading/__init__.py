"""Loading a paradigm: YAML with positions, ``${VAR}`` interpolation, the spec models,
semantic and template checks, all problems in one pass."""
