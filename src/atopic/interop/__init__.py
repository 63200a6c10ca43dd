"""Interoperability: atopic's tables in the formats other systems speak.

``atopic.interop.cdisc`` writes and reads the collected (SDTM-like) and analysis (ADaM-like)
tables as SAS transport v5 (XPT) and CDISC Dataset-JSON v1.1, and writes a Define-XML 2.1 that
describes them. interop imports only ``atopic.tables`` (and ``atopic.errors``); the CLI wires it to
the registry and to trial.derive. See docs/interop.md.
"""
