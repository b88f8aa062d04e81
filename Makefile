# Two commands matter: `make report` (the headline job) and `make test`.
# Every target that builds first makes sure the system packages are installed.

SWIFT ?= swift
SIFT_RELEASE = .build/release/sift
SYSTEM_PACKAGES = libomp-19-dev libhwloc-dev pkg-config
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build release test report bench compare traces clean

all: build

# Installs only what is missing; apt-get update runs only when something is.
deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# SIFT_TUNING=defaults: tests never start the per-machine kernel tuning search.
test: deps
	SIFT_TUNING=defaults $(SWIFT) test

# The headline report: `sift report` builds the transformed models, runs the CPU runtime
# sweep (measured), the accelerator sweep (simulated) and the single-product sweeps, and
# writes reports/<timestamp>/index.html with figures and tables (about 5 minutes on 2
# cores). REPORT_ARGS passes options, e.g. `make report REPORT_ARGS=--full`.
report: release
	$(SIFT_RELEASE) report $(REPORT_ARGS)

# The kernel benchmark: every format against our own dense GEMM on the default shapes
# (warm caches), then the batch-1 shapes again with the caches evicted before every
# call, which is what a network whose weights exceed the L3 sees, then our dense GEMM
# against the vendor BLAS the process can load (skipped with a note when none).
# The first run on a machine tunes the kernels (under 2 minutes, said on stderr).
bench: release
	$(SIFT_RELEASE) kernels bench
	$(SIFT_RELEASE) kernels bench --cold --shapes 1024x1024x1,4096x4096x1
	$(SIFT_RELEASE) kernels bench --compare --formats dense --shapes 1024x1024x256,4096x4096x256

# Side by side with DeepSparse 1.8 and ONNX Runtime, and our dense GEMM against this
# environment's BLAS (numpy's OpenBLAS, MKL). Needs PyPI; not part of the tests.
# COMPARE_ARGS passes options to scripts/compare.py (e.g. --models mlp --seconds 2).
COMPARE_VENV = .venv-compare
compare: release
	@test -x $(COMPARE_VENV)/bin/python || python3 -m venv $(COMPARE_VENV)
	@$(COMPARE_VENV)/bin/python -c "import deepsparse, onnxruntime, numpy, threadpoolctl" 2>/dev/null || \
	  $(COMPARE_VENV)/bin/pip install -q -r scripts/compare-requirements.txt
	$(COMPARE_VENV)/bin/python scripts/compare.py --sift $(SIFT_RELEASE) $(COMPARE_ARGS)

traces: release
	$(SIFT_RELEASE) traces --out traces/workloads

clean:
	rm -rf .build
