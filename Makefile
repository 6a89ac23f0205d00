# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
#
# Entry points for people and CI. Every target that runs code sets the environment up first
# (scripts/setup.sh: quick when nothing changed) and runs inside .ws/env.sh.
#   make setup   .venv + colcon workspace .ws (+ vision_msgs where missing) + .ws/env.sh
#   make test    linters (ruff, mypy) and the whole pytest suite, ROS tests included
#   make test-jazzy  the ROS tests again on ROS 2 Jazzy (its wheels, .venv-jazzy, .ws-jazzy)
#   make test-py310  the core tests on Python 3.10 (Humble's), requirements-ros.txt (not in CI)
#   make lint    only the linters
#   make demo    the main job on a bundled sample          ARGS='...' passes options
#   make bench   the benchmarks                            ARGS='...' passes options
#   make mutate  mutation testing of the core modules (slow, not in CI; docs/mutation.md)
#   make clean   remove the workspace and caches; `make distclean` also removes the venvs

SHELL := /bin/bash
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
IN_ENV := cd $(ROOT) && . .ws/env.sh &&

.PHONY: setup test test-jazzy test-py310 lint demo bench mutate clean distclean help

help:
	@sed -n 's/^#   //p' $(ROOT)/Makefile

setup:
	@bash $(ROOT)/scripts/setup.sh

test: setup
	@bash $(ROOT)/scripts/test.sh $(ARGS)

test-jazzy:
	@ROS_WHEELS=jazzy bash $(ROOT)/scripts/setup.sh
	@ROS_WHEELS=jazzy bash $(ROOT)/scripts/test.sh -m ros $(ARGS)

test-py310:
	@bash $(ROOT)/scripts/test_python310.sh $(ARGS)

lint: setup
	@bash $(ROOT)/scripts/test.sh --lint-only

demo: setup
	@$(IN_ENV) patchdrivenet-demo $(ARGS)

bench: setup
	@$(IN_ENV) patchdrivenet-benchmark $(ARGS) && python -m patchdrivenet_ros.tools.node_benchmark

mutate: setup
	@$(IN_ENV) bash scripts/mutate.sh $(ARGS)

clean:
	rm -rf $(ROOT)/.ws $(ROOT)/.ws-jazzy $(ROOT)/build $(ROOT)/install $(ROOT)/log \
		$(ROOT)/.mypy_cache $(ROOT)/.ruff_cache $(ROOT)/.pytest_cache
	find $(ROOT) -path $(ROOT)/.venv -prune -o -name __pycache__ -type d -prune \
		-exec rm -rf {} +

distclean: clean
	rm -rf $(ROOT)/.venv $(ROOT)/.venv-jazzy $(ROOT)/.venv-py310
