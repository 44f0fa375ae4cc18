"""Each patient search timed alone, bound on the client and prepared (generic plan), on a
benchmark node: does the plan that the search keeps lose on some queries what it gains
on others? (docs/performance.md, "The patient search planned once per connection")

    python bench/search_plans.py /var/cache/carnet/bench/<node>

Starts the node's PostgreSQL, takes its largest practice, builds 22 queries from its
commonest and rarest names (a whole name, its first two letters, a letter missing, a
name with the beginning of a given name), and prints for each the median of 7 warm runs
both ways, with the number of rows (they must be equal).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

RUNS, WARM = 14, 7


def queries_from(names: list[str]) -> list[str]:
    queries = []
    for name in names[:6]:
        queries += [name, name[:2]]
        if len(name) > 5:
            queries.append(name[:3] + name[4:])
    queries += [f"{a} {b[:3]}" for a, b in zip(names[:4], names[4:8], strict=False)]
    return queries


def compare(practice: int, person: int, names: list[str]) -> None:
    """In the node's Django environment: each query both ways."""
    import django

    django.setup()
    import psycopg
    from django.db import connection, transaction

    from core import tenancy
    from records import word_search
    from records.selectors import patients

    total = {"client": 0.0, "prepared": 0.0}
    with transaction.atomic():
        tenancy.activate(practice, person)
        connection.ensure_connection()
        raw = connection.connection
        for query in queries_from(names):
            terms = word_search.terms(query)
            statement = patients._search_statement((word_search.shape(terms), 0, 0))
            values = {"person": person, "limit": 50, **word_search.values(terms)}
            _compiled, sql, params = statement.sql_and_params(values)
            found = {}
            for kind, cursor in (
                ("client", psycopg.ClientCursor(raw)),
                ("prepared", psycopg.Cursor(raw)),
            ):
                times = []
                for _ in range(RUNS):
                    started = time.perf_counter()
                    cursor.execute(sql, params, prepare=kind == "prepared")
                    rows = cursor.fetchall()
                    times.append((time.perf_counter() - started) * 1000)
                median = sorted(times[WARM:])[len(times[WARM:]) // 2]
                found[kind] = (median, len(rows))
                total[kind] += median
            print(
                f"{query!r:24} client {found['client'][0]:6.2f} ms"
                f"  prepared {found['prepared'][0]:6.2f} ms"
                f"  rows {found['client'][1]}/{found['prepared'][1]}"
            )
    print(
        f"sum of the medians: client {total['client']:.1f} ms, prepared {total['prepared']:.1f} ms"
    )


def main(root: Path) -> None:
    import psycopg
    from node import APP, OWNER, SERVE_SETTINGS, Cluster

    cluster = Cluster(root)
    cluster.start(SERVE_SETTINGS)
    try:
        with psycopg.connect(cluster.url(OWNER)) as conn:
            conn.execute("SET row_security = off")

            def column(sql: str, *args: object) -> list[object]:
                return [row[0] for row in conn.execute(sql, args)]

            practice, size = conn.execute(
                "SELECT practice_id, count(*) FROM records_patient GROUP BY 1"
                " ORDER BY 2 DESC LIMIT 1"
            ).fetchone()  # type: ignore[misc]
            person = column(
                "SELECT person_id FROM accounts_membership WHERE practice_id = %s"
                " AND role = 'practitioner' AND is_active LIMIT 1",
                practice,
            )[0]
            by_count = (
                "SELECT birth_name FROM records_patient WHERE practice_id = %s"
                " GROUP BY 1 ORDER BY count(*) {}, 1 LIMIT 3"
            )
            names = column(by_count.format("DESC"), practice) + column(
                by_count.format("ASC"), practice
            )
            names += [
                str(given).split()[0]
                for given in column(
                    "SELECT given_names FROM records_patient WHERE practice_id = %s"
                    " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 2",
                    practice,
                )
            ]
        print(f"practice {practice}: {size:,} patients")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "carnet.settings",
            "DATABASE_URL": cluster.url(APP),
            "CARNET_VAR_DIR": str(root / "var"),
            "DEBUG": "false",
        }
        argv = [sys.executable, __file__, "--compare", str(practice), str(person), *map(str, names)]
        subprocess.run(argv, env=env, check=True)
    finally:
        cluster.stop()


if __name__ == "__main__":
    if sys.argv[1] == "--compare":
        compare(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:])
    else:
        main(Path(sys.argv[1]))
