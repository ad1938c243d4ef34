# SPDX-License-Identifier: GPL-2.0-or-later
# Top-level targets. Everything built goes under build/.
#   make deps        install the Debian packages in scripts/packages.txt
#   make module      build kmod/ against the 6.1 and 6.12 headers (C=1 works)
#   make sparse      sparse (kbuild C=2) on kmod/ for each kernel
#   make checkpatch  checkpatch.pl --strict on kmod/
#   make check       deps, every tests/suites/*.sh, then the summary
#   make run         boot a guest with the module and dboxd serving a demo
#   make bench       benchmarks (never part of check): bench/*/run.sh
#   make clean       remove build outputs but keep the fetched kernels
#   make distclean   remove build/ entirely
SHELL := /bin/bash
SERIES := 6.1 6.12

# Suites that `make check` skips. lint is turned on once kmod/ is clean.
SUITES_DISABLED :=
SUITES := $(filter-out $(SUITES_DISABLED:%=tests/suites/%.sh),$(sort $(wildcard tests/suites/*.sh)))

.PHONY: all deps kernels module sparse checkpatch check run bench clean distclean
all: module

deps:
	scripts/deps.sh

kernels:
	scripts/kernels.sh $(SERIES)

module: kernels
	@set -e; for s in $(SERIES); do scripts/module-build.sh $$s $(if $(C),C=$(C)); done

sparse: kernels
	@set -e; for s in $(SERIES); do scripts/sparse.sh $$s; done

checkpatch:
	scripts/checkpatch.sh

check: deps
	scripts/run-suites.sh $(SUITES)

run: deps
	bash user/dboxd/demo/run-demo.sh

bench: deps
	bash bench/dbox/run.sh
	bash bench/kmod/run.sh
	bash bench/imap/run.sh
	bash bench/ksmgroupd/run.sh

clean:
	rm -rf build/kmod build/kselftests build/results build/guest build/uapi

distclean:
	rm -rf build
