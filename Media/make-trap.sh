#!/usr/bin/env bash
# Builds trap.mp4: real footage (segments of the sample videos test.mp4, bigbuckbunny.mp4
# and bikes.mp4, all at 640x360, 25 fps) with the frames an artwork picker must never
# choose inserted at known frames: black frames, fades through black, a dissolve, heavily
# blurred stretches and a frame-wide caption card. Writes OUT_DIR/trap.mp4 and the
# intervals to OUT_DIR/trap.truth.json, which Media/make-fixtures.sh checks and merges
# into truth.json.
#
# Usage: Media/make-trap.sh OUT_DIR   (Media/fetch-samples.sh must have run)
set -euo pipefail

MEDIA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SAMPLES="$MEDIA_DIR/samples"
OUT="${1:?usage: $0 OUT_DIR}"
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf

die() { echo "make-trap: $*" >&2; exit 1; }
for f in test.mp4 bigbuckbunny.mp4 bikes.mp4; do
  [ -f "$SAMPLES/$f" ] || die "$SAMPLES/$f is missing: run Media/fetch-samples.sh first"
done
[ -f "$FONT" ] || die "$FONT is missing: install fonts-dejavu-core"

# Frame layout of trap.mp4 (0-based, inclusive; 25 fps, 1192 frames):
#     0-149   test.mp4 frames 250-399                    (footage, its own cuts)
#   150-174   black                                      TRAP black
#   175-306   bigbuckbunny.mp4, all 132 frames; fades out on 287-306   TRAP fade
#   307-316   black                                      TRAP black
#   317-416   bikes.mp4 frames 0-99, letterboxed; fades in on 317-336  TRAP fade
#   417-491   caption card: white text on a plain dark blue background  TRAP caption
#   492-741   test.mp4 frames 1000-1149 dissolving (xfade, 1 s) into bikes.mp4
#             frames 125-249: the mixed frames are 617-641 TRAP dissolve
#   742-816   bigbuckbunny.mp4 frames 25-99, Gaussian blur sigma 12     TRAP blur
#   817-966   test.mp4 frames 2500-2649                  (footage)
#   967-1041  test.mp4 frames 3000-3074, box blur radius 12, 2 passes  TRAP blur
#  1042-1191  test.mp4 frames 3750-3899                  (footage)
FIT="fps=25,setsar=1,format=yuv420p"
cat >"$OUT/trap.graph" <<EOF
[0:v]trim=start_frame=250:end_frame=400,setpts=PTS-STARTPTS,scale=640:360:flags=bicubic,$FIT[s1];
color=c=black:s=640x360:r=25:d=1,$FIT[s2];
[1:v]trim=start_frame=0:end_frame=132,setpts=PTS-STARTPTS,scale=640:360:flags=area,$FIT,fade=t=out:start_frame=112:nb_frames=20[s3];
color=c=black:s=640x360:r=25:d=0.4,$FIT[s4];
[2:v]trim=start_frame=0:end_frame=100,setpts=PTS-STARTPTS,pad=640:360:0:44:black,$FIT,fade=t=in:start_frame=0:nb_frames=20[s5];
color=c=0x1B2A4A:s=640x360:r=25:d=3,$FIT,
drawtext=fontfile=$FONT:text='A MARQUEE PICTURES RELEASE':fontcolor=white:fontsize=30:x=(w-text_w)/2:y=92,
drawtext=fontfile=$FONT:text='Directed by Ada Lovelace':fontcolor=white:fontsize=24:x=(w-text_w)/2:y=160,
drawtext=fontfile=$FONT:text='Music by Clara Schumann':fontcolor=white:fontsize=24:x=(w-text_w)/2:y=204,
drawtext=fontfile=$FONT:text='Produced by Grace Hopper':fontcolor=white:fontsize=24:x=(w-text_w)/2:y=248[s6];
[3:v]trim=start_frame=1000:end_frame=1150,setpts=PTS-STARTPTS,scale=640:360:flags=bicubic,$FIT[s7a];
[4:v]trim=start_frame=125:end_frame=250,setpts=PTS-STARTPTS,pad=640:360:0:44:black,$FIT[s7b];
[s7a][s7b]xfade=transition=fade:duration=1:offset=5,$FIT[s7];
[5:v]trim=start_frame=25:end_frame=100,setpts=PTS-STARTPTS,scale=640:360:flags=area,gblur=sigma=12,$FIT[s8];
[6:v]trim=start_frame=2500:end_frame=2650,setpts=PTS-STARTPTS,scale=640:360:flags=bicubic,$FIT[s9];
[7:v]trim=start_frame=3000:end_frame=3075,setpts=PTS-STARTPTS,scale=640:360:flags=bicubic,boxblur=luma_radius=12:luma_power=2:chroma_radius=12:chroma_power=2,$FIT[s10];
[8:v]trim=start_frame=3750:end_frame=3900,setpts=PTS-STARTPTS,scale=640:360:flags=bicubic,$FIT[s11];
[s1][s2][s3][s4][s5][s6][s7][s8][s9][s10][s11]concat=n=11:v=1:a=0,format=yuv420p[out]
EOF
T="$SAMPLES/test.mp4" BBB="$SAMPLES/bigbuckbunny.mp4" BIKES="$SAMPLES/bikes.mp4"
ffmpeg -nostdin -hide_banner -loglevel error -y \
  -i "$T" -i "$BBB" -i "$BIKES" -i "$T" -i "$BIKES" -i "$BBB" -i "$T" -i "$T" -i "$T" \
  -filter_complex_script "$OUT/trap.graph" -map '[out]' -an \
  -c:v libx264 -preset medium -crf 20 -threads 1 -pix_fmt yuv420p \
  -fflags +bitexact -flags:v +bitexact -map_metadata -1 "$OUT/trap.mp4"
