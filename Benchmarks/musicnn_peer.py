#!/usr/bin/env python3
"""The TensorFlow reference for marquee-bench-musicnn: librosa's log-mel and musicnn's graph.

    python Benchmarks/musicnn_peer.py --threads 2 FILE...

Runs in the golden virtualenv (Models/goldens/run.sh musicnn_mtt makes .venv-goldens-musicnn).
Per file: decodes the first audio stream to 16 kHz mono with the ffmpeg CLI (as the goldens
do), computes librosa's log-mel, and runs musicnn's MTT graph (is_training False) on all the
3-second patches at once, with `threads` intra-op threads. Prints one JSON line per file:
{"file", "audio_seconds", "patches", "decode_seconds", "logmel_seconds", "graph_seconds"}; the
graph time is the best of two runs after a warm-up, in batches of 32 patches.
"""

import argparse
import json
import os
import subprocess
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import librosa
import tensorflow as tf
import musicnn
from musicnn import configuration as config
from musicnn import models

PATCH = 187
# Patches per session run (musicnn's extractor feeds them all at once; 32 keeps a 10-minute
# title's activations to a few hundred MB).
BATCH = 32


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()

    tf.compat.v1.disable_eager_execution()
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, PATCH, config.N_MELS])
        is_training = tf.compat.v1.placeholder(tf.bool)
        y = models.define_model(x, is_training, "MTT_musicnn", len(config.MTT_LABELS))[0]
        probabilities = tf.nn.sigmoid(y)
    sess = tf.compat.v1.Session(config=tf.compat.v1.ConfigProto(
        intra_op_parallelism_threads=args.threads, inter_op_parallelism_threads=1))
    tf.compat.v1.train.Saver().restore(sess, os.path.join(os.path.dirname(musicnn.__file__), "MTT_musicnn") + "/")

    for path in args.files:
        start = time.perf_counter()
        channels = int(subprocess.check_output(
            ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=channels",
             "-of", "csv=p=0", path]).decode().split()[0])
        raw = subprocess.check_output(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:a:0",
                                       "-ar", "16000", "-c:a", "pcm_f32le", "-f", "f32le", "-"])
        audio = np.frombuffer(raw, dtype="<f4").reshape(-1, channels).T
        audio = librosa.to_mono(audio) if channels > 1 else audio[0]
        decoded = time.perf_counter()
        mel = librosa.feature.melspectrogram(y=audio, sr=16000, n_fft=512, hop_length=256, n_mels=96)
        mel = np.log10(np.float32(10000) * mel.astype(np.float32) + np.float32(1)).T
        count = mel.shape[0] // PATCH
        batch = np.stack([mel[i * PATCH:(i + 1) * PATCH] for i in range(count)])
        logmel = time.perf_counter()
        sess.run(probabilities, feed_dict={x: batch[:1], is_training: False})
        best = float("inf")
        for _ in range(2):
            t0 = time.perf_counter()
            for first in range(0, count, BATCH):
                sess.run(probabilities, feed_dict={x: batch[first:first + BATCH], is_training: False})
            best = min(best, time.perf_counter() - t0)
        print(json.dumps({"file": path, "audio_seconds": audio.shape[0] / 16000, "patches": count,
                          "decode_seconds": decoded - start, "logmel_seconds": logmel - decoded,
                          "graph_seconds": best}), flush=True)


if __name__ == "__main__":
    main()
