"""Imports point one way only: carnet -> billing, sharing -> records -> core.

The demo and benchmark generators (``carnet_demo``) are tools beside the product: they
may use every service, and no module of the product (the composition root included)
imports them.

A service may import a lower floor, never a higher one nor (billing/sharing) a sibling.
A service above records reads and writes the record only through its public modules
(selectors, services, its way to the policy, its signals): it never imports
``records.models`` (nor any other module of records) and never queries a class of the
record it names (``Patient.objects``). This test reads the source (no import side effects) and
fails naming the offending line.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[1] / "services"

FLOOR = {
    "core": 0,
    "records": 1,
    "billing": 2,
    "sharing": 2,
    "agenda": 2,
    "lab": 2,
    "carnet": 3,
    "carnet_demo": 3,
}

# Tools installed with the product but no part of it: no product module imports them.
TOOLS = {"carnet_demo": "the demo and benchmark generators"}

# A service's models are its own. The services of the second floor use the record's
# public modules only: reads in selectors, writes in services, the policy's decisions on
# the record (records.access) and the record's signals.
PUBLIC = {"records": ("records.selectors", "records.services", "records.access", "records.signals")}
KEEP_OUT = ("billing", "sharing", "agenda", "lab")
MANAGERS = {"objects", "_default_manager", "_base_manager"}


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """Every module a file imports, by its full name (``from records import models``
    imports ``records.models``)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((node.lineno, alias.name))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            for alias in node.names:
                found.append((node.lineno, f"{node.module}.{alias.name}"))
    return found


def imported_services(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((node.lineno, alias.name.split(".")[0]))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module.split(".")[0]))
    return [(line, name) for line, name in found if name in FLOOR]


def is_public(module: str) -> bool:
    public = PUBLIC.get(module.split(".")[0])
    if public is None or module in PUBLIC:
        return True  # not a guarded service, or the package itself (``from records import``)
    return any(module == name or module.startswith(name + ".") for name in public)


def private_imports(path: Path, tree: ast.AST) -> list[str]:
    """Imports of another service's private modules (``records.models`` and below)."""
    problems = []
    for line, module in imported_modules(tree):
        if not is_public(module):
            private = ".".join(module.split(".")[:2])
            problems.append(f"{path.relative_to(SERVICES)}:{line} imports {private}")
    return list(dict.fromkeys(problems))


def model_queries(path: Path, tree: ast.AST) -> list[str]:
    """A class named from a lower service (``from records.selectors import Patient``)
    queried directly (``Patient.objects``): a read around that service's selectors."""
    names = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
        if node.module.split(".")[0] in PUBLIC
        for alias in node.names
    }
    return [
        f"{path.relative_to(SERVICES)}:{node.lineno} queries {node.value.id}.{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr in MANAGERS
        and isinstance(node.value, ast.Name)
        and node.value.id in names
    ]


def violations() -> list[str]:
    problems = []
    for package, floor in FLOOR.items():
        for path in sorted((SERVICES / package).rglob("*.py")):
            for line, imported in imported_services(path):
                if imported == package:
                    continue
                if imported in TOOLS:
                    where = path.relative_to(SERVICES)
                    problems.append(f"{where}:{line} imports the tools {imported}")
                    continue
                same_floor_sibling = FLOOR[imported] == floor
                if FLOOR[imported] > floor or same_floor_sibling:
                    problems.append(f"{path.relative_to(SERVICES)}:{line} imports {imported}")
            if package in KEEP_OUT:
                tree = ast.parse(path.read_text(), filename=str(path))
                problems += private_imports(path, tree) + model_queries(path, tree)
    return problems


def test_imports_point_one_way_only() -> None:
    assert violations() == []


def fake_services(tmp_path: Path, monkeypatch) -> Path:
    fake = tmp_path / "services"
    for package in FLOOR:
        (fake / package).mkdir(parents=True)
    monkeypatch.setattr(__import__(__name__, fromlist=["x"]), "SERVICES", fake)
    return fake


