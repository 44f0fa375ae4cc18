"""The shared kernel: practices (tenants), accounts, the access policy, the audit trail,
documents. It imports no other Carnet service."""
