"""Security: audit log, login protection, password policy, security headers, masking."""
