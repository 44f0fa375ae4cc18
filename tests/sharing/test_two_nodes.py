"""Two real Carnet nodes (separate databases, processes, keyrings and ports) exchange a
patient summary: consent given -> share sent -> received -> accepted -> receipt; consent
revoked -> next share refused; tampered, replayed, forged and expired messages refused."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import gnupg
import psycopg
import pytest
from django.conf import settings

from carnet import embedded
from sharing.envelope import Address, new_envelope, seal
from tests.conftest import superuser_conninfo

CARNET = str(Path(sys.executable).with_name("carnet"))
SLUG = "msp-des-tilleuls"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Node:
    name: str
    url: str
    env: dict[str, str]
    dbname: str
    token: str
    gateway: str = ""  # where other nodes post; Paris runs its gateway as its own process
    process: subprocess.Popen[bytes] | None = None
    gateway_process: subprocess.Popen[bytes] | None = None

    def carnet(self, *args: str) -> str:
        done = subprocess.run([CARNET, *args], env=self.env, capture_output=True, text=True)
        if done.returncode:
            raise AssertionError(f"carnet {args} failed:\n{done.stdout}\n{done.stderr[-3000:]}")
        return done.stdout

    def call(
        self, method: str, path: str, body: Any = None, raw: bytes | None = None, base: str = ""
    ) -> tuple[int, Any]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request((base or self.url) + path, data=data, method=method)  # noqa: S310
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header(
            "Content-Type", "application/json" if raw is None else "application/pgp-encrypted"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
                payload = response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            payload, status = error.read(), error.code
        if payload.startswith(b"%PDF"):
            return status, payload
        return status, json.loads(payload) if payload else None

    def sql(self, query: str) -> list[tuple]:
        db = settings.DATABASES["default"]
        with psycopg.connect(
            f"host={db['HOST']} port={db['PORT']} user={db['USER']} dbname={self.dbname}"
        ) as conn:
            return conn.execute(query).fetchall()


def wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    import time

    for _ in range(150):
        if process.poll() is not None:
            raise RuntimeError("the node stopped")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(url)


def cooperative_key(home: Path) -> tuple[gnupg.GPG, str]:
    home.mkdir(mode=0o700)
    gpg = gnupg.GPG(gnupghome=str(home))
    gpg.encoding = "utf-8"
    params = gpg.gen_key_input(
        key_type="EDDSA",
        key_curve="ed25519",
        key_usage="sign",
        name_real="Coopérative Carnet",
        name_email="directory@carnet.coop",
        expire_date=0,
        no_protection=True,
    )
    return gpg, str(gpg.gen_key(params).fingerprint)


@dataclass
class Directory:
    """The cooperative's signed directory of both nodes, and its public key."""

    signed: Path
    key_file: Path
    fingerprint: str


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Node]]:
    with running_nodes(tmp_path_factory.mktemp("nodes")) as (result, _directory):
        yield result


