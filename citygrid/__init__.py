"""citygrid: digital city management (数字城管)."""
