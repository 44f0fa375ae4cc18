"""Every authorization rule lives in the access policy: no role-name check elsewhere.

A page, an API view, a service or a template asks the policy (``decide``,
``decide_practice``, their ``require_*`` and ``records.access``; templates use the ``may``
context variable or a flag their view computed from the policy). None of them tests a
role name. This test reads the source (no import side effects) and fails naming the line
that does, outside the modules allowed below.

What counts as a role check, in Python:

- naming a role through its enum (``Role.PRACTITIONER``, ``RoleName.SECRETARY``);
- a role name as a string in a comparison (``== "secretary"``, ``"practitioner" in x``),
  in a set literal (``roles & {"practitioner", "secretary"}``), or as a membership's role
  in a query (``role="practitioner"``, ``memberships__role=...``);
- comparing someone's roles (``x in actor.roles``, ``actor.roles & ...``) or a role
  (``membership.role == ...``).

In templates: an ``{% if %}`` or ``{% elif %}`` naming a role or reading ``.roles`` /
``.role``.

A role name in data is not a check: a form's choices, the words of the patient's access
report, a generated membership, a dict key naming a form field ("practitioner" is also
the name of fields and relations) are left alone.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[1] / "services"

ROLE_NAMES = {"practitioner", "secretary", "practice_admin"}
ROLE_ENUMS = {"Role", "RoleName"}
ROLE_MEMBERS = {name.upper() for name in ROLE_NAMES}

# The only modules that may name roles in checks, and why.
ALLOWED = {
    # The policy: every rule about what a role may do.
    "core/access/policy.py": "the access policy",
    # The role definitions.
    "core/accounts/models.py": "the role definitions (Role, Membership)",
    # Who holds which role: the reads of memberships the policy's facts come from.
    "core/accounts/selectors/__init__.py": "reading who holds which role",
    # Giving and taking roles: a practice keeps an administrator, a practitioner needs a
    # profession. Rules about the roles themselves, not about what they may do.
    "core/accounts/services/staff.py": "giving and taking roles",
    # Making the demonstration's and a new practice's people, with their roles.
    "carnet_demo/practice.py": "the demonstration's people and their roles",
    "carnet/management/commands/onboard_practice.py": "a new practice's first administrator",
    "core/practices/services/applications.py": "an approved practice's people and their roles",
}

TEMPLATE_TAG = re.compile(r"{%-?\s*(?:if|elif)\b(.*?)-?%}", re.S)
QUOTED_ROLE = "|".join(sorted(ROLE_NAMES))
TEMPLATE_ROLE = re.compile(rf"""["'](?:{QUOTED_ROLE})["']|\.roles?\b""")


def _role_name(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value in ROLE_NAMES


def _names_a_role(node: ast.AST) -> bool:
    """A role name, alone or in a set, list or tuple literal."""
    if isinstance(node, (ast.Set, ast.List, ast.Tuple)):
        return any(_role_name(element) for element in node.elts)
    return _role_name(node)


def _reads_roles(node: ast.AST) -> bool:
    if isinstance(node, ast.Name):
        return node.id == "roles"
    return isinstance(node, ast.Attribute) and node.attr in ("roles", "role")


def _query_on_role(keyword: ast.keyword) -> bool:
    name = keyword.arg or ""
    return name == "role" or name.endswith("__role") or name.endswith("role__in")


def role_checks(source: str, filename: str) -> list[tuple[int, str]]:
    """Each role check of one Python module: (line, what)."""
    tree = ast.parse(source, filename=filename)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in ROLE_ENUMS
            and node.attr in ROLE_MEMBERS
        ):
            found.append((node.lineno, f"names {node.value.id}.{node.attr}"))
        elif isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_names_a_role(operand) for operand in operands):
                found.append((node.lineno, "compares with a role name"))
            elif any(_reads_roles(operand) for operand in operands):
                found.append((node.lineno, "compares roles"))
        elif isinstance(node, ast.BinOp) and any(
            _reads_roles(side) or _names_a_role(side) for side in (node.left, node.right)
        ):
            found.append((node.lineno, "combines roles"))
        elif isinstance(node, ast.Set) and _names_a_role(node):
            found.append((node.lineno, "a set of role names"))
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                if _query_on_role(keyword) and _names_a_role(keyword.value):
                    found.append((keyword.value.lineno, f"queries {keyword.arg}= a role name"))
    # One report per line and kind (a set compared is both a set and a comparison).
    return sorted(set(found))


