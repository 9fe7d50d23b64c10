"""The Textual app of Arrears and the `arrears` command."""