rm -f "$OUT/trap.graph"

cat >"$OUT/trap.truth.json" <<'EOF'
{
  "frames": 1192, "fps": 25, "width": 640, "height": 360,
  "traps": [
    {"kind": "black", "start_frame": 150, "end_frame": 174},
    {"kind": "fade", "start_frame": 287, "end_frame": 306},
    {"kind": "black", "start_frame": 307, "end_frame": 316},
    {"kind": "fade", "start_frame": 317, "end_frame": 336},
    {"kind": "caption", "start_frame": 417, "end_frame": 491},
    {"kind": "dissolve", "start_frame": 617, "end_frame": 641},
    {"kind": "blur", "start_frame": 742, "end_frame": 816},
    {"kind": "blur", "start_frame": 967, "end_frame": 1041}
  ],
  "segments": [
    {"start_frame": 0, "end_frame": 149, "source": "test.mp4", "source_frames": [250, 399]},
    {"start_frame": 175, "end_frame": 306, "source": "bigbuckbunny.mp4", "source_frames": [0, 131]},
    {"start_frame": 317, "end_frame": 416, "source": "bikes.mp4", "source_frames": [0, 99]},
    {"start_frame": 492, "end_frame": 641, "source": "test.mp4", "source_frames": [1000, 1149]},
    {"start_frame": 617, "end_frame": 741, "source": "bikes.mp4", "source_frames": [125, 249]},
    {"start_frame": 742, "end_frame": 816, "source": "bigbuckbunny.mp4", "source_frames": [25, 99]},
    {"start_frame": 817, "end_frame": 966, "source": "test.mp4", "source_frames": [2500, 2649]},
    {"start_frame": 967, "end_frame": 1041, "source": "test.mp4", "source_frames": [3000, 3074]},
    {"start_frame": 1042, "end_frame": 1191, "source": "test.mp4", "source_frames": [3750, 3899]}
  ]
}
EOF
