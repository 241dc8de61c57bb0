"""`rnnparity check`: the conformance run over the installed targets (check_suite.py runs the suite
through pytest), or `rnnparity check --case ID`: one case run directly, with its full report."""
from __future__ import annotations

import json
import os
import sys

from ..targets import installed, registry
from .common import ALL_TARGETS, ILL_CONDITIONED_MODES, SHOW_TF_LOGS, check_targets, unknown_case


def cmd_check(args):
    from ..matrix.shard import parse_shard

    parse_shard(args.shard, "--shard")  # a bad value: a one-line error before anything is imported

    if args.case:
        complaint = unknown_case(args.case)
        if complaint:
            print(f"rnnparity check: {complaint}", file=sys.stderr)
            return 2
        from ..matrix.tiers import case_of

        installed.import_quietly(case_of(args.case).target, show_logs=SHOW_TF_LOGS)
        return check_one(args.case, getattr(args, "ill_conditioned", "warn"))
    if args.target is not None:
        check_targets(args.target)
    if args.target is None:
        args.target = ",".join(installed.targets())
        if not args.target and not args.replay:
            print("rnnparity check: no framework is installed: " +
                  "; ".join(registry.availability(t)[1] for t in ALL_TARGETS), file=sys.stderr)
            return 2
    from .check_suite import check_suite

    return check_suite(args)


def check_one(case_id: str, ill_conditioned: str = "warn") -> int:
    """Run one case live, print its explanation and full report; 0 pass/known bug, 1 failure (and
    an ill-conditioned case under ``ill_conditioned="fail"``)."""
    from ..check import runner
    from ..check.compare import Stats

    from ..matrix.tiers import case_of
    from ..check.divergences import divergence_for

    case = case_of(case_id)
    ok, why = registry.availability(case.target)
    if not ok:
        print(f"rnnparity check: {why}", file=sys.stderr)
        return 2
    print(f"case {case_id}\nlayer spec: {json.dumps(case.layer_spec().to_dict())}")
    inexpressible = registry.cannot_express(case)
    if inexpressible:  # as the suite: a visible skip naming the option
        print(f"SKIP: {case.target} cannot express this case: {inexpressible}")
        return 0
    print(describe(case))
    stats = Stats()
    rec, problems = runner.check_live(case, stats)
    if rec.info:  # how the target ran it (converter, runtime, ops)
        print("ran as: " + "; ".join(
            f"{k} {', '.join(map(str, v)) if isinstance(v, list) else json.dumps(v) if isinstance(v, dict) else v}"
            for k, v in rec.info.items()))
    if rec.outcome.error:
        print(f"the framework raised {rec.outcome.error[1]} at step {rec.outcome.error[0]}: {rec.outcome.error[2]}")
    known = divergence_for(case)
    if rec.verdict.status == "ill-conditioned":
        print(runner.failure_report(case_id, problems, ill_conditioned=True))
        print(f"ill-conditioned: {'a failure (--ill-conditioned=fail)' if ill_conditioned == 'fail' else 'a warning, not a failure (--ill-conditioned=fail makes it one)'}")
        return 1 if ill_conditioned == "fail" else 0
    if problems:
        print(runner.failure_report(case_id, problems))
        if known:
            print(f"\nXFAIL: {known.xfail_reason()}\nrepro:\n{known.repro}")
            return 0
        return 1
    if rec.rounding is not None:
        print(rec.rounding.report())
    elif rec.outcome.error and not stats.elements:
        print(f"PASS: the reference rejects this configuration as the framework does ({rec.outcome.error[1]})")
    else:
        print(f"PASS: max abs error {stats.max_abs:.3g}, max rel error {stats.max_rel:.3g} "
              f"over {stats.elements} elements")
    if known:
        print(f"XPASS: expected the known bug [{known.key}], but the framework now agrees: remove it "
              f"from rnnparity.check.divergences")
        return 1
    return 0


def describe(case) -> str:
    """What the case's call returns: names, shapes, order (a tf1 case: TF's flattened structure)."""
    from ..plan import Tf1Spec
    from ..reference.tf1_call import Tf1Call
    from ..output_structure import Rejected, explain

    spec = case.layer_spec()
    if isinstance(spec, Tf1Spec):
        names = Tf1Call.from_spec(spec).output_names(case.input_shape[0 if case.time_major else 1])
        return f"{len(names)} outputs: {', '.join(names)}"
    try:
        return str(explain(spec, case.input_shape, case.dialect))
    except Rejected as exc:  # the case checks that the reference refuses it the same way
        return f"no outputs: {str(exc).removeprefix('explain: ')}"


def add_parser(sub):
    c = sub.add_parser("check", help="run the conformance matrix against the installed frameworks")
    c.add_argument("--case", help="run one case id and print its full report")
    c.add_argument("--tier", default="default", choices=("quick", "default", "full"))
    c.add_argument("--target", default=None, help=f"comma-separated: {','.join(ALL_TARGETS)} "
                   "(default: those installed)")
    c.add_argument("-n", "--numprocesses", default=None, help="processes (pytest-xdist), e.g. 4 or auto")
    c.add_argument("-k", dest="keyword", help="pytest -k expression to select cases")
    c.add_argument("--replay", action="store_true", help="also replay the recordings (fixtures/ or those packaged)")
    c.add_argument("--shard", default=os.environ.get("RNNPARITY_SHARD"), metavar="I/N",
                   help="only shard I of N (crc32 of the case id mod N), e.g. 2/8: for CI jobs")
    c.add_argument("--ill-conditioned", choices=ILL_CONDITIONED_MODES, default="warn",
                   help="a case whose valid low-precision runs scatter as widely as its values "
                        "(agreement not decidable beyond some step): warn (default: reported, does "
                        "not fail the run) or fail")
    c.add_argument("--junit-xml", help="write JUnit XML here")
    c.add_argument("--json", help="write a JSON summary here")
    c.add_argument("--html", help="write the HTML report here (one self-contained page; needs the "
                   "report extra)")
    c.set_defaults(func=cmd_check)
