"""Write (or check) schemas/ from the models: `python tools/gen_schemas.py [--check] DIR`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kraken_ws.models.schema import build_schemas


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--check", action="store_true", help="fail if DIR differs")
    args = parser.parse_args(argv)
    files = build_schemas()
    out: Path = args.out
    if args.check:
        drift = [
            n for n, t in files.items() if not (out / n).is_file() or (out / n).read_text() != t
        ]
        extra = sorted(
            str(p.relative_to(out))
            for p in out.rglob("*.json")
            if str(p.relative_to(out)) not in files
        )
        if drift or extra:
            for name in drift:
                print(f"schemas drifted: {name}", file=sys.stderr)
            for name in extra:
                print(f"stale schema file: {name}", file=sys.stderr)
            print("run `make schemas`", file=sys.stderr)
            return 1
        print(f"{len(files)} schema files up to date")
        return 0
    for name, text in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for path in out.rglob("*.json"):
        if str(path.relative_to(out)) not in files:
            path.unlink()
    print(f"wrote {len(files)} schema files to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
