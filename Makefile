# Two commands do all set-up on a machine with Python 3.11 and make: `make demo` and `make test`.
# Everything is installed into .venv from the pinned requirements; ansible-test runs from a copy of the
# tree under build/ansible_collections/hyperv/replica, because it only works inside such a path.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(abspath $(VENV))/bin
ROOT   := build/ansible_collections/hyperv/replica
STAMP  := $(VENV)/.installed
TEST_PY := 3.11
# ansible-test finds tools such as shellcheck on PATH.
export PATH := $(BIN):$(PATH)

# Debian's chromium takes the screenshot of report.html in the dr_drill integration target.
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all venv collection browser sanity units integration test demo bench clean

all: test

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt tests/utils/get_pip_bootstrap.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	# ansible-test --venv downloads a pip bootstrap script from a host we cannot reach; give it ours.
	pipv=$$($(BIN)/python -c 'from ansible_test._internal.python_requirements import get_venv_packages as g; \
	  print(g(type("P", (), {"version": "$(TEST_PY)"})())["pip"].replace(".", "_"))') && \
	  mkdir -p $(HOME)/.ansible/test/cache && \
	  { test -e $(HOME)/.ansible/test/cache/get_pip_$$pipv.py || \
	    cp tests/utils/get_pip_bootstrap.py $(HOME)/.ansible/test/cache/get_pip_$$pipv.py; }
	touch $@

# A real copy (not a symlink) of every file git tracks or would track, rebuilt each time.
collection: venv
	rm -rf build/ansible_collections
	mkdir -p $(ROOT)
	git ls-files -z --cached --others --exclude-standard \
	  | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C $(ROOT)
	# Its own (empty) git repo: otherwise ansible-test finds ours, where build/ is ignored, and sees no files.
	git -C $(ROOT) init --quiet

sanity: collection
	cd $(ROOT) && $(BIN)/ansible-test sanity --venv --python $(TEST_PY) --requirements --color no

units: collection
	cd $(ROOT) && $(BIN)/ansible-test units --venv --python $(TEST_PY) --requirements --color no

# Installed once; apt's package lists are refreshed only when the install cannot find the package.
browser:
	@test -x $(CHROMIUM) || { echo "Installing Debian's chromium for the report screenshot test"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $(SUDO) apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends chromium; }; }
	@test -x $(CHROMIUM) || { echo "no $(CHROMIUM): install Debian's chromium package" >&2; exit 1; }

integration: collection browser
	cd $(ROOT) && $(BIN)/ansible-test integration --venv --python $(TEST_PY) --requirements --color no

test: sanity units integration

demo: collection
	$(BIN)/python tests/demo/demo.py --collections build

# Figures, not tests: one failover task for N = 1, 10, 100, 500 VMs against the simulator with 20 ms of network
# latency and 2 s jobs, against a loop of one-VM tasks; requests, wall and CPU time, peak memory. About 10 minutes
# (the loops take N times a job); BENCH_ARGS="--vms 1 10" for a quick look. Also written to build/bench/bench.json.
bench: collection
	$(BIN)/python tests/bench/bench.py $(BENCH_ARGS)

clean:
	rm -rf build $(VENV)
