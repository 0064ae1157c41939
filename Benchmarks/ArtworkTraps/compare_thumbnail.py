#!/usr/bin/env python3
"""Artwork picks on the trap video: `marquee artwork` against ffmpeg's `thumbnail` filter.

Both run on Media/fixtures/trap.mp4 in the same invocation; for each, prints how many of its
picks fall in a trap interval of truth.json (black frames, fades, the dissolve, blurred
stretches, the caption card). ffmpeg's filter picks, in each batch of N consecutive frames,
the frame closest to the batch's mean colour histogram; it is run with N = 100 (its default,
about as many picks as Marquee's 10) and N = 50.

Usage: Benchmarks/ArtworkTraps/compare_thumbnail.py [--marquee PATH] [--count K]
"""
import argparse, json, os, re, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRAP = os.path.join(ROOT, "Media", "fixtures", "trap.mp4")


def trapped(frame, traps):
    return next((t["kind"] for t in traps if t["start_frame"] <= frame <= t["end_frame"]), None)


def report(name, frames, traps):
    hits = [(f, trapped(f, traps)) for f in frames]
    bad = [(f, k) for f, k in hits if k]
    detail = ", ".join(f"{f} ({k})" for f, k in bad) or "none"
    print(f"{name:28s} {len(frames):3d} picks, {len(bad):2d} in traps ({100 * len(bad) / max(len(frames), 1):.0f}%): {detail}")
    return len(bad)


def thumbnail_picks(n, fps):
    r = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-i", TRAP, "-vf", f"thumbnail={n},showinfo",
                        "-f", "null", "-"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"ffmpeg failed: {r.stderr.strip()[-400:]}")
    times = [float(m) for m in re.findall(r"\bpts_time:\s*([0-9.]+)", r.stderr)]
    return [round(t * fps) for t in times]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--marquee", default=os.path.join(ROOT, ".build", "release", "marquee"))
    parser.add_argument("--count", type=int, default=10)
    args = parser.parse_args()
    truth = json.load(open(os.path.join(ROOT, "Media", "fixtures", "truth.json"), encoding="utf-8"))["trap.mp4"]
    traps, fps = truth["traps"], truth["fps"]
    trap_frames = sum(t["end_frame"] - t["start_frame"] + 1 for t in traps)
    print(f"trap.mp4: {truth['frames']} frames, {trap_frames} of them ({100 * trap_frames / truth['frames']:.0f}%) "
          f"in {len(traps)} traps")
    with tempfile.TemporaryDirectory() as out:
        r = subprocess.run([args.marquee, "artwork", "--json", "--count", str(args.count), "--out", out, TRAP],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"marquee artwork failed: {r.stderr.strip()}")
        marquee = [c["frame"] for c in json.loads(r.stdout)["candidates"]]
    report(f"marquee artwork --count {args.count}", marquee, traps)
    for n in (100, 50):
        report(f"ffmpeg thumbnail={n}", thumbnail_picks(n, fps), traps)


if __name__ == "__main__":
    main()