def test_the_check_catches_an_upward_import(tmp_path: Path, monkeypatch) -> None:
    """The rule can fail: a core module importing records is reported."""
    fake = fake_services(tmp_path, monkeypatch)
    (fake / "core" / "bad.py").write_text("from records.models import Patient\n")
    (fake / "billing" / "sibling.py").write_text("import sharing.services\n")
    assert violations() == ["core/bad.py:1 imports records", "billing/sibling.py:1 imports sharing"]


def test_the_check_keeps_the_demo_tools_out_of_the_product(tmp_path: Path, monkeypatch) -> None:
    """The rule can fail: a kernel, record, second-floor or composition-root module
    importing the demo package, in any spelling and even inside a function, is reported;
    the demo package using the product is not."""
    fake = fake_services(tmp_path, monkeypatch)
    (fake / "core" / "bad.py").write_text("from carnet_demo.practice import PASSWORD\n")
    (fake / "records" / "lazy.py").write_text("def fill():\n    import carnet_demo.volume\n")
    (fake / "billing" / "plain.py").write_text("from carnet_demo import billing_demo\n")
    (fake / "carnet" / "urls.py").write_text("import carnet_demo\n")
    (fake / "carnet_demo" / "practice.py").write_text(
        "from billing.services import invoice_create\nfrom records.models import Patient\n"
    )
    assert violations() == [
        "core/bad.py:1 imports the tools carnet_demo",
        "records/lazy.py:2 imports the tools carnet_demo",
        "billing/plain.py:1 imports the tools carnet_demo",
        "carnet/urls.py:1 imports the tools carnet_demo",
    ]


def test_the_check_forbids_records_models_in_sharing_and_billing(
    tmp_path: Path, monkeypatch
) -> None:
    """The rule can fail: sharing or billing importing the record's models, in any
    spelling, another private module of records, or querying a model it names, is
    reported; the selectors, services, policy and signals are not."""
    fake = fake_services(tmp_path, monkeypatch)
    (fake / "sharing" / "fhir").mkdir()
    (fake / "sharing" / "fhir" / "bad.py").write_text(
        "from records.selectors import patient_get\nfrom records.models import Patient\n"
    )
    (fake / "sharing" / "deep.py").write_text("from records.models.clinical import EntryStatus\n")
    (fake / "sharing" / "plain.py").write_text("import records.models\n")
    (fake / "billing" / "bad.py").write_text("from records import models, selectors\n")
    (fake / "sharing" / "printing.py").write_text("from records.printing import record_pdf\n")
    (fake / "billing" / "query.py").write_text(
        "from records.selectors import Patient\n\nPatient.objects.filter(pk=1)\n"
    )
    (fake / "billing" / "good.py").write_text(
        "from records import access, selectors, services\n"
        "from records.selectors import Patient, patient_get\nfrom records.signals import x\n"
        "from billing.models import Invoice\n\nInvoice.objects.all()\n"
    )
    (fake / "records" / "own.py").write_text("from records.models import Patient\n")
    assert violations() == [
        "billing/bad.py:1 imports records.models",
        "billing/query.py:3 queries Patient.objects",
        "sharing/deep.py:1 imports records.models",
        "sharing/fhir/bad.py:2 imports records.models",
        "sharing/plain.py:1 imports records.models",
        "sharing/printing.py:1 imports records.printing",
    ]


# --- No import circles -----------------------------------------------------------------
# Two modules that import each other, even through a third one or through an import
# inside a function (a "lazy" import only hides the circle), are one module in two files:
# neither can be read, tested or moved alone. Between modules there is none; between the
# apps, the ones below are known and not broken yet (their imports, both ways, are left out).
KNOWN_APP_CIRCLES = {
    frozenset({"core.access", "core.accounts"}): (
        "the policy's choices name Person; accounts ask the policy about staff changes"
    ),
    frozenset({"core.access", "core.practices"}): (
        "the policy's models hold a foreign key to Practice; practices ask the policy"
    ),
}


