"""Adversarial verification: tests that try to break the promises Carnet makes."""
