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
    """{side: [result per round]}, the sides taking turns so that noise hits all alike."""
    results = {s: [] for s in sides}
    for _ in range(rounds):
        for s in sides:
            result = run_side(script, args_for(s))
            if result is not None:
                results[s].append(result)
    return results


def medians(results):
    """{side: {key: median}} over the rounds each side completed."""
    return {s: {k: statistics.median(r[k] for r in rs) for k in rs[0]}
            for s, rs in results.items() if rs}


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