def template_checks(text: str) -> list[tuple[int, str]]:
    found = []
    for tag in TEMPLATE_TAG.finditer(text):
        if TEMPLATE_ROLE.search(tag.group(1)):
            found.append((text.count("\n", 0, tag.start()) + 1, "tests a role in a template"))
    return found


def violations() -> list[str]:
    found = []
    for path in sorted(SERVICES.rglob("*")):
        relative = path.relative_to(SERVICES).as_posix()
        if "/migrations/" in relative or ".egg-info/" in relative or relative in ALLOWED:
            continue
        if path.suffix == ".py":
            checks = role_checks(path.read_text(), str(path))
        elif path.suffix == ".html":
            checks = template_checks(path.read_text())
        else:
            continue
        found += [f"{relative}:{line} {what}" for line, what in checks]
    return found


def test_no_role_check_outside_the_policy() -> None:
    assert violations() == []


def test_the_role_names_are_the_roles_defined() -> None:
    """A new role is checked for too."""
    from core.access.policy import RoleName
    from core.accounts.models import Role

    assert set(Role.values) == ROLE_NAMES == {role.value for role in RoleName}


def test_every_allowed_module_exists_and_names_roles() -> None:
    """The allow-list names no stale module: each one exists and would be reported."""
    for relative in ALLOWED:
        path = SERVICES / relative
        assert path.exists(), relative
        assert role_checks(path.read_text(), str(path)), relative


def _fake_services(tmp_path: Path, monkeypatch) -> Path:
    fake = tmp_path / "services"
    for package in ("billing", "records/templates/records", "core/access", "core/accounts"):
        (fake / package).mkdir(parents=True)
    monkeypatch.setattr(__import__(__name__, fromlist=["x"]), "SERVICES", fake)
    return fake


def test_the_check_catches_a_role_check_planted_in_a_copy(tmp_path: Path, monkeypatch) -> None:
    """The rule can fail: role checks planted in views, services and templates are
    reported; the policy and the role definitions are not, nor a role name in data or a
    field named "practitioner"."""
    fake = _fake_services(tmp_path, monkeypatch)
    (fake / "billing" / "views.py").write_text(
        "def view(request):\n"
        '    if "practitioner" in request.actor.roles:\n'
        "        pass\n"
        '    if not request.actor.roles & {"secretary", "practice_admin"}:\n'
        "        pass\n"
        '    if membership.role == "practitioner":\n'
        "        pass\n"
        "    if RoleName.SECRETARY in roles:\n"
        "        pass\n"
    )
    (fake / "billing" / "services.py").write_text(
        'Membership.objects.filter(practice_id=1, role="practitioner")\n'
        "DESK = {'secretary', 'practice_admin'}\n"
        "Person.objects.filter(memberships__role=Role.PRACTITIONER)\n"
    )
    (fake / "billing" / "fine.py").write_text(
        '"""A practitioner, a secretary."""\n'
        'CHOICES = [("practitioner", "Practitioner"), ("secretary", "Secretary")]\n'
        'form.fields["practitioner"].choices = []\n'
        'data = {"practitioner": 1}\n'
        'Appointment.objects.select_related("practitioner")\n'
        "allowed = decide_practice(actor, PracticeAction.MERGE_RECORDS, 1).allowed\n"
    )
    (fake / "records" / "templates" / "records" / "chart.html").write_text(
        "<p>{% translate 'practitioner' %}</p>\n"
        '{% if "practitioner" in request.actor.roles %}<a>x</a>{% endif %}\n'
        "{% if may.open_emergency_access %}<a>y</a>{% endif %}\n"
        "{% elif user.role == x %}\n"
    )
    (fake / "core" / "access" / "policy.py").write_text(
        "if RoleName.PRACTITIONER in actor.roles:\n    pass\n"
    )
    (fake / "core" / "accounts" / "models.py").write_text(
        'class Role:\n    PRACTITIONER = "practitioner"\n'
    )
    assert violations() == [
        "billing/services.py:1 queries role= a role name",
        "billing/services.py:2 a set of role names",
        "billing/services.py:3 names Role.PRACTITIONER",
        "billing/views.py:2 compares with a role name",
        "billing/views.py:4 a set of role names",
        "billing/views.py:4 combines roles",
        "billing/views.py:6 compares with a role name",
        "billing/views.py:8 compares roles",
        "billing/views.py:8 names RoleName.SECRETARY",
        "records/templates/records/chart.html:2 tests a role in a template",
        "records/templates/records/chart.html:4 tests a role in a template",
    ]
