"""Pure audio helpers for what callers send us."""