def modules() -> dict[str, Path]:
    """Every module of the services by its dotted name (migrations apart)."""
    found = {}
    for path in sorted(SERVICES.rglob("*.py")):
        parts = path.relative_to(SERVICES).with_suffix("").parts
        if "migrations" in parts:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            found[".".join(parts)] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Which modules each module imports, wherever the import stands (top of the file,
    inside a function, under ``if TYPE_CHECKING``): ``from a.b import c`` is the module
    ``a.b.c`` when there is one, the module ``a.b`` otherwise."""
    known = modules()

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in known.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets.update(resolve(alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, *([node.module] if node.module else [])])
                targets.update(resolve(f"{base}.{alias.name}") for alias in node.names)
        graph[module] = {target for target in targets if target and target != module}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of nodes that reach each other (strongly connected, more than one)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def app_of(module: str) -> str | None:
    """The app a module belongs to: a service, or an app of the kernel (core.accounts);
    the kernel's loose modules (core.prepared...) are shared tools, no app."""
    parts = module.split(".")
    if parts[0] != "core":
        return parts[0]
    if len(parts) > 1 and (SERVICES / "core" / parts[1] / "apps.py").exists():
        return f"core.{parts[1]}"
    return None


def import_circles() -> list[str]:
    graph = import_graph()
    problems = [" <-> ".join(group) for group in circles(graph)]
    apps: dict[str, set[str]] = {}
    for module, targets in graph.items():
        for target in targets:
            mine, theirs = app_of(module), app_of(target)
            if mine and theirs and mine != theirs:
                apps.setdefault(mine, set()).add(theirs)
    for mine, theirs in list(apps.items()):
        # A known circle is not reported, nor counted in any other.
        apps[mine] = {app for app in theirs if frozenset({mine, app}) not in KNOWN_APP_CIRCLES}
    problems += ["apps " + " <-> ".join(group) for group in circles(apps)]
    return problems


def test_no_import_circles() -> None:
    assert import_circles() == []


def test_the_check_catches_an_import_circle(tmp_path: Path, monkeypatch) -> None:
    """The rule can fail: two modules importing each other, one of them only inside a
    function, are reported; so are two apps of the kernel whose modules import each
    other's (without any module circle)."""
    fake = fake_services(tmp_path, monkeypatch)
    (fake / "core" / "audit").mkdir()
    (fake / "core" / "audit" / "anchor.py").write_text("from core.audit.verify import Report\n")
    (fake / "core" / "audit" / "verify.py").write_text(
        "def check():\n    from core.audit import anchor\n"
    )
    for app in ("accounts", "practices"):
        (fake / "core" / app).mkdir()
        (fake / "core" / app / "apps.py").write_text("")
    (fake / "core" / "accounts" / "models.py").write_text("from core.practices.models import x\n")
    (fake / "core" / "practices" / "models.py").write_text("x = 1\n")
    (fake / "core" / "practices" / "context.py").write_text("from ..accounts import models\n")
    (fake / "records" / "plain.py").write_text("from core.audit import verify\n")
    assert import_circles() == [
        "core.audit.anchor <-> core.audit.verify",
        "apps core.accounts <-> core.practices",
    ]


# --- Templates name no higher app's pages ----------------------------------------------
# A template names the pages of its own app and of those below; the pages of the apps
# above reach it through core.navigation (each app registers its links in ``ready``).
# Django's {% url 'ns:name' %}, and Jinja2's url('ns:name') (core/jinja.py).
URL_TAG = re.compile(r"""(?:{%\s*url\s+|\burl\(\s*)["']([\w-]+):([\w-]+)""")
APP_NAME = re.compile(r"""^app_name\s*=\s*["']([\w-]+)["']""", re.MULTILINE)


