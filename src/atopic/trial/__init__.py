"""Trial analytics: design (TOML), derive (collected -> analysis tables), analyze (statistics into
one Analysis Results Dataset) and report (self-contained HTML).

Reads tables, never the registry (DESIGN.md).
"""
