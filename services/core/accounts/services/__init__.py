"""Accounts' writes: logging in and API tokens (``login``), running a practice's staff
(``staff``). Callers import the functions from here."""

from core.accounts.services.login import (
    PATIENT_VIEW_TRIES,
    LoginError,
    LoginResult,
    api_token_authenticate,
    api_token_create,
    api_token_enter,
    api_token_revoke,
    confirmed_device,
    enrollment_device,
    login_check_code,
    login_check_password,
    memberships_of,
    password_change,
    patient_view_pin_set,
    patient_view_unlock_ok,
    person_create,
)

__all__ = [
    "PATIENT_VIEW_TRIES",
    "LoginError",
    "LoginResult",
    "api_token_authenticate",
    "api_token_create",
    "api_token_enter",
    "api_token_revoke",
    "confirmed_device",
    "enrollment_device",
    "login_check_code",
    "login_check_password",
    "memberships_of",
    "password_change",
    "patient_view_pin_set",
    "patient_view_unlock_ok",
    "person_create",
]