def url_namespaces() -> dict[str, int]:
    """Each URL namespace (``app_name``) and the floor of the service that owns it."""
    floors: dict[str, int] = {}
    for package, floor in FLOOR.items():
        for path in sorted((SERVICES / package).rglob("*urls*.py")):
            for name in APP_NAME.findall(path.read_text()):
                floors[name] = min(floor, floors.get(name, floor))
    return floors


def templates_naming_higher_pages() -> list[str]:
    floors = url_namespaces()
    problems = []
    for package, floor in FLOOR.items():
        for path in sorted((SERVICES / package).rglob("*")):
            parts = path.relative_to(SERVICES).parts
            if not path.is_file() or not {"templates", "jinja2"} & set(parts):
                continue
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                for namespace, name in URL_TAG.findall(line):
                    if floors.get(namespace, -1) > floor:
                        where = path.relative_to(SERVICES)
                        problems.append(f"{where}:{number} names {namespace}:{name}")
    return problems


def test_templates_name_no_higher_app_page() -> None:
    assert templates_naming_higher_pages() == []


def test_the_check_catches_a_template_naming_a_higher_page(tmp_path: Path, monkeypatch) -> None:
    """The rule can fail: the kernel's layout (Django's or Jinja2's) naming the record's
    patient list, or the record's banner naming a sharing page, is reported; a page of its
    own app or of a lower one is not."""
    fake = fake_services(tmp_path, monkeypatch)
    for package, namespace in (
        ("core", "practices"),
        ("records", "records"),
        ("sharing", "sharing"),
    ):
        (fake / package / "urls.py").write_text(f'app_name = "{namespace}"\n')
    (fake / "core" / "templates" / "core").mkdir(parents=True)
    (fake / "core" / "templates" / "core" / "base.html").write_text(
        '{% url \'practices:home\' slug %}\n<a href="{% url "records:patient-list" slug %}">\n'
    )
    (fake / "records" / "templates" / "records").mkdir(parents=True)
    (fake / "records" / "templates" / "records" / "_banner.html").write_text(
        "{% url 'records:chart' s p %} {% url 'practices:home' s %}"
        " {% url 'sharing:consents' s p %}\n"
    )
    (fake / "sharing" / "templates").mkdir()
    (fake / "sharing" / "templates" / "page.html").write_text("{% url 'records:chart' s p %}\n")
    (fake / "core" / "jinja2" / "core").mkdir(parents=True)
    (fake / "core" / "jinja2" / "core" / "layout.html").write_text(
        "{{ url('practices:home', slug) }}\n{{ url( \"records:patient-list\", slug) }}\n"
    )
    assert templates_naming_higher_pages() == [
        "core/jinja2/core/layout.html:2 names records:patient-list",
        "core/templates/core/base.html:2 names records:patient-list",
        "records/templates/records/_banner.html:1 names sharing:consents",
    ]


# --- No QuerySet.extra() ---------------------------------------------------------------
# Django's ``extra()`` splices SQL into a queryset outside its expressions (and is headed
# for removal): a hand-written piece goes in ``annotate(RawSQL(...))``, a ``Func`` or a
# prepared statement (core.prepared) instead.


def extra_calls() -> list[str]:
    problems = []
    for path in sorted(SERVICES.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "extra"
            ):
                where = f"{path.relative_to(SERVICES)}:{node.func.end_lineno}"
                problems.append(f"{where} calls .extra()")
    return problems


def test_no_queryset_extra() -> None:
    assert extra_calls() == []


def test_the_check_catches_an_extra_call(tmp_path: Path, monkeypatch) -> None:
    """The rule can fail: a search ordering by an ``extra()`` select is reported."""
    fake = fake_services(tmp_path, monkeypatch)
    (fake / "records" / "search.py").write_text(
        "found = (\n    Patient.objects\n    .extra(select={'s': 'similarity(a, b)'})\n)\n"
        "found = Patient.objects.annotate(s=RawSQL('similarity(a, b)', []))\n"
    )
    assert extra_calls() == ["records/search.py:3 calls .extra()"]
