# Every target builds .venv from nothing if it is missing or older than pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# make bench BENCH_WORDS=300000: words of text each benchmark times.
BENCH_WORDS ?= 120000
CORPUS_WORDS ?= 300000
FUZZ_SECONDS ?= 60
# The gold data (LitBank, PDNC, AO3 warnings) lives beside the repository, not in it.
DATA ?= ../shared/data
FUZZ_FLAGS = -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=20000 -rss_limit_mb=3072

.PHONY: demo test bench eval fuzz clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,ray]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/ficlens demo examples --out out/demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

# Speed as ratios against raw spaCy on the same text, one run each: the pipeline, then the archive
# runner (local engine, 1 and 2 workers); then a loopback load test of `ficlens serve` on a
# 10,000-story store. Results: out/bench/*.json.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_pipeline.py --words $(BENCH_WORDS)
	$(BIN)/python benchmarks/bench_corpus.py --limit-words $(CORPUS_WORDS)
	$(BIN)/python benchmarks/bench_serve.py

# Every evaluation on ../shared/data (minutes; see the README's accuracy table).
eval: $(STAMP)
	$(BIN)/ficlens eval all --data $(DATA)

# atheris is not a test dependency: it is installed here, on demand.
fuzz: $(STAMP)
	$(BIN)/pip install --quiet atheris==3.0.0
	mkdir -p out/fuzz/readers out/fuzz/stages
	$(BIN)/python fuzz/fuzz_readers.py out/fuzz/readers -dict=fuzz/readers.dict $(FUZZ_FLAGS) -artifact_prefix=out/fuzz/readers-
	$(BIN)/python fuzz/fuzz_stages.py out/fuzz/stages -dict=fuzz/stages.dict $(FUZZ_FLAGS) -artifact_prefix=out/fuzz/stages-
	FICLENS_PROPERTY_EXAMPLES=2000 $(BIN)/python -m pytest -q tests/test_properties.py

clean:
	rm -rf $(VENV) out test-output .pytest_cache
