# Every target sets itself up: a fresh clone needs nothing but Python 3.10+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONHASHSEED := 0

.PHONY: demo test lint bench bench-real bench-tune bench-fix bench-scaling bench-noise bench-streams docs screenshot clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/fitdoctor demo --out fitdoctor-demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts

docs: $(STAMP)
	$(BIN)/python -m fitdoctor.catalogue > docs/findings.md

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) fitdoctor-demo .pytest_cache

screenshot: $(STAMP)
	$(BIN)/python scripts/screenshot.py --out fitdoctor-demo --png docs/report.png

bench-tune: $(STAMP)
	$(BIN)/python -m pip install --quiet --target $(VENV)/bench-deps --no-deps keras-tuner kt-legacy
	PYTHONPATH=$(VENV)/bench-deps $(BIN)/python bench/tune_compare.py --trials 12 --seeds 3

bench-fix: $(STAMP)
	$(BIN)/python bench/fix_repair.py --budget quick
	$(BIN)/python bench/fix_augmentation.py

bench-scaling: $(STAMP)
	$(BIN)/python bench/scaling.py

bench-real: $(STAMP)
	$(BIN)/python bench/real_data.py --out bench/results

bench-noise: $(STAMP)
	$(BIN)/python bench/label_noise.py --seeds 2 --out bench/results/label_noise.md

bench-streams: $(STAMP)
	$(BIN)/python bench/stream_memory.py --out bench/results/stream_memory.md
