"""Pure security rules (no Django): masking of personal data."""
