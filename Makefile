# Marquee — one command to run the demo, one to run the tests, on a fresh Debian 12 machine.
#
#   make demo    install what is needed, build, batch the sample media into out/ and write out/report.html
#   make test    install what is needed, build, and run the whole test suite
#   make bench   decode benchmark against FFmpeg (not a test)
#   make bench-audio   MusiCNN tagging against the TensorFlow reference (not a test)
#   make bench-shots  `marquee shots` against the PyTorch TransNetV2 reference and PySceneDetect
#   make bench-faces  MTCNN against facenet-pytorch, the expression CNN against fer's Keras model

SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

# The converter and media scripts run in their own virtualenv: python3 and numpy (h5py
# for Keras files), never torch or TensorFlow.
TOOLS_VENV := .venv-tools
PYTHON := $(TOOLS_VENV)/bin/python
APT_PACKAGES := ffmpeg libavformat-dev libavcodec-dev libavutil-dev libswscale-dev \
	libswresample-dev libsndfile1-dev libpng-dev libsqlite3-dev pkg-config python3-venv fonts-dejavu-core chromium
# Release builds compile for this CPU (see Package.swift); tests run optimized.
SWIFT_RELEASE := swift build -c release -Xswiftc -enable-testing
OUT := out

.PHONY: demo test setup system-packages tools media models build bench bench-efficientnet bench-audio bench-shots clean

