# Two commands matter: `make report` (the headline job) and `make test`.
# Every target that builds first makes sure the system packages are installed.

SWIFT ?= swift
SIFT_RELEASE = .build/release/sift
SYSTEM_PACKAGES = libomp-19-dev libhwloc-dev pkg-config
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build release test report bench traces clean

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

# The headline report. Until the runtime and simulator land, it is the kernel benchmark:
# every format against our own dense GEMM on the default shapes (warm caches), then the
# batch-1 shapes again with the caches evicted before every call, which is what a
# network whose weights exceed the L3 sees.
report: release
	$(SIFT_RELEASE) kernels bench
	$(SIFT_RELEASE) kernels bench --cold --shapes 1024x1024x1,4096x4096x1

bench: report

traces: release
	$(SIFT_RELEASE) traces --out traces/workloads

clean:
	rm -rf .build
