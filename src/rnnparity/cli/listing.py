"""`rnnparity list`: the case ids of a tier and targets (or how many), of one shard, containing words."""
from __future__ import annotations

from ..targets import registry
from .common import case_list, check_targets


def cmd_list(args):
    check_targets(args.target)
    ids = case_list(args.tier, args.target.split(","), args.word, args.shard)
    print("\n".join(ids) if not args.count else len(ids))
    return 0 if ids else 1


def add_parser(sub):
    li = sub.add_parser("list", help="list case ids")
    li.add_argument("--tier", default="default", choices=("quick", "default", "full"))
    li.add_argument("--target", default=",".join(registry.default_targets()))
    li.add_argument("--count", action="store_true", help="print only how many")
    li.add_argument("--shard", metavar="I/N", help="only shard I of N, as `check --shard`")
    li.add_argument("word", nargs="*", help="only ids containing every WORD")
    li.set_defaults(func=cmd_list)