demo: setup build
	.build/release/marquee batch --out $(OUT) Media/samples
	.build/release/marquee report $(OUT) >/dev/null
	@echo "== titles most like bigbuckbunny (fused embedding)"
	.build/release/marquee similar --catalog $(OUT)/catalog.sqlite bigbuckbunny
	@echo "== visual tags of the sample photos"
	.build/release/marquee tag-image --top 3 Media/samples/*.png Media/samples/*.jpg
	@echo "Look at $(OUT)/report.html in a browser (stills, tags, shot timelines, nearest titles);"
	@echo "each title's analysis.json is in $(OUT)/<title-id>/ and the catalog is $(OUT)/catalog.sqlite."

test: setup
	$(SWIFT_RELEASE) --build-tests
	swift test -c release -Xswiftc -enable-testing --skip-build --disable-swift-testing

setup: system-packages tools media models

# apt runs only when something is missing, so a prepared machine skips it.
system-packages:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

tools: $(TOOLS_VENV)/.ready

$(TOOLS_VENV)/.ready:
	python3 -m venv $(TOOLS_VENV)
	$(PYTHON) -m pip install -q --disable-pip-version-check numpy h5py
	touch $@

media: tools
	PYTHON=$(abspath $(PYTHON)) Media/fetch-samples.sh
	PYTHON=$(abspath $(PYTHON)) Media/make-fixtures.sh

models: tools
	$(PYTHON) Models/convert.py all

build: system-packages
	swift build -c release

bench: setup
	PYTHON=$(abspath $(PYTHON)) Media/make-fixtures.sh --bench
	swift build -c release --product marquee-bench-decode
	.build/release/marquee-bench-decode Media/fixtures/bench1080p.mp4 Media/samples/bigbuckbunny.mp4 Media/samples/test.mp4

bench-efficientnet: setup
	test -x .venv-goldens/bin/python || bash Models/goldens/run.sh efficientnet_lite0
	swift build -c release --product marquee-bench-efficientnet
	.build/release/marquee-bench-efficientnet --profile

# MusiCNN tagging against the TensorFlow reference (librosa log-mel + musicnn's graph) on
# test.mp4 and a 10-minute excerpt of it looped; the reference virtualenv is the golden one
# (override with MUSICNN_VENV=/path/to/venv).
MUSICNN_VENV ?= .venv-goldens-musicnn
bench-audio: setup
	@test -x $(MUSICNN_VENV)/bin/python || { python3 -m venv $(MUSICNN_VENV) && \
		$(MUSICNN_VENV)/bin/pip install -q -r Models/goldens/requirements-musicnn.txt && \
		$(MUSICNN_VENV)/bin/pip install -q --no-deps musicnn==0.1.0; }
	@mkdir -p $(OUT)/bench
	@test -f $(OUT)/bench/audio_10min.m4a || ffmpeg -nostdin -v error -stream_loop 3 -i Media/samples/test.mp4 \
		-map 0:a:0 -t 600 -c:a aac -b:a 128k $(OUT)/bench/audio_10min.m4a
	swift build -c release --product marquee-bench-musicnn
	.build/release/marquee-bench-musicnn --threads 2 --loudness --python $(MUSICNN_VENV)/bin/python \
		Media/samples/test.mp4 $(OUT)/bench/audio_10min.m4a

# The peers run in the reference virtualenv (Models/goldens/run.sh transnetv2 makes
# .venv-goldens); PySceneDetect and OpenCV are added to it when missing. GOLDENS_VENV=path
# points at another one.
GOLDENS_VENV ?= .venv-goldens
bench-shots: setup
	PYTHON=$(abspath $(PYTHON)) Media/make-fixtures.sh --bench
	$(GOLDENS_VENV)/bin/python -c "import scenedetect, cv2" 2>/dev/null || \
		$(GOLDENS_VENV)/bin/python -m pip install -q --disable-pip-version-check scenedetect opencv-python-headless
	$(SWIFT_RELEASE) --product marquee
	$(SWIFT_RELEASE) --product marquee-bench-shots
	.build/release/marquee-bench-shots --venv $(GOLDENS_VENV)
# make bench-text: MiniLM sentence embedding against sentence-transformers (not a test). The
# peer runs in the golden generators' virtualenv (GOLDENS_VENV, made by Models/goldens/run.sh).
.PHONY: bench-text
GOLDENS_VENV ?= .venv-goldens
bench-text: models
	@[ -x "$(GOLDENS_VENV)/bin/python" ] || { echo "error: no $(GOLDENS_VENV): run 'bash Models/goldens/run.sh minilm' (or set GOLDENS_VENV)" >&2; exit 1; }
	swift build -c release --product marquee-bench-minilm
	.build/release/marquee-bench-minilm --python $(abspath $(GOLDENS_VENV))/bin/python

# make bench-faces: MTCNN against facenet-pytorch on the torch it was released for (in
# FACENET_VENV, from Benchmarks/requirements-facenet.txt) and the expression CNN against fer's
# Keras model (in EMOTION_VENV, made by run.sh emotion).
.PHONY: bench-faces
EMOTION_VENV ?= .venv-goldens-emotion
FACENET_VENV ?= .venv-facenet
bench-faces: models
	@test -x $(FACENET_VENV)/bin/python || { python3 -m venv $(FACENET_VENV) && \
		$(FACENET_VENV)/bin/pip install -q -r Benchmarks/requirements-facenet.txt && \
		$(FACENET_VENV)/bin/pip install -q --no-deps facenet-pytorch==2.6.0; }
	@test -x $(EMOTION_VENV)/bin/python || GOLDENS_EMOTION_VENV=$(abspath $(EMOTION_VENV)) bash Models/goldens/run.sh emotion
	swift build -c release --product marquee-bench-faces
	.build/release/marquee-bench-faces --threads 2 --python $(abspath $(FACENET_VENV))/bin/python \
		--keras-python $(abspath $(EMOTION_VENV))/bin/python

clean:
	rm -rf .build $(OUT)

# make bench-artwork: `marquee artwork` against ffmpeg's thumbnail filter on the trap video:
# how many picks of each fall in a trap (black, fade, dissolve, blur, caption card).
.PHONY: bench-artwork
bench-artwork: setup
	swift build -c release --product marquee
	$(PYTHON) Benchmarks/ArtworkTraps/compare_thumbnail.py --marquee .build/release/marquee

# make bench-analyze: `marquee analyze` on test.mp4 and a 10-minute 1080p title with audio and
# subtitles, and on its first 60 seconds (the same streams: peak memory should not grow from
# that row to the next), against `ffmpeg -threads 2 -f null` and the Python reference pipeline
# (Benchmarks/reference_pipeline.py in GOLDENS_VENV; its audio part in MUSICNN_VENV).
.PHONY: bench-analyze
bench-analyze: setup
	PYTHON=$(abspath $(PYTHON)) Media/make-fixtures.sh --bench
	$(SWIFT_RELEASE) --product marquee
	$(SWIFT_RELEASE) --product marquee-bench-analyze
	@mkdir -p $(OUT)/bench
	@test -f $(OUT)/bench/bench_title_60s.mp4 || ffmpeg -nostdin -v error -i Media/fixtures/bench_title_10min.mp4 \
		-t 60 -map 0 -c copy $(OUT)/bench/bench_title_60s.mp4
	.build/release/marquee-bench-analyze --python $(GOLDENS_VENV)/bin/python --musicnn-python $(MUSICNN_VENV)/bin/python \
		Media/samples/test.mp4 $(OUT)/bench/bench_title_60s.mp4 Media/fixtures/bench_title_10min.mp4
