"""The case matrix: Case, ids, tiers, seeded data and plans (Keras and tf1)."""
