"""Benchmark: the sync tool end to end on SQLite, as `aula-ws sync KIND FILE` runs it.

    .venv/bin/python bench/sync.py [--users 100000] [--enrolments 300000]

Generates a users file (no passwords: hashing is slow by design) and an
enrolments file (each user in 3 of 30 courses, Moodle role names), runs each
through the CLI in a child process (so its peak memory is measured alone) on a
fresh SQLite database, and prints lines/s (target >= 20,000) and peak memory.
Measures; asserts nothing.
"""

import argparse
import resource
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from aula_ws.store import platform
from common.platform import empty_database
from common.server import aula_env, run_cli

COURSES = 30
ROLES = ("student", "student", "student", "editingteacher", "teacher")


def write_files(folder: Path, users: int, enrolments: int) -> tuple[Path, Path]:
    users_file, enrols_file = folder / "userimport.csv", folder / "enrols.csv"
    with users_file.open("w") as out:
        out.write("username;firstname;lastname;email;idnumber\n")
        for n in range(users):
            out.write(f"user{n};First{n};Last{n};user{n}@example.org;E{n}\n")
    with enrols_file.open("w") as out:
        out.write("cmd;cid;uid;rolename;starttime\n")
        for n in range(enrolments):
            user, slot = n // 3 % users, n % 3
            out.write(f"add;C{(user + slot * 7) % COURSES};user{user};{ROLES[n % len(ROLES)]};2026-01-05\n")
    return users_file, enrols_file


def run(env: dict[str, str], kind: str, path: Path, lines: int) -> None:
    elapsed, child = run_cli(["sync", kind, str(path)], env)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if child.returncode != 0:
        print(child.stdout[-2000:], child.stderr[-2000:], file=sys.stderr)
        raise SystemExit(f"{kind}: exit {child.returncode}")
    print(
        f"{kind:<11} {lines:>8,} lines  {elapsed:6.2f} s  {lines / elapsed:>9,.0f} lines/s  "
        f"peak memory (largest child so far) {usage:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--enrolments", type=int, default=300_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aula-bench-sync-") as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'aula.sqlite3'}"
        engine = empty_database(url, "sync.py")
        with engine.begin() as connection:
            for n in range(COURSES):
                platform.add_group(connection, f"C{n}", datetime(2026, 1, 1))
        engine.dispose()
        users_file, enrols_file = write_files(folder, args.users, args.enrolments)
        env = aula_env(folder, url)
        print(f"sync on SQLite ({sys.platform}, Python {sys.version.split()[0]}); target >= 20,000 lines/s")
        run(env, "users", users_file, args.users)
        run(env, "enrolments", enrols_file, args.enrolments)


if __name__ == "__main__":
    main()
