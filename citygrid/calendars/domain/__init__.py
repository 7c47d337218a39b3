"""Pure calendar arithmetic: no Django here."""
