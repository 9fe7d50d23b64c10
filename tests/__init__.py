"""Arrears' test suite (run on SQLite, and on PostgreSQL when ARREARS_TEST_DATABASE_URL is set)."""
