# Marquee — one command to run the demo, one to run the tests, on a fresh Debian 12 machine.
#
#   make demo    install what is needed, build, and run Marquee on the sample media
#   make test    install what is needed, build, and run the whole test suite
#   make bench   decode benchmark against FFmpeg (not a test)

SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

# The converter and media scripts run in their own virtualenv: python3 and numpy (h5py
# for Keras files), never torch or TensorFlow.
TOOLS_VENV := .venv-tools
PYTHON := $(TOOLS_VENV)/bin/python
APT_PACKAGES := ffmpeg libavformat-dev libavcodec-dev libavutil-dev libswscale-dev \
	libswresample-dev libsndfile1-dev libpng-dev pkg-config python3-venv
# Release builds compile for this CPU (see Package.swift); tests run optimized.
SWIFT_RELEASE := swift build -c release -Xswiftc -enable-testing
OUT := out

.PHONY: demo test setup system-packages tools media models build bench clean

demo: setup build
	@mkdir -p $(OUT)/demo
	@for f in Media/samples/*.mp4; do \
		echo "== $$f"; \
		.build/release/marquee probe "$$f" > "$(OUT)/demo/$$(basename "$$f" .mp4).probe.json" || exit 1; \
		.build/release/marquee frames "$$f" --every 1 --width 320 --out "$(OUT)/demo/$$(basename "$$f" .mp4)-frames" || exit 1; \
	done
	@echo "Media info and frames are in $(OUT)/demo/."

test: setup
	$(SWIFT_RELEASE) --build-tests
	swift test -c release -Xswiftc -enable-testing --skip-build

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

# make bench-text: MiniLM sentence embedding against sentence-transformers (not a test). The
# peer runs in the golden generators' virtualenv (GOLDENS_VENV, made by Models/goldens/run.sh).
.PHONY: bench-text
GOLDENS_VENV ?= .venv-goldens
bench-text: models
	@[ -x "$(GOLDENS_VENV)/bin/python" ] || { echo "error: no $(GOLDENS_VENV): run 'bash Models/goldens/run.sh minilm' (or set GOLDENS_VENV)" >&2; exit 1; }
	swift build -c release --product marquee-bench-minilm
	.build/release/marquee-bench-minilm --python $(abspath $(GOLDENS_VENV))/bin/python

clean:
	rm -rf .build $(OUT)
