"""Provider registry: built-in type name -> factory of per-run sessions."""
