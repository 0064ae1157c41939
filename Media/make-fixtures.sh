#!/usr/bin/env bash
# Builds Marquee's synthetic media fixtures with the ffmpeg CLI and writes their
# ground truth to Media/fixtures/truth.json (one JSON object keyed by file name).
#
# Every value in truth.json is checked against the encoded files (ffprobe, and
# decoded frames/samples where it matters) before truth.json is written; the
# script fails when a fixture does not match its truth.
#
# Idempotent: when truth.json exists, records the sha256 of this script and make-trap.sh, and all
# listed files are present, nothing is rebuilt.
#
# Usage: Media/make-fixtures.sh [--force] [--bench]
#   --force   rebuild even when truth.json is up to date
#   --bench   also build bench1080p.mp4 (1920x1080, 24 fps, 60 s) and
#             bench_title_10min.mp4 (test.mp4 looped to 10 minutes, upscaled to
#             1920x1080 at 24 fps, its AAC audio, an English mov_text subtitle
#             track); each skipped when the file already exists
set -euo pipefail

MEDIA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SCRIPT="$MEDIA_DIR/$(basename "${BASH_SOURCE[0]}")"
FIXTURES="$MEDIA_DIR/fixtures"
TRUTH="$FIXTURES/truth.json"
PYTHON="${PYTHON:-python3}"

FORCE=0
BENCH=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --bench) BENCH=1 ;;
    *) echo "usage: $0 [--force] [--bench]" >&2; exit 2 ;;
  esac
done

die() { echo "make-fixtures: $*" >&2; exit 1; }
for tool in ffmpeg ffprobe "$PYTHON" sha256sum; do
  command -v "$tool" >/dev/null || die "$tool not found"
done

ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }

# Options that keep outputs free of run-specific data (encoder strings,
# random Matroska UIDs, creation times).
BITEXACT=(-fflags +bitexact -flags:v +bitexact -flags:a +bitexact -map_metadata -1)
# Single-threaded x264 so the bitstream does not depend on the core count.
X264=(-c:v libx264 -preset medium -crf 23 -threads 1)

# The trap video is built by make-trap.sh: a change to either script rebuilds the fixtures.
SCRIPT_SHA="$(cat "$SCRIPT" "$MEDIA_DIR/make-trap.sh" | sha256sum | awk '{ print $1 }')"

truth_up_to_date() {
  [ -f "$TRUTH" ] || return 1
  "$PYTHON" - "$TRUTH" "$SCRIPT_SHA" <<'PY'
import json, os, sys
path, sha = sys.argv[1], sys.argv[2]
try:
    truth = json.load(open(path, encoding="utf-8"))
except ValueError:
    sys.exit(1)
if truth.get("_generator", {}).get("script_sha256") != sha:
    sys.exit(1)
base = os.path.dirname(path)
missing = [k for k in truth if not k.startswith("_") and not os.path.exists(os.path.join(base, k))]
sys.exit(1 if missing else 0)
PY
}

