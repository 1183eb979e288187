"""The ledger: a private git repository of plain files, its schema and its one trust rule."""
