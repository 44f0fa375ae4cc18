"""Practices: the tenants of a node, and their membership of the cooperative."""