build_fixtures() {
  local B="$FIXTURES/.build"
  rm -rf "$B"
  mkdir -p "$B"
  rm -f "$TRUTH"

  # ---------------------------------------------------------------- shots.mp4
  # 25 fps, 525 frames (21 s). Segment boundaries (0-based frame indices):
  #   0-74     testsrc2                       (hard cut at 75)
  #   75-149   mandelbrot, slow zoom          (hard cut at 150)
  #   150-224  life, 4x cells, tmix-smoothed  (hard cut at 225)
  #   225-299  smptebars + moving box; brightness flash on 260-262
  #   300-349  rgbtestsrc still image         (hard cuts at 300 and 350)
  #   350-424  colorspectrum, panning; fades out on 413-424
  #   425-431  black (425-430 black clip + first frame of the fade-in)
  #   431-479  orange + temporal noise; fades in on 432-443
  #   481-494  cross-dissolve (xfade) into animated gradients (495-524)
  cat >"$B/shots.graph" <<'EOF'
testsrc2=s=320x180:r=25:d=3,format=yuv420p,setsar=1[a];
mandelbrot=s=320x180:r=25:end_pts=200:maxiter=512:start_scale=3:end_scale=0.3,trim=end_frame=75,setpts=N/25/TB,format=yuv420p,setsar=1[b];
life=s=80x45:r=25:seed=42:ratio=0.3:mold=25:life_color=#60C060:death_color=#203020:mold_color=#806030,trim=start_frame=40:end_frame=115,setpts=N/25/TB,scale=320:180:flags=neighbor,tmix=frames=4,format=yuv420p,setsar=1[c];
smptebars=s=320x180:r=25:d=3[d0];
color=c=white:s=40x40:r=25:d=3[d1];
[d0][d1]overlay=x='20+n*3':y=120:shortest=1,eq=brightness=0.4:enable='between(n,35,37)',format=yuv420p,setsar=1[d];
rgbtestsrc=s=320x180:r=25:d=2,format=yuv420p,setsar=1[e];
colorspectrum=s=320x180:r=25:type=all:d=3,scroll=h=0.004,format=yuv420p,setsar=1,fade=t=out:start_frame=62:nb_frames=13[f];
color=c=black:s=320x180:r=25:d=0.24,format=yuv420p,setsar=1[k];
color=c=0xD08020:s=320x180:r=25:d=2.6,format=yuv420p,noise=alls=12:allf=t+u:all_seed=5,setsar=1,fade=t=in:start_frame=0:nb_frames=13[g];
gradients=s=320x180:r=25:c0=0x102040:c1=0x305010:nb_colors=2:speed=0.2:seed=3:d=1.8,format=yuv420p,setsar=1[h];
[g][h]xfade=transition=fade:duration=0.6:offset=1.96[gh];
[a][b][c][d][e][f][k][gh]concat=n=8:v=1:a=0,format=yuv420p[out]
EOF
  ff -filter_complex_script "$B/shots.graph" -map '[out]' "${X264[@]}" -pix_fmt yuv420p \
     -an "${BITEXACT[@]}" "$B/shots.mp4"
  rm -f "$B/shots.graph"

  # ---------------------------------------------------------------- trap.mp4
  # Real footage with black frames, fades, a dissolve, blurred stretches and a caption card
  # at known frames (artwork candidates must avoid them); its truth is checked below.
  "$MEDIA_DIR/make-trap.sh" "$B"

  # ---------------------------------------------------------------- black.mp4
  # 125 frames: 0-49 testsrc2, 50-74 black, 75-124 smptebars with a moving box.
  ff -filter_complex "
      testsrc2=s=320x180:r=25:d=2,format=yuv420p,setsar=1[a];
      color=c=black:s=320x180:r=25:d=1,format=yuv420p,setsar=1[k];
      smptebars=s=320x180:r=25:d=2[b0];
      color=c=white:s=40x40:r=25:d=2[b1];
      [b0][b1]overlay=x='20+n*4':y=120:shortest=1,format=yuv420p,setsar=1[b];
      [a][k][b]concat=n=3:v=1:a=0[out]" \
     -map '[out]' "${X264[@]}" -pix_fmt yuv420p -an "${BITEXACT[@]}" "$B/black.mp4"

  # ---------------------------------------------------------------- audio
  ff -f lavfi -i "aevalsrc=0.5*sin(2*PI*440*t):s=44100:d=3:c=mono" \
     -c:a pcm_s16le "${BITEXACT[@]}" "$B/tone_440.wav"
  ff -i "$B/tone_440.wav" -c:a flac "${BITEXACT[@]}" "$B/tone_440.flac"
  ff -i "$B/tone_440.wav" -c:a libvorbis -q:a 5 "${BITEXACT[@]}" "$B/tone_440.ogg"
  ff -f lavfi -i "anullsrc=r=16000:cl=mono" -t 2 -c:a pcm_s16le "${BITEXACT[@]}" "$B/silence.wav"
  ff -f lavfi -i "aevalsrc=0.5*sin(2*PI*440*t)|0.25*sin(2*PI*1000*t):s=48000:d=2:c=stereo" \
     -c:a pcm_s16le "${BITEXACT[@]}" "$B/stereo_tones.wav"
  # 5.1 channel order: FL FR FC LFE BL BR. The LFE tone is low (60 Hz) because
  # AAC band-limits the LFE channel.
  ff -f lavfi -i "aevalsrc=0.25*sin(2*PI*440*t)|0.25*sin(2*PI*550*t)|0.25*sin(2*PI*660*t)|0.25*sin(2*PI*60*t)|0.25*sin(2*PI*770*t)|0.25*sin(2*PI*880*t):s=48000:d=2:c=5.1" \
     -c:a pcm_s16le "${BITEXACT[@]}" "$B/surround51.wav"
  ff -f lavfi -i "testsrc2=s=160x90:r=25:d=2" -i "$B/surround51.wav" -map 0:v -map 1:a \
     "${X264[@]}" -pix_fmt yuv420p -c:a aac -b:a 384k "${BITEXACT[@]}" "$B/surround51.mp4"
  ff -f lavfi -i "aevalsrc=0.5*sin(2*PI*440*t):s=44100:d=3:c=mono" \
     -c:a aac -b:a 96k "${BITEXACT[@]}" "$B/audio_only.m4a"
  ff -f lavfi -i "testsrc2=s=320x180:r=25:d=2" "${X264[@]}" -pix_fmt yuv420p -an \
     "${BITEXACT[@]}" "$B/video_only.mp4"

  # ---------------------------------------------------------------- subtitles
  # The same three cues in each format, with format-specific markup that a
  # reader has to strip. Times are multiples of 10 ms (ASS has centiseconds).
  cat >"$B/cues.srt" <<'EOF'
1
00:00:00,500 --> 00:00:02,000
<i>Hello</i>, world!

2
00:00:02,250 --> 00:00:03,880
<b>Bold</b> line one
line <font color="#ff0000">two</font>

3
00:00:04,120 --> 00:00:05,750
{\an8}Café — naïve <u>façade</u> & co
EOF
  cat >"$B/cues.vtt" <<'EOF'
WEBVTT

00:00:00.500 --> 00:00:02.000
<i>Hello</i>, world!

00:00:02.250 --> 00:00:03.880
<b>Bold</b> line one
line <c.red>two</c>

00:00:04.120 --> 00:00:05.750 line:0
Café — naïve <u>façade</u> &amp; co
EOF
  cat >"$B/cues.ass" <<'EOF'
[Script Info]
ScriptType: v4.00+
PlayResX: 160
PlayResY: 90
WrapStyle: 0

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Default,Arial,12,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:00.50,0:00:02.00,Default,,0,0,0,,{\i1}Hello{\i0}, world!
Dialogue: 0,0:00:02.25,0:00:03.88,Default,,0,0,0,,{\b1}Bold{\b0} line one\Nline {\c&H0000FF&}two
Dialogue: 0,0:00:04.12,0:00:05.75,Default,,0,0,0,,{\an8}Café — naïve {\u1}façade{\u0} & co
EOF
  local SUBVIDEO=(-f lavfi -i "testsrc2=s=160x90:r=5:d=6")
  ff "${SUBVIDEO[@]}" -i "$B/cues.srt" -map 0:v -map 1:s "${X264[@]}" -pix_fmt yuv420p -c:s copy \
     -metadata:s:s:0 language=eng -metadata:s:s:0 title="English (SubRip)" "${BITEXACT[@]}" "$B/subs_srt.mkv"
  ff "${SUBVIDEO[@]}" -i "$B/cues.ass" -map 0:v -map 1:s "${X264[@]}" -pix_fmt yuv420p -c:s copy \
     -metadata:s:s:0 language=eng -metadata:s:s:0 title="English (ASS)" "${BITEXACT[@]}" "$B/subs_ass.mkv"
  ff "${SUBVIDEO[@]}" -i "$B/cues.vtt" -map 0:v -map 1:s "${X264[@]}" -pix_fmt yuv420p -c:s copy \
     -metadata:s:s:0 language=eng -metadata:s:s:0 title="English (WebVTT)" "${BITEXACT[@]}" "$B/subs_webvtt.mkv"
  # MP4 keeps no per-track title; the handler name carries it instead.
  ff "${SUBVIDEO[@]}" -i "$B/cues.srt" -map 0:v -map 1:s "${X264[@]}" -pix_fmt yuv420p -c:s mov_text \
     -metadata:s:s:0 language=eng -metadata:s:s:0 handler_name="English (mov_text)" \
     "${BITEXACT[@]}" "$B/subs_movtext.mp4"
  ff "${SUBVIDEO[@]}" "${X264[@]}" -pix_fmt yuv420p "${BITEXACT[@]}" "$B/sidecar.mp4"
  mv "$B/cues.srt" "$B/sidecar.srt"
  mv "$B/cues.vtt" "$B/sidecar.vtt"
  rm -f "$B/cues.ass"

  # ---------------------------------------------------------------- pixel formats
  ff -f lavfi -i "testsrc2=s=320x180:r=25:d=2" "${X264[@]}" -pix_fmt yuv420p10le -profile:v high10 \
     "${BITEXACT[@]}" "$B/tenbit.mkv"
  ff -f lavfi -i "testsrc2=s=320x180:r=25:d=2" "${X264[@]}" -pix_fmt yuv444p -profile:v high444 \
     "${BITEXACT[@]}" "$B/yuv444.mp4"

  # ---------------------------------------------------------------- rotated.mp4
  # ffmpeg 5.1 neither writes a display matrix from a "rotate" tag nor has
  # -display_rotation, so the tkhd matrix is set directly: a 90 degree
  # clockwise display rotation (as phones write for portrait video), which
  # ffprobe reports as rotation -90.
  ff -f lavfi -i "testsrc2=s=320x180:r=25:d=2" "${X264[@]}" -pix_fmt yuv420p "${BITEXACT[@]}" "$B/rotated.mp4"
  "$PYTHON" - "$B/rotated.mp4" <<'PY'
import struct, sys
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
at = data.find(b"tkhd")
assert at > 4 and data.find(b"tkhd", at + 4) == -1, "expected exactly one tkhd box"
assert data[at + 4] == 0, "expected a version 0 tkhd box"
matrix = at + 4 + 40  # version/flags, times, track id, duration, layer, volume
height = struct.unpack_from(">I", data, matrix + 40)[0]  # 16.16 fixed point
struct.pack_into(">9i", data, matrix, 0, 0x10000, 0, -0x10000, 0, 0, height, 0, 0x40000000)
open(path, "wb").write(data)
PY

  # ---------------------------------------------------------------- vfr.mkv
  # 40 frames: 10 at 10 fps (0.0-0.9 s), 25 at 25 fps (1.00-1.96 s),
  # 5 at 5 fps (2.0-2.8 s). All timestamps are whole milliseconds.
  ff -filter_complex "
      testsrc2=s=320x180:r=10:d=1,settb=1/1000[a];
      testsrc2=s=320x180:r=25:d=1,settb=1/1000[b];
      testsrc2=s=320x180:r=5:d=1,settb=1/1000[c];
      [a][b][c]concat=n=3:v=1:a=0,format=yuv420p[out]" \
     -map '[out]' -fps_mode passthrough "${X264[@]}" "${BITEXACT[@]}" "$B/vfr.mkv"

  # ---------------------------------------------------------------- metadata.mp4
  ff -f lavfi -i "testsrc2=s=320x180:r=25:d=2" \
     -f lavfi -i "aevalsrc=0.4*sin(2*PI*440*t)|0.4*sin(2*PI*660*t):s=48000:d=2:c=stereo" \
     -map 0:v -map 1:a "${X264[@]}" -pix_fmt yuv420p -c:a aac -b:a 128k "${BITEXACT[@]}" \
     -metadata title="Marquee Métadonnées Test" \
     -metadata description="A two-second clip with container tags." \
     -metadata comment="Synthetic fixture; not a real title." \
     -metadata genre="Documentary" \
     -metadata date="2024-05-17" \
     -metadata:s:a:0 language=fre \
     "$B/metadata.mp4"

  # ---------------------------------------------------------------- broken files
  : >"$B/empty.mp4"
  # 4 s, 100 frames; the default mp4 layout puts the moov index after mdat.
  ff -f lavfi -i "testsrc2=s=320x180:r=25:d=4" "${X264[@]}" -pix_fmt yuv420p "${BITEXACT[@]}" "$B/full_moov_end.mp4"
  ff -f lavfi -i "testsrc2=s=320x180:r=25:d=4" "${X264[@]}" -pix_fmt yuv420p -movflags +faststart \
     "${BITEXACT[@]}" "$B/full_faststart.mp4"
  "$PYTHON" - "$B" <<'PY'
import hashlib, os, sys
b = sys.argv[1]
for src, dst in (("full_moov_end.mp4", "truncated.mp4"), ("full_faststart.mp4", "truncated_faststart.mp4")):
    data = open(os.path.join(b, src), "rb").read()
    open(os.path.join(b, dst), "wb").write(data[: len(data) // 2])
# 64 KiB of deterministic pseudo-random bytes: SHA-256 in counter mode.
rnd = b"".join(hashlib.sha256(b"marquee-random-%d" % i).digest() for i in range(65536 // 32))
open(os.path.join(b, "random.mp4"), "wb").write(rnd)
with open(os.path.join(b, "text.mkv"), "w", encoding="utf-8") as f:
    f.write("This is a plain text file with a .mkv name.\nIt is not a Matroska file.\n")
PY

  # ---------------------------------------------------------------- truth
  SAMPLES="$MEDIA_DIR/samples" "$PYTHON" - "$B" "$SCRIPT_SHA" <<'PY'
import array, html, json, os, re, subprocess, sys

B, SCRIPT_SHA = sys.argv[1], sys.argv[2]
problems = []


def check(cond, what):
    if not cond:
        problems.append(what)
    return cond


def run(*cmd):
    return subprocess.run(cmd, capture_output=True)


def probe(name):
    r = run("ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", os.path.join(B, name))
    if r.returncode != 0:
        raise SystemExit(f"ffprobe failed on {name}: {r.stderr.decode(errors='replace').strip()}")
    return json.loads(r.stdout)


def streams(info, kind):
    return [s for s in info["streams"] if s["codec_type"] == kind]


def frame_count(name):
    r = run("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
            "-show_entries", "stream=nb_read_frames", "-of", "json", os.path.join(B, name))
    return int(json.loads(r.stdout)["streams"][0]["nb_read_frames"])


def gray(name, w, h):
    r = run("ffmpeg", "-nostdin", "-v", "error", "-i", os.path.join(B, name), "-map", "0:v:0",
            "-fps_mode", "passthrough", "-vf", f"scale={w}:{h}:flags=area", "-f", "rawvideo",
            "-pix_fmt", "gray", "-")
    data, size = r.stdout, w * h
    return [data[i:i + size] for i in range(0, len(data), size)]


def pcm(name, stream=0):
    """Decoded samples of audio stream `stream` as per-channel lists of floats."""
    info = probe(name)
    ch = int(streams(info, "audio")[stream]["channels"])
    r = run("ffmpeg", "-nostdin", "-v", "error", "-i", os.path.join(B, name), "-map", f"0:a:{stream}",
            "-f", "s16le", "-c:a", "pcm_s16le", "-")
    a = array.array("h")
    a.frombytes(r.stdout)
    if sys.byteorder == "big":
        a.byteswap()
    return [[v / 32768.0 for v in a[c::ch]] for c in range(ch)]


def tone(samples, rate):
    """(frequency from rising zero crossings, peak amplitude) of the middle of a signal."""
    n = len(samples)
    mid = samples[n // 10: n - n // 10]
    ups = [i for i in range(1, len(mid)) if mid[i - 1] < 0 <= mid[i]]
    freq = (len(ups) - 1) * rate / (ups[-1] - ups[0]) if len(ups) > 2 else 0.0
    return freq, max(abs(v) for v in mid)


def near(a, b, tol):
    return a is not None and abs(float(a) - float(b)) <= tol


def mean(buf):
    return sum(buf) / len(buf)


def mad(a, b):
    return sum(abs(x - y) for x, y in zip(a, b)) / len(a)


truth = {}

# ------------------------------------------------------------------ shots.mp4
shots = {
    "frames": 525, "fps": 25, "width": 320, "height": 180, "pix_fmt": "yuv420p",
    "cuts": [75, 150, 225, 300, 350],
    "fades": [{"start": 413, "end": 424, "kind": "out"}, {"start": 432, "end": 443, "kind": "in"}],
    "dissolves": [{"start": 481, "end": 494}],
    "black_frames": [{"start": 425, "end": 431}],
    "static": [{"start": 300, "end": 349}],
    "flashes": [{"start": 260, "end": 262}],
    "segments": [
        {"start": 0, "end": 74, "source": "testsrc2"},
        {"start": 75, "end": 149, "source": "mandelbrot"},
        {"start": 150, "end": 224, "source": "life"},
        {"start": 225, "end": 299, "source": "smptebars"},
        {"start": 300, "end": 349, "source": "rgbtestsrc"},
        {"start": 350, "end": 424, "source": "colorspectrum"},
        {"start": 425, "end": 430, "source": "black"},
        {"start": 431, "end": 494, "source": "color+noise"},
        {"start": 481, "end": 524, "source": "gradients"},
    ],
}


def check_video_basics(name, t, codec="h264"):
    info = probe(name)
    v = streams(info, "video")
    check(len(v) == 1, f"{name}: expected one video stream")
    v = v[0]
    check(v["codec_name"] == codec, f"{name}: codec {v['codec_name']}")
    for key in ("width", "height", "pix_fmt"):
        if key in t:
            check(v[key] == t[key], f"{name}: {key} {v[key]} != {t[key]}")
    if "fps" in t:
        check(v["r_frame_rate"] == f"{t['fps']}/1", f"{name}: r_frame_rate {v['r_frame_rate']}")
    if "frames" in t:
        n = frame_count(name)
        check(n == t["frames"], f"{name}: decoded {n} frames, truth {t['frames']}")
    return info


def verify_shots(name, t):
    info = check_video_basics(name, t)
    check(not streams(info, "audio"), f"{name}: has audio")
    full = gray(name, t["width"], t["height"])
    thumb = gray(name, 32, 18)
    n = t["frames"]
    if not check(len(full) == n and len(thumb) == n, f"{name}: decoded frame count"):
        return
    luma = [mean(f) for f in full]
    peak = [max(f) for f in full]
    diff = [0.0] + [mad(thumb[i], thumb[i - 1]) for i in range(1, n)]
    is_black = [p <= 4 for p in peak]

    CUT, CALM = 20.0, 8.0
    events = set(t["cuts"])
    for fl in t["flashes"]:
        events |= {fl["start"], fl["end"] + 1}
    gradual = set()
    for span in t["fades"] + t["dissolves"] + t["black_frames"]:
        gradual |= set(range(span["start"], span["end"] + 2))
    for i in range(1, n):
        if i in events:
            check(diff[i] > CUT, f"{name}: no cut/flash edge at frame {i} (diff {diff[i]:.1f})")
        elif i not in gradual:
            check(diff[i] < CALM, f"{name}: unexpected jump at frame {i} (diff {diff[i]:.1f})")

    black = set()
    for span in t["black_frames"]:
        black |= set(range(span["start"], span["end"] + 1))
    for i in range(n):
        check(is_black[i] == (i in black), f"{name}: frame {i} black={is_black[i]}")

    for span in t["fades"]:
        s, e = span["start"], span["end"]
        if span["kind"] == "out":
            seq = luma[s - 1:e + 1]
            check(all(a > b for a, b in zip(seq, seq[1:])), f"{name}: fade-out {s}-{e} not decreasing")
            check(is_black[e + 1] and not is_black[e], f"{name}: fade-out {s}-{e} does not end in black")
            check(diff[s - 1] < CALM, f"{name}: fade-out starts before {s}")
        else:
            seq = luma[s:e + 2]
            check(all(a < b for a, b in zip(seq, seq[1:])), f"{name}: fade-in {s}-{e} not increasing")
            check(is_black[s - 1] and not is_black[s], f"{name}: fade-in {s}-{e} does not start from black")
            check(e + 2 >= n or diff[e + 2] < CALM, f"{name}: fade-in continues after {e}")

    for span in t["dissolves"]:
        s, e = span["start"], span["end"]
        before, after = luma[s - 1], luma[e + 1]
        lo, hi = min(before, after) + 3, max(before, after) - 3
        check(all(lo < luma[i] < hi for i in range(s, e + 1)), f"{name}: dissolve {s}-{e} not a mix")
        seq = luma[s - 1:e + 2]
        mono = all(a > b for a, b in zip(seq, seq[1:])) or all(a < b for a, b in zip(seq, seq[1:]))
        check(mono, f"{name}: dissolve {s}-{e} not monotonic")
        check(diff[s - 1] < CALM and (e + 2 >= n or diff[e + 2] < CALM), f"{name}: dissolve {s}-{e} bounds")

    for span in t["static"]:
        s, e = span["start"], span["end"]
        worst = max(mad(full[i], full[i - 1]) for i in range(s + 1, e + 1))
        check(worst < 0.5, f"{name}: static {s}-{e} moves (max diff {worst:.2f})")
        check(s == 0 or mad(full[s], full[s - 1]) > 5, f"{name}: static {s}-{e} start")
        check(e + 1 >= n or mad(full[e + 1], full[e]) > 5, f"{name}: static {s}-{e} end")

    for span in t["flashes"]:
        s, e = span["start"], span["end"]
        ref = max(luma[s - 1], luma[e + 1])
        check(all(luma[i] > ref + 40 for i in range(s, e + 1)), f"{name}: flash {s}-{e} not bright")
        check(abs(luma[s - 1] - luma[e + 1]) < 10, f"{name}: flash {s}-{e} changes the scene")


verify_shots("shots.mp4", shots)
truth["shots.mp4"] = shots

# ------------------------------------------------------------------ black.mp4
black = {"frames": 125, "fps": 25, "width": 320, "height": 180,
         "black_frames": [{"start": 50, "end": 74}]}
check_video_basics("black.mp4", black)
frames = gray("black.mp4", 320, 180)
want = {i for span in black["black_frames"] for i in range(span["start"], span["end"] + 1)}
for i, f in enumerate(frames):
    check((max(f) <= 4) == (i in want), f"black.mp4: frame {i} black={max(f) <= 4}")
truth["black.mp4"] = black

# ------------------------------------------------------------------ audio


def verify_audio(name, t, codec, dur_tol=0.0005, amp_tol=0.01, video=False):
    info = probe(name)
    a = streams(info, "audio")
    check(len(a) == 1, f"{name}: expected one audio stream")
    check(bool(streams(info, "video")) == video, f"{name}: video stream presence")
    a = a[0]
    check(a["codec_name"] == codec, f"{name}: codec {a['codec_name']}")
    check(int(a["sample_rate"]) == t["sample_rate"], f"{name}: sample_rate {a['sample_rate']}")
    check(int(a["channels"]) == t["channels"], f"{name}: channels {a['channels']}")
    if "channel_layout" in t:
        check(a.get("channel_layout") == t["channel_layout"], f"{name}: layout {a.get('channel_layout')}")
    check(near(info["format"].get("duration"), t["duration"], dur_tol),
          f"{name}: duration {info['format'].get('duration')} != {t['duration']}")
    chans = pcm(name)
    names = list(t.get("channel_frequencies", {}))
    for c, samples in enumerate(chans):
        f, peak = tone(samples, t["sample_rate"])
        if "frequency_hz" in t:
            want_f, want_a = t["frequency_hz"], t["amplitude"]
        elif names:
            want_f = t["channel_frequencies"][names[c]]
            want_a = t.get("channel_amplitudes", {}).get(names[c], t["amplitude"])
        else:
            want_f, want_a = None, t["amplitude"]
        if want_f is not None:
            check(near(f, want_f, 0.5), f"{name}: channel {c} tone {f:.2f} Hz != {want_f}")
        check(near(peak, want_a, amp_tol), f"{name}: channel {c} peak {peak:.4f} != {want_a}")
    return info


tone440 = {"duration": 3.0, "sample_rate": 44100, "channels": 1, "frequency_hz": 440, "amplitude": 0.5}
truth["tone_440.wav"] = dict(tone440, codec="pcm_s16le")
verify_audio("tone_440.wav", tone440, "pcm_s16le")
truth["tone_440.flac"] = dict(tone440, codec="flac")
verify_audio("tone_440.flac", tone440, "flac")
truth["tone_440.ogg"] = dict(tone440, codec="vorbis")
verify_audio("tone_440.ogg", tone440, "vorbis", dur_tol=0.03, amp_tol=0.03)

silence = {"duration": 2.0, "sample_rate": 16000, "channels": 1, "amplitude": 0.0, "codec": "pcm_s16le"}
verify_audio("silence.wav", silence, "pcm_s16le", amp_tol=0.0)
truth["silence.wav"] = silence

stereo = {"duration": 2.0, "sample_rate": 48000, "channels": 2,
          "channel_frequencies": {"FL": 440, "FR": 1000},
          "channel_amplitudes": {"FL": 0.5, "FR": 0.25}, "amplitude": 0.5, "codec": "pcm_s16le"}
verify_audio("stereo_tones.wav", stereo, "pcm_s16le")
truth["stereo_tones.wav"] = stereo

s51 = {"duration": 2.0, "sample_rate": 48000, "channels": 6, "channel_layout": "5.1",
       "channel_frequencies": {"FL": 440, "FR": 550, "FC": 660, "LFE": 60, "BL": 770, "BR": 880},
       "amplitude": 0.25}
verify_audio("surround51.wav", s51, "pcm_s16le")
truth["surround51.wav"] = dict(s51, codec="pcm_s16le")
info = verify_audio("surround51.mp4", s51, "aac", dur_tol=0.03, amp_tol=0.03, video=True)
s51_mp4 = dict(s51, codec="aac", video={"width": 160, "height": 90, "fps": 25, "frames": 50})
check_video_basics("surround51.mp4", s51_mp4["video"])
truth["surround51.mp4"] = s51_mp4

audio_only = {"duration": 3.0, "sample_rate": 44100, "channels": 1, "frequency_hz": 440,
              "amplitude": 0.5, "codec": "aac", "video_streams": 0}
verify_audio("audio_only.m4a", audio_only, "aac", dur_tol=0.03, amp_tol=0.03)
truth["audio_only.m4a"] = audio_only

video_only = {"duration": 2.0, "frames": 50, "fps": 25, "width": 320, "height": 180,
              "codec": "h264", "audio_streams": 0}
info = check_video_basics("video_only.mp4", video_only)
check(not streams(info, "audio"), "video_only.mp4: has audio")
check(near(info["format"]["duration"], 2.0, 0.001), "video_only.mp4: duration")
truth["video_only.mp4"] = video_only

# ------------------------------------------------------------------ subtitles
CUES = [
    {"start": 0.5, "end": 2.0, "text": "Hello, world!"},
    {"start": 2.25, "end": 3.88, "text": "Bold line one\nline two"},
    {"start": 4.12, "end": 5.75, "text": "Café — naïve façade & co"},
]
TS = re.compile(r"(\d+):(\d\d):(\d\d)[,.](\d{3}) --> (\d+):(\d\d):(\d\d)[,.](\d{3})")


def plain(text):
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"<[^>]*>", "", text)
    text = text.replace("\\N", "\n").replace("\\n", "\n")
    return "\n".join(line.strip() for line in html.unescape(text).split("\n")).strip()


def srt_cues(srt):
    cues = []
    for block in re.split(r"\n\s*\n", srt.replace("\r\n", "\n").strip()):
        lines = block.split("\n")
        for i, line in enumerate(lines):
            m = TS.search(line)
            if m:
                g = [int(x) for x in m.groups()]
                start = g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000
                end = g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000
                cues.append({"start": round(start, 3), "end": round(end, 3),
                             "text": plain("\n".join(lines[i + 1:]))})
                break
    return cues


def verify_cues(label, cues):
    check(cues == CUES, f"{label}: cues {cues!r} != truth")


def verify_subs(name, codec, raw_format, markup, title=None, handler=None):
    info = probe(name)
    s = streams(info, "subtitle")
    if not check(len(s) == 1, f"{name}: expected one subtitle stream"):
        return
    s = s[0]
    tags = s.get("tags", {})
    check(s["codec_name"] == codec, f"{name}: codec {s['codec_name']}")
    check(tags.get("language") == "eng", f"{name}: language {tags.get('language')}")
    if title:
        check(tags.get("title") == title, f"{name}: title {tags.get('title')}")
    if handler:
        check(tags.get("handler_name") == handler, f"{name}: handler_name {tags.get('handler_name')}")
    out = run("ffmpeg", "-nostdin", "-v", "error", "-i", os.path.join(B, name), "-map", "0:s:0", "-f", "srt", "-")
    verify_cues(name, srt_cues(out.stdout.decode("utf-8")))
    copy = [] if codec == "mov_text" else ["-c:s", "copy"]  # mov_text: decoded styles
    raw = run("ffmpeg", "-nostdin", "-v", "error", "-i", os.path.join(B, name), "-map", "0:s:0", *copy,
              "-f", raw_format, "-").stdout.decode("utf-8")
    for m in markup:
        check(m in raw, f"{name}: markup {m!r} missing from the stream")
    check(near(info["format"]["duration"], 6.0, 0.05), f"{name}: duration {info['format']['duration']}")


verify_subs("subs_srt.mkv", "subrip", "srt", ["<i>Hello</i>", '<font color="#ff0000">', "{\\an8}"],
            title="English (SubRip)")
verify_subs("subs_ass.mkv", "ass", "ass", ["{\\i1}", "\\N", "{\\c&H0000FF&}", "{\\an8}"], title="English (ASS)")
verify_subs("subs_webvtt.mkv", "webvtt", "webvtt", ["<i>Hello</i>", "<c.red>", "&amp;"], title="English (WebVTT)")
verify_subs("subs_movtext.mp4", "mov_text", "ass", ["{\\i1}", "{\\b1}", "{\\u1}"], handler="English (mov_text)")
for name, codec, title in (("subs_srt.mkv", "subrip", "English (SubRip)"), ("subs_ass.mkv", "ass", "English (ASS)"),
                           ("subs_webvtt.mkv", "webvtt", "English (WebVTT)"),
                           ("subs_movtext.mp4", "mov_text", None)):
    truth[name] = {"codec": codec, "language": "eng", "title": title, "duration": 6.0, "cues": CUES}
truth["subs_movtext.mp4"]["handler_name"] = "English (mov_text)"

info = probe("sidecar.mp4")
check(not streams(info, "subtitle") and not streams(info, "audio"), "sidecar.mp4: unexpected streams")
truth["sidecar.mp4"] = {"duration": 6.0, "subtitle_streams": 0, "sidecars": ["sidecar.srt", "sidecar.vtt"]}
for side, fmt in (("sidecar.srt", "srt"), ("sidecar.vtt", "webvtt")):
    out = run("ffmpeg", "-nostdin", "-v", "error", "-i", os.path.join(B, side), "-f", "srt", "-")
    check(out.returncode == 0, f"{side}: ffmpeg cannot read it")
    verify_cues(side, srt_cues(out.stdout.decode("utf-8")))
    truth[side] = {"format": fmt, "language": None, "cues": CUES}

# ------------------------------------------------------------------ pixel formats
tenbit = {"frames": 50, "fps": 25, "width": 320, "height": 180, "pix_fmt": "yuv420p10le",
          "codec": "h264", "profile": "High 10"}
yuv444 = {"frames": 50, "fps": 25, "width": 320, "height": 180, "pix_fmt": "yuv444p",
          "codec": "h264", "profile": "High 4:4:4 Predictive"}
for name, t in (("tenbit.mkv", tenbit), ("yuv444.mp4", yuv444)):
    info = check_video_basics(name, t)
    prof = streams(info, "video")[0].get("profile")
    check(prof == t["profile"], f"{name}: profile {prof}")
    truth[name] = t

# ------------------------------------------------------------------ rotated.mp4
rotated = {"rotation": -90, "coded_width": 320, "coded_height": 180,
           "display_width": 180, "display_height": 320, "frames": 50, "fps": 25}
info = check_video_basics("rotated.mp4", {"width": 320, "height": 180, "frames": 50, "fps": 25})
sd = streams(info, "video")[0].get("side_data_list", [])
rot = [d.get("rotation") for d in sd if d.get("side_data_type") == "Display Matrix"]
check(rot == [rotated["rotation"]], f"rotated.mp4: display matrix rotation {rot}")
r = run("ffmpeg", "-nostdin", "-v", "error", "-i", os.path.join(B, "rotated.mp4"), "-frames:v", "1",
        "-f", "rawvideo", "-pix_fmt", "gray", "-")
check(len(r.stdout) == 180 * 320, "rotated.mp4: autorotated frame is not 180x320")
truth["rotated.mp4"] = rotated

# ------------------------------------------------------------------ vfr.mkv
pts = [i / 10 for i in range(10)] + [1 + i / 25 for i in range(25)] + [2 + i / 5 for i in range(5)]
vfr = {"frames": 40, "pts": [round(p, 3) for p in pts]}
r = run("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts_time",
        "-of", "json", os.path.join(B, "vfr.mkv"))
got = [float(f["pts_time"]) for f in json.loads(r.stdout)["frames"]]
check(len(got) == vfr["frames"], f"vfr.mkv: {len(got)} frames")
check(len(got) == len(pts) and all(near(a, b, 0.0005) for a, b in zip(got, vfr["pts"])),
      f"vfr.mkv: pts {got}")
truth["vfr.mkv"] = vfr

# ------------------------------------------------------------------ metadata.mp4
meta_tags = {
    "title": "Marquee Métadonnées Test",
    "description": "A two-second clip with container tags.",
    "comment": "Synthetic fixture; not a real title.",
    "genre": "Documentary",
    "date": "2024-05-17",
}
info = probe("metadata.mp4")
ftags = info["format"].get("tags", {})
for k, v in meta_tags.items():
    check(ftags.get(k) == v, f"metadata.mp4: tag {k} = {ftags.get(k)!r}")
a = streams(info, "audio")
check(len(a) == 1 and a[0].get("tags", {}).get("language") == "fre", "metadata.mp4: audio language")
check(len(a) == 1 and int(a[0]["channels"]) == 2, "metadata.mp4: audio channels")
check(near(info["format"]["duration"], 2.0, 0.05), "metadata.mp4: duration")
truth["metadata.mp4"] = {"duration": 2.0, "tags": meta_tags, "audio_language": "fre", "audio_channels": 2}

# ------------------------------------------------------------------ broken files


def ffprobe_error(name):
    r = run("ffprobe", "-v", "error", os.path.join(B, name))
    return r.returncode, r.stderr.decode(errors="replace")


broken = {
    "empty.mp4": {"why": "zero-byte file", "ffprobe_error": "moov atom not found"},
    "truncated.mp4": {"why": "first half of a 4 s, 100-frame H.264 mp4 whose moov index is at the end; "
                             "the truncated file has no index",
                      "ffprobe_error": "moov atom not found"},
    "random.mp4": {"why": "64 KiB of pseudo-random bytes (SHA-256 counter stream)",
                   "ffprobe_error": "moov atom not found"},
    "text.mkv": {"why": "plain UTF-8 text with a .mkv name", "ffprobe_error": "EBML header parsing failed"},
}
for name, t in broken.items():
    rc, err = ffprobe_error(name)
    check(rc != 0, f"{name}: ffprobe accepted it")
    check(t["ffprobe_error"] in err, f"{name}: ffprobe said {err.strip()!r}")
    check("Invalid data found when processing input" in err, f"{name}: ffprobe said {err.strip()!r}")
    truth[name] = dict({"broken": True}, **t)
check(os.path.getsize(os.path.join(B, "empty.mp4")) == 0, "empty.mp4: not empty")
check(os.path.getsize(os.path.join(B, "random.mp4")) == 65536, "random.mp4: size")
truth["empty.mp4"]["size"] = 0
truth["random.mp4"]["size"] = 65536

# truncated_faststart.mp4: index present, second half of the samples missing.
full = os.path.join(B, "full_faststart.mp4")
check(frame_count("full_faststart.mp4") == 100, "full_faststart.mp4: frame count")
info = probe("truncated_faststart.mp4")
index_frames = int(streams(info, "video")[0]["nb_frames"])
check(index_frames == 100, f"truncated_faststart.mp4: index lists {index_frames} frames")
r = run("ffmpeg", "-nostdin", "-v", "error", "-nostats", "-progress", "pipe:1",
        "-i", os.path.join(B, "truncated_faststart.mp4"), "-f", "null", "-")
decoded = [int(m) for m in re.findall(r"^frame=(\d+)$", r.stdout.decode(), re.M)]
decodable = decoded[-1] if decoded else 0
check(0 < decodable < 100, f"truncated_faststart.mp4: decoded {decodable} frames")
check("partial file" in r.stderr.decode(errors="replace"), "truncated_faststart.mp4: no partial-file error")
truth["truncated_faststart.mp4"] = {
    "broken": True,
    "why": "first half of a 4 s, 100-frame H.264 mp4 with the moov index first (faststart): "
           "it opens, the index lists all frames, decoding stops where the data ends",
    "index_frames": index_frames,
    "decodable_frames": decodable,
    "ffmpeg_error": "partial file",
}
os.remove(full)
os.remove(os.path.join(B, "full_moov_end.mp4"))

# ------------------------------------------------------------------ trap.mp4
with open(os.path.join(B, "trap.truth.json"), encoding="utf-8") as f:
    trap = json.load(f)
os.remove(os.path.join(B, "trap.truth.json"))
check_video_basics("trap.mp4", trap)
small = gray("trap.mp4", 160, 90)
if check(len(small) == trap["frames"], f"trap.mp4: decoded {len(small)} frames"):
    tluma = [mean(f) for f in small]
    tpeak = [max(f) for f in small]

    def sharpness(frame):
        """Mean absolute horizontal and vertical difference over the middle 100 columns of a
        160x90 gray frame (the edges of test.mp4's pillarbox bars stay sharp under any blur)."""
        total = 0
        for y in range(89):
            row, below = frame[y * 160:(y + 1) * 160], frame[(y + 1) * 160:(y + 2) * 160]
            total += sum(abs(row[x + 1] - row[x]) + abs(below[x] - row[x]) for x in range(30, 130))
        return total / (89 * 100)

    spans = {k: [t for t in trap["traps"] if t["kind"] == k] for k in ("black", "fade", "caption", "dissolve", "blur")}
    for t in spans["black"]:
        for i in range(t["start_frame"], t["end_frame"] + 1):
            check(tpeak[i] <= 4, f"trap.mp4: frame {i} of a black trap is not black")
    for t in spans["fade"]:
        s, e = t["start_frame"], t["end_frame"]
        seq = tluma[s:e + 1]
        falling = all(a > b for a, b in zip(seq, seq[1:]))
        rising = all(a < b for a, b in zip(seq, seq[1:]))
        check(falling or rising, f"trap.mp4: fade {s}-{e} is not monotonic")
    for t in spans["caption"]:
        for i in (t["start_frame"], (t["start_frame"] + t["end_frame"]) // 2, t["end_frame"]):
            counts = [0] * 256
            for v in small[i]:
                counts[v] += 1
            check(max(counts) / len(small[i]) > 0.75, f"trap.mp4: frame {i} of the caption card has no plain background")
    # A blurred frame against the same source frame, unblurred (scaled the same way).
    for t in spans["blur"]:
        seg = next(g for g in trap["segments"] if g["start_frame"] == t["start_frame"])
        r = run("ffmpeg", "-nostdin", "-v", "error", "-i", os.path.join(os.environ["SAMPLES"], seg["source"]),
                "-vf", "scale=640:360,scale=160:90:flags=area", "-f", "rawvideo", "-pix_fmt", "gray", "-")
        source = [r.stdout[k:k + 14400] for k in range(0, len(r.stdout), 14400)]
        for i in range(t["start_frame"], t["end_frame"] + 1, 15):
            original = source[seg["source_frames"][0] + i - t["start_frame"]]
            check(sharpness(small[i]) < 0.5 * sharpness(original), f"trap.mp4: frame {i} of a blur trap is not blurred")
    for t in spans["dissolve"]:
        s, e = t["start_frame"], t["end_frame"]
        steps = [mad(small[i], small[i - 1]) for i in range(s, e + 1)]
        check(max(steps) < 20, f"trap.mp4: the dissolve {s}-{e} has a cut")
truth["trap.mp4"] = trap

# ------------------------------------------------------------------ result
listed = set(truth)
present = set(os.listdir(B))
check(listed == present, f"files without truth: {sorted(present - listed)}, truth without file: {sorted(listed - present)}")
if problems:
    print("make-fixtures: fixtures do not match their truth:", file=sys.stderr)
    for p in problems:
        print("  " + p, file=sys.stderr)
    sys.exit(1)

ver = run("ffmpeg", "-version").stdout.decode().splitlines()[0]
out = {"_generator": {"script": "Media/make-fixtures.sh", "script_sha256": SCRIPT_SHA, "ffmpeg": ver}}
out.update(dict(sorted(truth.items())))
with open(os.path.join(B, "truth.json"), "w", encoding="utf-8") as f:
    json.dump(out, f, indent=2, ensure_ascii=False)
    f.write("\n")
PY

  # Move into place; truth.json last so an interrupted run is rebuilt.
  local f
  for f in "$B"/*; do
    [ "$(basename "$f")" = truth.json ] && continue
    mv -f "$f" "$FIXTURES/"
  done
  mv -f "$B/truth.json" "$TRUTH"
  rmdir "$B"
}

build_bench() {
  local out="$FIXTURES/bench1080p.mp4"
  if [ -f "$out" ]; then
    echo "make-fixtures: bench1080p.mp4 present"
    return
  fi
  echo "make-fixtures: building bench1080p.mp4 (1920x1080, 24 fps, 60 s)"
  ff -f lavfi -i "testsrc2=s=1920x1080:r=24:d=60" -c:v libx264 -preset veryfast -crf 23 \
     -pix_fmt yuv420p -an "${BITEXACT[@]}" "$out.tmp.mp4"
  local got
  got="$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height,nb_frames,r_frame_rate \
         -of csv=p=0 "$out.tmp.mp4")"
  [ "$got" = "1920,1080,24/1,1440" ] || { rm -f "$out.tmp.mp4"; die "bench1080p.mp4: unexpected stream ($got)"; }
  mv -f "$out.tmp.mp4" "$out"
}

# A title for the pipeline benchmark: real footage and music (test.mp4, looped), at the size
# and rate of a film delivery, with a subtitle cue every 5 s.
build_bench_title() {
  local out="$FIXTURES/bench_title_10min.mp4"
  if [ -f "$out" ]; then
    echo "make-fixtures: bench_title_10min.mp4 present"
    return
  fi
  local source="$MEDIA_DIR/samples/test.mp4"
  [ -f "$source" ] || die "bench_title_10min.mp4 needs Media/samples/test.mp4 (Media/fetch-samples.sh)"
  echo "make-fixtures: building bench_title_10min.mp4 (1920x1080, 24 fps, 600 s, audio and subtitles)"
  local srt="$out.tmp.srt"
  "$PYTHON" - "$srt" <<'PY'
import sys
lines = ["Where were you last night?", "I waited by the river until the lights went out.",
         "The band played the same song over and over.", "We should leave the city before the storm.",
         "Nobody listens to the radio any more.", "Dance with me, just one more time.",
         "The train was late again this morning.", "I found your letter in the old guitar case.",
         "Turn the music up, I love this part.", "Tomorrow we drive to the coast.",
         "The crowd was singing louder than the band.", "Keep the camera rolling, this is the shot."]
with open(sys.argv[1], "w") as f:
    for i in range(120):
        start, end = i * 5 + 1, i * 5 + 4
        f.write(f"{i + 1}\n00:{start // 60:02d}:{start % 60:02d},000 --> 00:{end // 60:02d}:{end % 60:02d},000\n{lines[i % len(lines)]}\n\n")
PY
  ff -stream_loop 2 -i "$source" -i "$srt" -map 0:v:0 -map 0:a:0 -map 1:0 -t 600 \
     -vf "scale=1920:1080:flags=bicubic,fps=24" -c:v libx264 -preset veryfast -crf 23 -pix_fmt yuv420p \
     -c:a aac -b:a 128k -c:s mov_text -metadata:s:s:0 language=eng "${BITEXACT[@]}" "$out.tmp.mp4"
  rm -f "$srt"
  local got
  got="$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height,r_frame_rate -of csv=p=0 "$out.tmp.mp4")"
  [ "$got" = "1920,1080,24/1" ] || { rm -f "$out.tmp.mp4"; die "bench_title_10min.mp4: unexpected stream ($got)"; }
  mv -f "$out.tmp.mp4" "$out"
}

mkdir -p "$FIXTURES"
if [ "$FORCE" = 0 ] && truth_up_to_date; then
  echo "make-fixtures: fixtures up to date"
else
  echo "make-fixtures: building fixtures in Media/fixtures/"
  build_fixtures
  echo "make-fixtures: fixtures built and verified against truth.json"
fi
if [ "$BENCH" = 1 ]; then
  build_bench
  build_bench_title
fi
