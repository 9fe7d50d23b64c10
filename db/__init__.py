"""The data layer and the business rules of Arrears: models, connection, migrations, the
ledger, audit, the queue and compliance. It knows nothing of Textual; screens and the CLI
call its functions."""