@contextmanager
def running_nodes(
    base: Path, *, import_directory: bool = True
) -> Iterator[tuple[dict[str, Node], Directory]]:
    """Lyon and Paris served, each with the demo practice, and the directory signed by
    the cooperative (installed on both unless ``import_directory`` is false: then the
    nodes trust the cooperative's fingerprint and the directory waits to be installed)."""
    db = settings.DATABASES["default"]
    result: dict[str, Node] = {}
    listings = []
    coop, coop_fp = cooperative_key(base / "coop")
    for name in ("lyon", "paris"):
        dbname = f"{db['NAME']}_{name}"
        embedded.create_database(superuser_conninfo(), dbname, drop_first=True)
        var = base / name
        port = free_port()
        where = f"{dbname}?host={db['HOST']}&port={db['PORT']}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "carnet.settings",
            "CARNET_NODE_NAME": name,
            "DATABASE_URL": f"postgresql://{embedded.APP_ROLE}@/{where}",
            "DATABASE_OWNER_URL": f"postgresql://{embedded.OWNER_ROLE}@/{where}",
            "CARNET_VAR_DIR": str(var),
            "CARNET_GNUPG_HOME": str(var / "gnupg"),
            "SESSION_COOKIE_SECURE": "false",
            "DATABASE_CONN_MAX_AGE": "0",
            "CARNET_COOPERATIVE_FINGERPRINT": coop_fp,
        }
        for key in ("CARNET_DATABASE_ROLE", "CARNET_GNUPG_HOME_TEST"):
            env.pop(key, None)
        node = Node(name, f"http://127.0.0.1:{port}", env, dbname, token="")
        node.gateway = f"http://127.0.0.1:{free_port()}" if name == "paris" else node.url
        node.carnet("migrate", "--noinput", "-v0")
        node.carnet("demo_data", "--patients", "4")
        node.token = json.loads((var / "demo-credentials.json").read_text())["api_token"]["token"]
        listing = base / f"{name}.json"
        listing.write_text(
            node.carnet("directory", "listing", "--practice", SLUG, "--gateway", node.gateway + "/")
        )
        listings.append(str(listing))
        result[name] = node
    key_file = base / "cooperative.asc"
    key_file.write_text(coop.export_keys(coop_fp))
    signed = base / "directory.asc"
    result["lyon"].carnet(
        "directory",
        "sign",
        "--gnupg-home",
        str(base / "coop"),
        "--fingerprint",
        coop_fp,
        "--version",
        "1",
        "--output",
        str(signed),
        *listings,
    )
    for node in result.values():
        if import_directory:
            node.carnet(
                "directory",
                "import",
                str(signed),
                "--cooperative-key",
                str(key_file),
                "--cooperative-fingerprint",
                coop_fp,
            )
        node.process = subprocess.Popen(
            [CARNET, "serve", "--bind", node.url.removeprefix("http://"), "--workers", "2"],
            env=node.env,
            stdout=(Path(node.env["CARNET_VAR_DIR"]) / "server.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        if node.gateway != node.url:
            # The gateway alone, as in production: CARNET_SERVICE=gateway, connected with
            # the database role that reads no clinical table.
            where = node.env["DATABASE_URL"].split("@/", 1)[1]
            gateway_env = {
                **node.env,
                "CARNET_SERVICE": "gateway",
                "DATABASE_URL": f"postgresql://{embedded.GATEWAY_ROLE}@/{where}",
            }
            node.gateway_process = subprocess.Popen(
                [CARNET, "serve", "--bind", node.gateway.removeprefix("http://"), "--workers", "1"],
                env=gateway_env,
                stdout=(Path(node.env["CARNET_VAR_DIR"]) / "gateway.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
    try:
        for node in result.values():
            assert node.process is not None
            wait_for(node.url + "/healthz", node.process)
            if node.gateway_process is not None:
                wait_for(node.gateway + "/healthz", node.gateway_process)
        yield result, Directory(signed, key_file, coop_fp)
    finally:
        for node in result.values():
            for process in (node.process, node.gateway_process):
                if process:
                    process.terminate()
                    process.wait(timeout=20)
        for home in base.rglob("gnupg"):
            subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)
        subprocess.run(["gpgconf", "--homedir", str(base / "coop"), "--kill", "all"], check=False)


def own_patient(node: Node) -> int:
    """A patient of the token's practitioner (the others' records are closed to her)."""
    _status, patients = node.call("GET", "/api/v1/patients/")
    for patient in patients:
        status, chart = node.call("GET", f"/api/v1/patients/{patient['id']}/chart/")
        if status == 200 and chart["clinical_allowed"]:
            return int(patient["id"])
    raise AssertionError("no patient of the demo practitioner")


SHARE = {"node": "paris", "practice": SLUG, "categories": ["problems", "allergies"]}


def test_consent_share_receipt_then_revocation(nodes: dict[str, Node]) -> None:
    lyon, paris = nodes["lyon"], nodes["paris"]
    # Paris's gateway is its own process, with the gateway role: it serves no practice API
    # (and every message below reaches Paris through it).
    status, _ = paris.call("GET", "/api/v1/patients/", base=paris.gateway)
    assert status == 404
    patient = own_patient(lyon)
    status, _ = lyon.call(
        "POST", f"/api/v1/patients/{patient}/allergies/", {"substance": "Pénicilline G"}
    )
    assert status == 201
    # No consent: nothing leaves.
    status, body = lyon.call("POST", f"/api/v1/patients/{patient}/shares/", SHARE)
    assert status == 403, body
    status, consent = lyon.call(
        "POST",
        f"/api/v1/patients/{patient}/consents/",
        {
            "grantee_node": "paris",
            "grantee_practice": SLUG,
            "categories": ["problems", "allergies"],
            "source": "formulaire signé n° 42",
        },
    )
    assert status == 201, consent
    status, receipt = lyon.call("GET", f"/api/v1/consents/{consent['id']}/receipt/")
    assert status == 200 and receipt.startswith(b"%PDF")
    status, sent = lyon.call("POST", f"/api/v1/patients/{patient}/shares/", SHARE)
    assert status == 201, sent
    assert sent["summary"]["categories"]["allergies"] >= 1
    lyon.carnet("exchange")  # the worker delivers the outbox
    assert [m["status"] for m in lyon.call("GET", "/api/v1/outbox/")[1]] == ["delivered"]

    # Paris receives, reads and accepts it.
    inbox = paris.call("GET", "/api/v1/inbox/")[1]
    assert [(m["sender_node"], m["status"]) for m in inbox] == [("lyon", "received")]
    message_id = inbox[0]["message_id"]
    assert message_id == sent["message_id"]
    status, bundle = paris.call("GET", f"/api/v1/inbox/{message_id}/")
    assert status == 200 and bundle["type"] == "document"
    kinds = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
    assert {"Composition", "Patient", "AllergyIntolerance"} <= kinds
    # Paris already knows this person (the demo practices have the same patients): the
    # import stops and asks; the practitioner then picks the existing record.
    status, refused = paris.call("POST", f"/api/v1/inbox/{message_id}/accept/", {})
    assert status == 400 and "patient" in refused["error"]["fields"], refused
    shared = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    family = shared["name"][0]["family"]
    day, month, year = shared["birthDate"][8:10], shared["birthDate"][5:7], shared["birthDate"][:4]
    matches = paris.call("GET", f"/api/v1/patients/?q={family}%20{day}/{month}/{year}")[1]
    assert len(matches) == 1
    status, accepted = paris.call(
        "POST", f"/api/v1/inbox/{message_id}/accept/", {"patient": matches[0]["id"]}
    )
    assert status == 201 and accepted["status"] == "accepted", accepted
    chart = paris.call("GET", f"/api/v1/patients/{accepted['patient_id']}/chart/")[1]
    assert "Pénicilline G" in [a["substance"] for a in chart["allergies"]]

    # The receipt goes back.
    paris.carnet("exchange")
    lyon.carnet("exchange")
    assert [
        m["status"] for m in lyon.call("GET", "/api/v1/outbox/")[1] if m["kind"] == "share"
    ] == ["acknowledged"]
    # The patient's access report at Lyon shows what was shared, with whom.
    report = lyon.call("GET", f"/api/v1/patients/{patient}/access-report/")[1]
    assert any("share" in line["what"] or "partag" in line["what"] for line in report)

    # Revoked: the next share is refused.
    status, _ = lyon.call("DELETE", f"/api/v1/consents/{consent['id']}/")
    assert status == 204
    status, refused = lyon.call("POST", f"/api/v1/patients/{patient}/shares/", SHARE)
    assert status == 403, refused


def sealed_share(node: Node) -> str:
    rows = node.sql(
        "SELECT sealed FROM sharing_outboxmessage WHERE kind = 'share' ORDER BY id LIMIT 1"
    )
    return str(rows[0][0])


def post_to_gateway(node: Node, text: str) -> tuple[int, Any]:
    return node.call("POST", "/federation/v1/messages", raw=text.encode(), base=node.gateway)


def test_the_gateway_refuses_tampered_replayed_forged_and_expired_messages(
    nodes: dict[str, Node],
) -> None:
    lyon, paris = nodes["lyon"], nodes["paris"]
    if not lyon.sql("SELECT 1 FROM sharing_outboxmessage WHERE kind = 'share'"):
        pytest.fail("run with test_consent_share_receipt_then_revocation first (module order)")
    original = sealed_share(lyon)
    status, body = post_to_gateway(paris, original)
    assert (status, body["error"]["code"]) == (409, "replayed")
    lines = original.splitlines()
    middle = len(lines) // 2
    flipped = lines[middle][:7] + ("A" if lines[middle][7] != "A" else "B") + lines[middle][8:]
    status, body = post_to_gateway(
        paris, "\n".join([*lines[:middle], flipped, *lines[middle + 1 :]])
    )
    assert (status, body["error"]["code"]) == (400, "tampered")

    # A key the directory does not list, pretending to be Lyon.
    rogue_home = Path(lyon.env["CARNET_VAR_DIR"]).parent / "rogue"
    rogue, _rogue_fp = cooperative_key(rogue_home)
    paris_key = paris.sql(
        "SELECT fingerprints, public_keys FROM sharing_directoryentry WHERE node = 'paris'"
    )[0]
    paris_fp = paris_key[0][0]
    rogue.import_keys(paris_key[1])
    params = rogue.gen_key_input(
        key_type="EDDSA",
        key_curve="ed25519",
        key_usage="sign",
        subkey_type="ECDH",
        subkey_curve="cv25519",
        subkey_usage="encrypt",
        name_real="mallory",
        name_email="m@x",
        expire_date=0,
        no_protection=True,
    )
    mallory_fp = str(rogue.gen_key(params).fingerprint)
    forged = seal(
        rogue,
        new_envelope(
            kind="share",
            sender=Address("lyon", SLUG),
            recipient=Address("paris", SLUG),
            payload={"bundle": {}},
        ),
        signer=mallory_fp,
        recipient_fingerprint=paris_fp,
    )
    status, body = post_to_gateway(paris, forged)
    assert (status, body["error"]["code"]) == (403, "unknown_sender")

    # Lyon's real key, but a message past its expiry.
    lyon_gpg = gnupg.GPG(gnupghome=lyon.env["CARNET_GNUPG_HOME"])
    lyon_fp = lyon.sql("SELECT fingerprints FROM sharing_directoryentry WHERE node = 'lyon'")[0][0][
        0
    ]
    old = new_envelope(
        kind="share",
        sender=Address("lyon", SLUG),
        recipient=Address("paris", SLUG),
        payload={"bundle": {}},
        now=datetime.now(UTC) - timedelta(days=30),
    )
    status, body = post_to_gateway(
        paris, seal(lyon_gpg, old, signer=lyon_fp, recipient_fingerprint=paris_fp)
    )
    assert (status, body["error"]["code"]) == (400, "expired")
    subprocess.run(["gpgconf", "--homedir", str(rogue_home), "--kill", "all"], check=False)
    # Every refusal is in Paris's audit trail.
    refused = paris.sql(
        "SELECT count(*) FROM audit_event WHERE action IN ('message.refused', 'message.replayed')"
    )
    assert refused[0][0] >= 4


def test_a_declined_share_travels_back_with_its_reason(nodes: dict[str, Node]) -> None:
    lyon, paris = nodes["lyon"], nodes["paris"]
    patient = own_patient(lyon)
    status, consent = lyon.call(
        "POST",
        f"/api/v1/patients/{patient}/consents/",
        {
            "grantee_node": "paris",
            "grantee_practice": SLUG,
            "categories": ["allergies"],
            "source": "formulaire signé n° 43",
        },
    )
    assert status == 201, consent
    status, sent = lyon.call(
        "POST", f"/api/v1/patients/{patient}/shares/", {**SHARE, "categories": ["allergies"]}
    )
    assert status == 201, sent
    lyon.carnet("exchange")
    # Without a reason nothing is declined; the practitioner then gives one.
    status, refused = paris.call("POST", f"/api/v1/inbox/{sent['message_id']}/decline/", {})
    assert status == 400, refused
    status, declined = paris.call(
        "POST",
        f"/api/v1/inbox/{sent['message_id']}/decline/",
        {"reason": "Nous ne suivons pas ce patient"},
    )
    assert status == 200 and declined["status"] == "rejected", declined
    status, _ = paris.call("POST", f"/api/v1/inbox/{sent['message_id']}/accept/", {})
    assert status == 400  # declined: it can no longer be accepted
    paris.carnet("exchange")
    lyon.carnet("exchange")
    outbox = {m["message_id"]: m for m in lyon.call("GET", "/api/v1/outbox/")[1]}
    back = outbox[sent["message_id"]]
    assert back["status"] == "declined"
    assert back["answer_reason"] == "Nous ne suivons pas ce patient"
    assert back["answered_by"] and back["acknowledged_at"]
    lyon.call("DELETE", f"/api/v1/consents/{consent['id']}/")


def test_a_referral_letter_crosses_nodes_and_enters_the_chosen_record(
    nodes: dict[str, Node],
) -> None:
    lyon, paris = nodes["lyon"], nodes["paris"]
    patient = own_patient(lyon)
    status, consent = lyon.call(
        "POST",
        f"/api/v1/patients/{patient}/consents/",
        {
            "grantee_node": "paris",
            "grantee_practice": SLUG,
            "categories": ["letters"],
            "source": "formulaire signé n° 44",
        },
    )
    assert status == 201, consent
    letter = "Cher confrère, je vous adresse ce patient pour avis."
    status, sent = lyon.call(
        "POST",
        f"/api/v1/patients/{patient}/shares/",
        {"node": "paris", "practice": SLUG, "letter": letter},
    )
    assert status == 201 and sent["summary"]["categories"] == {"letters": 1}, sent
    lyon.carnet("exchange")
    status, bundle = paris.call("GET", f"/api/v1/inbox/{sent['message_id']}/")
    assert status == 200
    documents = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "DocumentReference"
    ]
    assert [d["content"][0]["attachment"]["contentType"] for d in documents] == ["application/pdf"]
    # The first share of this person went into a record chosen by hand: this one is
    # accepted into the same record, named explicitly.
    earlier = paris.sql(
        "SELECT patient_id FROM sharing_inboxmessage WHERE status = 'accepted' ORDER BY id LIMIT 1"
    )[0][0]
    status, accepted = paris.call(
        "POST", f"/api/v1/inbox/{sent['message_id']}/accept/", {"patient": earlier}
    )
    assert status == 201 and accepted["patient_id"] == earlier, accepted
    kept = paris.sql(
        "SELECT d.title, d.content_type FROM records_document d JOIN sharing_importedresource r"
        " ON r.target_id = d.id AND r.resource_type = 'DocumentReference'"
        f" WHERE r.source LIKE '%{sent['message_id']}'"
    )
    assert kept == [("Lettre d\u2019adressage", "application/pdf")]
    paris.carnet("exchange")
    lyon.carnet("exchange")
    outbox = {m["message_id"]: m for m in lyon.call("GET", "/api/v1/outbox/")[1]}
    assert outbox[sent["message_id"]]["status"] == "acknowledged"
    lyon.call("DELETE", f"/api/v1/consents/{consent['id']}/")
