"""Pure helpers shared by the apps' domain modules (no Django)."""
