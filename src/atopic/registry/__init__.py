"""The trial site's record: subjects, visits, scores, doses, labs, adverse events; users, roles,
blinding, randomization and an append-only, hash-chained audit trail (SQLite or PostgreSQL)."""
