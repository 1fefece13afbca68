# SPDX-License-Identifier: GPL-2.0
#
# gomalloc: build the modules, and run the test harness.
#
#   make [KDIR=...]    build all modules with W=1 against KDIR
#                      (default: the running kernel's headers)
#   make install       modules_install + depmod for KDIR's kernel
#   make clean
#   make check         every test: lint, builds (6.1, 6.12, 6.12-rt), dkms,
#                      KUnit, integration on Debian's stock 6.1, 6.12 and
#                      6.12-rt kernels (does setup)
#   make kunit         KUnit suites on the debug kernel (KASAN, lockdep)
#   make integration   integration tests on Debian's current 6.1 kernel;
#                      integration-6.12, integration-6.12-rt: on the 6.12
#                      and 6.12-rt kernels from bookworm-backports
#   make demo          setup, build, boot, load, show statistics
#   make bench         benchmarks in QEMU, results in build/bench/
#   make soak          a 5-minute soak in QEMU (scripts/soak.sh); SOAK=
#                      gives its arguments, e.g. SOAK="debug 600 debug=FZPQU"
#   make lint          checkpatch, kernel-doc, ABI docs
#   make setup         install packages, fetch kernels and headers
#   make compile-6.12  compile test against the 6.12 headers from
#                      bookworm-backports; compile-6.12-rt: the 6.12-rt ones
#
# The test targets never use the running kernel: they build against
# Debian's 6.1 headers, the 6.12 and 6.12-rt headers and the debug kernel
# that setup fetched or built (cached in $(GOM_CACHE)).

KDIR ?= /lib/modules/$(shell uname -r)/build
GOM_CACHE ?= $(HOME)/.cache/gomalloc
export GOM_CACHE

.PHONY: all modules kdir-check clean install check kunit kunit-selftest \
	demo bench lint setup compile-6.12 compile-6.12-rt integration \
	integration-6.12 integration-6.12-rt integration-debug soak

all: modules

kdir-check:
	@if [ ! -d "$(KDIR)" ]; then \
		echo "gomalloc: no kernel headers at $(KDIR) (the running kernel $$(uname -r) has none)"; \
		h=$$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1); \
		if [ -n "$$h" ]; then \
			echo "gomalloc: pass KDIR=, e.g. make KDIR=$$h"; \
		else \
			echo "gomalloc: install Debian's current headers (apt-get install linux-headers-amd64)"; \
			echo "gomalloc: and pass KDIR=/usr/src/linux-headers-<release>-amd64"; \
		fi; \
		exit 1; \
	fi

modules: kdir-check
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

clean:
	@if [ -d "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	rm -rf build

# Debian's headers report the upstream version (6.1.192) from "make
# kernelrelease"; the release modules belong to is UTS_RELEASE.
KREL = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' \
	$(KDIR)/include/generated/utsrelease.h 2>/dev/null)

install: modules
	$(MAKE) -C $(KDIR) M=$(CURDIR) KERNELRELEASE=$(KREL) modules_install
	depmod -a $(KREL)

setup:
	scripts/setup.sh

check:
	scripts/check.sh

kunit:
	scripts/kunit.sh

kunit-selftest:
	scripts/kunit.sh --selftest

integration:
	scripts/integration.sh 6.1

integration-6.12:
	scripts/integration.sh 6.12

integration-6.12-rt:
	scripts/integration.sh 6.12-rt

integration-debug:
	scripts/integration.sh debug

demo:
	scripts/demo.sh

bench:
	scripts/bench.sh

soak:
	scripts/soak.sh $(SOAK)

lint:
	scripts/lint.sh

compile-6.12 compile-6.12-rt: compile-%:
	scripts/setup.sh --no-kernel $*
	scripts/check.sh build-$*
