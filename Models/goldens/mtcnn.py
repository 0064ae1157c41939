#!/usr/bin/env python3
"""Golden outputs of MTCNN from facenet-pytorch==2.6.0 (P-Net, R-Net, O-Net and its detect()).

Run through Models/goldens/run.sh mtcnn. facenet-pytorch pins torch<2.3; run.sh installs it
with --no-deps beside the current torch of requirements.txt (plus requests, which its
package __init__ imports). The detector is the one the issue names:

    MTCNN(keep_all=True)  # min_face_size 20, factor 0.709, thresholds (0.6, 0.7, 0.7)
    boxes, probs, points = mtcnn.detect(rgb_uint8_array, landmarks=True)

Inputs: Media/samples/astronaut.png and coffee.png (skimage/data; RGB through PIL), and
frames of Media/samples/test.mp4 (160x90) at FRAME_TIMES, decoded with the ffmpeg CLI
(`ffmpeg -ss T -i test.mp4 -frames:v 1 -pix_fmt rgb24 -f rawvideo`). The times were picked by
scanning one frame a second with the same detector (`--scan` prints that scan): large and
small faces, faces cut by the frame's edge, scores from 0.76 to 1.

Writes into Tests/MarqueeModelsTests/Goldens/mtcnn/:
  test_<T>s.rgb.npy           uint8 HxWx3, the decoded frame the detector saw
  summary.json                per image: boxes [x1,y1,x2,y2], scores, landmarks [5][x,y]
                              (facenet-pytorch's order: largest box first)
  pnet.input.npy / pnet.prob.npy / pnet.reg.npy
                              P-Net on astronaut at pyramid level 3 (imresample + normalization
                              as detect_face does): input 1x3xHxW, face probability HxW,
                              box regression 4xHxW
  rnet.input.npy / rnet.prob.npy / rnet.reg.npy
                              R-Net on the first 16 second-stage crops of astronaut (Nx3x24x24)
  onet.input.npy / onet.prob.npy / onet.reg.npy / onet.landmarks.npy
                              O-Net on the third-stage crops of astronaut (Nx3x48x48)
"""

import importlib.metadata as metadata
import json
import os
import subprocess
import sys

import numpy as np
import torch
from PIL import Image

from facenet_pytorch import MTCNN
from facenet_pytorch.models.utils import detect_face as df

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "MarqueeModelsTests", "Goldens", "mtcnn")
SAMPLES = os.path.join(ROOT, "Media", "samples")
VIDEO = os.path.join(SAMPLES, "test.mp4")
GENERATED_BY = "Models/goldens/mtcnn.py — do not edit"
PHOTOS = ["astronaut", "coffee"]
FRAME_TIMES = [42, 48, 75, 81, 110, 118, 128, 149, 170]


def decode_frame(seconds, width=160, height=90):
    raw = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-ss", str(seconds), "-i", VIDEO,
                          "-frames:v", "1", "-pix_fmt", "rgb24", "-f", "rawvideo", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3).copy()


def detect(mtcnn, rgb):
    boxes, probs, points = mtcnn.detect(rgb, landmarks=True)
    if boxes is None:
        return {"boxes": [], "scores": [], "landmarks": []}
    return {
        "boxes": np.asarray(boxes, dtype=np.float32).tolist(),
        "scores": np.asarray(probs, dtype=np.float32).tolist(),
        "landmarks": np.asarray(points, dtype=np.float32).tolist(),
    }


