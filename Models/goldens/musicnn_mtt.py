#!/usr/bin/env python3
"""Golden outputs of the log-mel front end (librosa) and MusiCNN MTT (TensorFlow graph).

Run through Models/goldens/run.sh musicnn_mtt (a throwaway virtualenv with
requirements-musicnn.txt: tensorflow-cpu, tf-keras, librosa, musicnn==0.1.0 without its
dependencies). Needs Media/samples (Media/fetch-samples.sh) and the ffmpeg CLI.

Audio: the first audio stream, resampled by FFmpeg to 16 kHz with every channel kept
(`ffmpeg -i F -map 0:a:0 -ar 16000 -c:a pcm_f32le -f f32le -`), then made mono as
librosa.to_mono does (np.mean over channels in float32). Marquee's AudioDecoder with
`channels: .averageMono` produces the same samples; this script stores their count and sum
so a test can tell the decode apart from the front end.

Log-mel: librosa.feature.melspectrogram(y, sr=16000, n_fft=512, hop_length=256, n_mels=96)
with librosa's defaults (center=True, pad_mode="constant", Hann, power 2, Slaney mel), then
log10(10000 * S + 1) in float32 — NOT musicnn's extractor, which casts S to float16 first
(overflowing to inf on loud music with current numpy) and hides checkpoint load failures.

Network: musicnn.models.define_model(x, is_training, 'MTT_musicnn', 50) restored from
musicnn/MTT_musicnn with tf.compat.v1.train.Saver (a failure is an error here), fed the
float32 log-mel in patches of 187 frames without overlap (musicnn's default: trailing frames
that do not fill a patch are dropped), with is_training False.
"""

import importlib.metadata as metadata
import json
import os
import subprocess
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import librosa
import tensorflow as tf
import musicnn
from musicnn import configuration as config
from musicnn import models

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "MarqueeModelsTests", "Goldens", "musicnn_mtt")
SAMPLES = os.path.join(ROOT, "Media", "samples")
SCRIPT = "Models/goldens/musicnn_mtt.py"
PATCH = 187
# How many leading patches keep their full log-mel input and probabilities here (the rest of
# test.mp4 is summarized, to keep the goldens small).
STORED_PATCHES = {"test": 8, "bigbuckbunny": 1}


def decode(path):
    """16 kHz mono float32 as librosa.to_mono would make it from FFmpeg's resampled channels."""
    channels = int(subprocess.check_output(
        ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=channels",
         "-of", "csv=p=0", path]).decode().strip().split("\n")[0])
    raw = subprocess.check_output(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:a:0", "-ar", "16000",
         "-c:a", "pcm_f32le", "-f", "f32le", "-"])
    y = np.frombuffer(raw, dtype="<f4").reshape(-1, channels).T
    return librosa.to_mono(y) if channels > 1 else y[0], channels


def log_mel(y):
    S = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=512, hop_length=256, n_mels=96)
    S = S.astype(np.float32)
    return np.log10(np.float32(10000) * S + np.float32(1)).T.astype(np.float32)  # [frames, 96]


def build_graph():
    tf.compat.v1.disable_eager_execution()
    tf.compat.v1.reset_default_graph()
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, PATCH, config.N_MELS])
        is_training = tf.compat.v1.placeholder(tf.bool)
        y, timbral, temporal, cnn1, cnn2, cnn3, mean_pool, max_pool, penultimate = models.define_model(
            x, is_training, "MTT_musicnn", len(config.MTT_LABELS))
        probabilities = tf.nn.sigmoid(y)
    sess = tf.compat.v1.Session(config=tf.compat.v1.ConfigProto(
        intra_op_parallelism_threads=2, inter_op_parallelism_threads=1))
    sess.run(tf.compat.v1.global_variables_initializer())
    tf.compat.v1.train.Saver().restore(sess, os.path.join(os.path.dirname(musicnn.__file__), "MTT_musicnn") + "/")
    outputs = {"probabilities": probabilities, "timbral": timbral, "temporal": temporal, "cnn1": cnn1,
               "cnn2": cnn2, "cnn3": cnn3, "mean_pool": mean_pool, "max_pool": max_pool,
               "penultimate": penultimate}
    return sess, x, is_training, outputs


def patches(mel):
    count = (mel.shape[0] - PATCH) // PATCH + 1 if mel.shape[0] >= PATCH else 0
    return np.stack([mel[i * PATCH:(i + 1) * PATCH] for i in range(count)]) if count else np.zeros((0, PATCH, 96), np.float32)


def main():
    os.makedirs(OUT, exist_ok=True)
    sess, x, is_training, outputs = build_graph()
    summary = {
        "generated_by": SCRIPT + " — do not edit",
        "versions": {p: metadata.version(p) for p in ["tensorflow-cpu", "tf-keras", "librosa", "numpy", "musicnn", "scipy"]},
        "ffmpeg": subprocess.check_output(["ffmpeg", "-version"]).decode().split("\n")[0],
        "labels": list(config.MTT_LABELS),
        "titles": {},
    }
    for name in ["test", "bigbuckbunny"]:
        y, channels = decode(os.path.join(SAMPLES, name + ".mp4"))
        mel = log_mel(y)
        batch = patches(mel)
        results = sess.run(outputs, feed_dict={x: batch, is_training: False})
        keep = STORED_PATCHES[name]
        np.save(os.path.join(OUT, f"{name}.logmel.npy"), mel[:keep * PATCH])
        np.save(os.path.join(OUT, f"{name}.logmel_frame_sums.npy"), mel.astype(np.float64).sum(axis=1).astype(np.float32))
        np.save(os.path.join(OUT, f"{name}.probabilities.npy"), results["probabilities"].astype(np.float32))
        for key in ["penultimate", "mean_pool", "max_pool"]:
            np.save(os.path.join(OUT, f"{name}.{key}.npy"), results[key][:keep].astype(np.float32))
        if name == "test":
            for key in ["timbral", "temporal", "cnn1", "cnn2", "cnn3"]:
                value = results[key][:1]
                np.save(os.path.join(OUT, f"test_patch0.{key}.npy"), value.reshape(PATCH, -1).astype(np.float32))
        mean = results["probabilities"].mean(axis=0)
        top = np.argsort(-mean)[:10]
        summary["titles"][name] = {
            "source_channels": channels,
            "samples": int(y.shape[0]),
            "sample_sum": float(np.sum(y.astype(np.float64))),
            "frames": int(mel.shape[0]),
            "patches": int(batch.shape[0]),
            "stored_patches": keep,
            "top10": [[config.MTT_LABELS[i], float(mean[i])] for i in top],
        }
        print(name, summary["titles"][name]["top10"][:6])
    with open(os.path.join(OUT, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
