# `make run` and `make test` do all the set-up themselves (scripts/bootstrap.sh) and are idempotent.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT

.PHONY: setup run test bench check-deploy clean-var

setup:
	@VENV=$(VENV) scripts/bootstrap.sh

run: setup
	@mkdir -p var
	@printf '\n\033[1;32m江海市指挥中心 running at http://127.0.0.1:$(PORT)/\033[0m\n'
	@printf 'Demo logins (password Jianghai@2026): admin, dispatcher, chief, leader, agent, jc_dispatcher,\n'
	@printf '  jc_leader, wj_dispatcher, dept_cg, dept_jt, dept_jc_cg, dept_wj_zf, gridworker, data_officer,\n'
	@printf '  data_jt, data_sj, data_ga (full table in README.md)\n'
	@printf 'Health: http://127.0.0.1:$(PORT)/healthz   API docs: http://127.0.0.1:$(PORT)/api/docs/\n'
	@printf 'Ctrl-C stops web, worker and beat together.\n\n'
	@PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho start -f Procfile

test: setup
	@DJANGO_SETTINGS_MODULE=command_center.settings.test $(VENV)/bin/pytest

bench: setup
	@set -e; mkdir -p var/bench; for script in bench/*.py; do \
	  case $$script in */_*) continue;; esac; \
	  name=$$(basename $$script .py); echo "== $$script"; \
	  DJANGO_SETTINGS_MODULE=command_center.settings.dev $(PY) $$script | tee var/bench/$$name.json; \
	done; $(PY) bench/_table.py

check-deploy:
	@DJANGO_SETTINGS_MODULE=command_center.settings.prod SECRET_KEY=$$($(PY) -c 'import secrets;print(secrets.token_urlsafe(64))') \
	  $(PY) manage.py check --deploy
