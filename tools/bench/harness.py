"""Shared by the benchmarks: run one side of a comparison in its own process (so its peak
memory is its own) and take medians over interleaved rounds."""
import json
import resource
import statistics
import subprocess
import sys


def run_side(script, args):
    """Runs `script --side ...` and returns the JSON dict it printed last, or None."""
    proc = subprocess.run([sys.executable, script] + [str(a) for a in args],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"{' '.join(map(str, args))}: failed: {proc.stderr.strip().splitlines()[-1:]}",
              file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def interleaved(script, sides, rounds, args_for):
    """{side: [result per round]}, the sides taking turns (each round starting with the
    next side) so that noise and drift hit all alike."""
    results = {s: [] for s in sides}
    for r in range(rounds):
        for s in sides[r % len(sides):] + sides[:r % len(sides)]:
            result = run_side(script, args_for(s))
            if result is not None:
                results[s].append(result)
    return results


def medians(results):
    """{side: {key: median}} over the rounds each side completed."""
    return {s: {k: statistics.median(r[k] for r in rs) for k in rs[0]}
            for s, rs in results.items() if rs}


def paired_ratio(results, side, key):
    """Median over rounds of side's `key` divided by the best peer's in the same round.

    The machine's speed drifts by a third within minutes; a ratio taken inside one round
    compares the sides under the same conditions, so it is steadier than a ratio of
    medians taken over rounds that ran at different speeds. Rounds where a side failed
    are left out. None when no round has the side and a peer."""
    peers = [s for s in results if s != side]
    rounds = min((len(r) for r in results.values()), default=0)
    ratios = [results[side][i][key] / max(results[p][i][key] for p in peers)
              for i in range(rounds)] if peers else []
    return statistics.median(ratios) if ratios else None


def print_ratio(results, label, key="rate"):
    """Prints Runnel over the fastest peer: as a ratio of medians and as the median of
    per-round ratios (nothing when either side is missing)."""
    med = medians(results)
    others = {s: m[key] for s, m in med.items() if s != "runnel"}
    if "runnel" not in med or not others:
        return
    best = max(others, key=others.get)
    print(f"runnel / fastest peer ({best}) {label}: {med['runnel'][key] / others[best]:.2f}x "
          f"(ratio of medians), {paired_ratio(results, 'runnel', key):.2f}x (median of "
          f"per-round ratios)")


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
