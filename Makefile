# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DB := demo-out/corpus.db

.PHONY: install demo test bench bench-large clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

# Index the bundled sample corpus (corpus/sample), then scan a sample submission built from it.
demo: install
	rm -rf demo-out && mkdir -p demo-out
	$(BIN)/chachong add corpus/sample --manifest corpus/sample/manifest.csv --db $(DEMO_DB)
	$(BIN)/chachong stats --db $(DEMO_DB)
	$(BIN)/chachong scan corpus/demo/submission.txt --db $(DEMO_DB) --out demo-out/report
	@echo "HTML report: demo-out/report/index.html"
	$(BIN)/chachong compare corpus/demo/submission.txt corpus/sample/003_42e09aa36b9c46a6.txt

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m benchmarks.quality.run --results benchmarks/RESULTS.md
	$(BIN)/python -m benchmarks.speed.run --write

bench-large: install
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m benchmarks.speed.run --large --write --index-limit 2400

clean:
	rm -rf demo-out .pytest_cache build *.egg-info
