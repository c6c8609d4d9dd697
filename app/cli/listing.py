"""``descent-lab list surfaces|optimizers``: what the project offers, as text or JSON.

Each optimizer is listed with its family, where its rule comes from (``source``: the library and version it is
checked against, or the paper or textbook), its convention and its hyperparameters."""

from __future__ import annotations

import argparse
import json
from typing import Any

from app.cli.common import emit


def cmd_list(args: argparse.Namespace) -> int:
    from optimizers import OPTIMIZERS
    from surfaces import get_surface, list_surfaces

    if args.what == "surfaces":
        items = [
            {**{k: v for k, v in get_surface(s.name).to_dict().items() if k != "points"}, "parameters": [
                {"name": p.name, "default": p.default, "range": [p.low, p.high], "description": p.description}
                for p in s.params
            ]}
            for s in list_surfaces()
        ]  # fmt: skip
        if args.format == "json":
            emit(json.dumps(items, indent=2) + "\n", None)
            return 0
        for s in items:
            params = ", ".join(f"{p['name']}={p['default']:g}" for p in s["parameters"])
            print(f"{s['name']:<16} {s['display_name']}{f' ({params})' if params else ''}: {s['description']}")
        return 0
    items = [spec.to_dict() for spec in OPTIMIZERS]
    if args.format == "json":
        emit(json.dumps(items, indent=2) + "\n", None)
        return 0
    for spec in items:
        print(f"{spec['name']:<16} {spec['display_name']} [{spec['family']}]")
        print(f"    {'source':<26} {spec['source']}")
        print(f"    {'convention':<26} {spec['convention']}")
        for p in spec["hyperparameters"]:
            print(f"    {p['key']:<26} default {p['default']!s:<8} range {p['range']:<22} {p['description']}")
    return 0


def add_list_parser(sub: Any) -> None:
    lst = sub.add_parser("list", help="list surfaces or optimizers")
    lst.add_argument("what", choices=("surfaces", "optimizers"))
    lst.add_argument("--format", choices=("text", "json"), default="text")
    lst.set_defaults(func=cmd_list)