def stage_inputs(mtcnn, rgb):
    """The network inputs of each stage on one image, computed as detect_face computes them."""
    imgs = torch.as_tensor(rgb.copy())[None].permute(0, 3, 1, 2).float()
    h, w = imgs.shape[2:4]
    m = 12.0 / mtcnn.min_face_size
    minl = min(h, w) * m
    scales, scale = [], m
    while minl >= 12:
        scales.append(scale)
        scale *= mtcnn.factor
        minl *= mtcnn.factor
    level = scales[3]
    pnet_in = (df.imresample(imgs, (int(h * level + 1), int(w * level + 1))) - 127.5) * 0.0078125

    # The crops R-Net and O-Net see: rerun detect_face's first two stages through its own helpers.
    captured = {}
    original = df.fixed_batch_process

    def capture(im_data, model):
        captured.setdefault(type(model).__name__, im_data.clone())
        return original(im_data, model)

    df.fixed_batch_process = capture
    try:
        mtcnn.detect(rgb)
    finally:
        df.fixed_batch_process = original
    return pnet_in, captured["RNet"][:16], captured["ONet"]


def scan():
    mtcnn = MTCNN(keep_all=True)
    for t in range(0, 212):
        found = detect(mtcnn, decode_frame(t))
        if found["boxes"]:
            print(t, np.round(found["scores"], 3).tolist(), np.round(found["boxes"], 1).tolist())


def main():
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    if "--scan" in sys.argv:
        return scan()
    os.makedirs(OUT, exist_ok=True)
    mtcnn = MTCNN(keep_all=True)

    images = {}
    for name in PHOTOS:
        images[name] = np.asarray(Image.open(os.path.join(SAMPLES, name + ".png")).convert("RGB"), dtype=np.uint8)
    for t in FRAME_TIMES:
        name = f"test_{t:03d}s"
        images[name] = decode_frame(t)
        np.save(os.path.join(OUT, name + ".rgb.npy"), images[name])

    summary = {
        "generated_by": GENERATED_BY,
        "packages": {p: metadata.version(p) for p in ["facenet-pytorch", "torch", "numpy", "pillow"]},
        "detector": "MTCNN(keep_all=True).detect(image, landmarks=True)",
        "frames": f"test.mp4 at {FRAME_TIMES} s: ffmpeg -ss T -frames:v 1 -pix_fmt rgb24",
        "images": {},
    }
    for name, rgb in images.items():
        summary["images"][name] = {"width": int(rgb.shape[1]), "height": int(rgb.shape[0]), **detect(mtcnn, rgb)}
        print(name, len(summary["images"][name]["boxes"]), "faces", np.round(summary["images"][name]["scores"], 4).tolist())

    pnet_in, rnet_in, onet_in = stage_inputs(mtcnn, images["astronaut"])
    with torch.no_grad():
        reg, prob = mtcnn.pnet(pnet_in)
        np.save(os.path.join(OUT, "pnet.input.npy"), pnet_in.contiguous().numpy().astype(np.float32))
        np.save(os.path.join(OUT, "pnet.prob.npy"), prob[0, 1].numpy().astype(np.float32))
        np.save(os.path.join(OUT, "pnet.reg.npy"), reg[0].numpy().astype(np.float32))
        reg, prob = mtcnn.rnet(rnet_in)
        np.save(os.path.join(OUT, "rnet.input.npy"), rnet_in.contiguous().numpy().astype(np.float32))
        np.save(os.path.join(OUT, "rnet.prob.npy"), prob[:, 1].numpy().astype(np.float32))
        np.save(os.path.join(OUT, "rnet.reg.npy"), reg.numpy().astype(np.float32))
        reg, landmarks, prob = mtcnn.onet(onet_in)
        np.save(os.path.join(OUT, "onet.input.npy"), onet_in.contiguous().numpy().astype(np.float32))
        np.save(os.path.join(OUT, "onet.prob.npy"), prob[:, 1].numpy().astype(np.float32))
        np.save(os.path.join(OUT, "onet.reg.npy"), reg.numpy().astype(np.float32))
        np.save(os.path.join(OUT, "onet.landmarks.npy"), landmarks.numpy().astype(np.float32))
    summary["stages"] = {"pnet": list(pnet_in.shape), "rnet": list(rnet_in.shape), "onet": list(onet_in.shape)}

    with open(os.path.join(OUT, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
