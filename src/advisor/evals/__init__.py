"""Evaluation: benchmark cases through retrieval and through whole answers, measured, compared
and written down with what produced them.

- ``cases.py``        benchmark case files: the streaming JSONL reader, retrieval cases
- ``retrieval.py``    retrieval benchmark: cases -> ranked chunks -> ranx metrics, per kind
- ``significance.py`` paired tests between runs (ranx's tests), TREC run files in
- ``manifest.py``     what produced a figure: commit, settings, model and corpus hashes
- ``baseline.py``     committed baselines (evals/baseline.json) and their tolerances
- ``beir.py``         BEIR folders in and out
- ``beir_index.py``   index a BEIR corpus as it streams (one passage, one chunk)
- ``report.py``       tables, TREC runs, report.md with plots (matplotlib imported lazily)
- ``output.py``       what advisor eval prints and writes
- ``answer_cases.py`` answer benchmark cases (off-topic, fit) and evidence matching
- ``answers.py``      answer benchmark: every case through ChatService -> answer figures
- ``answer_diff.py``  eval-answers --diff: the cases that flipped, per figure
- ``training.py``     the answer model's examples from cases (advisor train-ranker): labels,
                      folds grouped by document, the pool of case files
- ``fitting.py``      the answer model's three parts fitted, and their held-out figures
- ``crossval.py``     eval-answers --cv: answers of each held-out fold, mean and spread

ranx (and numba with it) is imported only when figures are computed. Exports the cases
(``Case``, ``load_cases``), retrieval runs (``run_cases``, ``run_judged``, ``RunResult``,
``evidence_qrels``, ``summary``), comparisons (``compare_runs``, ``read_trec_runs``,
``COMPARE_KEYS``, ``JUDGED_COMPARE_KEYS``), ``run_manifest``, BEIR (``export_beir``,
``build_beir_index``, ``judged_queries``, ``folder_files``, ``CORPUS``, ``QUERIES``), the
printing of ``advisor eval`` (``Evaluation``, ``report_evaluations``, ``print_saved``,
``encode_speed``, ``say``), and answer runs (``run_answers``, ``summarize``,
``write_case_report``, ``load_fit``, ``load_offtopic``, ``has_fit_cases``, ``lead_text``,
``contains_evidence``, ``diff``, ``format_diff``); ``baseline``, ``training``, ``fitting`` and
``crossval`` are modules (scikit-learn and LightGBM are imported when a model is fitted).
"""

from advisor.evals import baseline, crossval, fitting, training
from advisor.evals.answer_diff import diff, format_diff
from advisor.evals.answers import (
    contains_evidence,
    has_fit_cases,
    lead_text,
    load_fit,
    load_offtopic,
    run_answers,
    summarize,
    write_case_report,
)
from advisor.evals.beir import CORPUS, QUERIES, export_beir, folder_files, judged_queries
from advisor.evals.beir_index import build_beir_index
from advisor.evals.cases import Case, load_cases
from advisor.evals.manifest import run_manifest
from advisor.evals.output import Evaluation, encode_speed, print_saved, report_evaluations, say
from advisor.evals.retrieval import RunResult, evidence_qrels, run_cases, run_judged, summary
from advisor.evals.significance import (
    COMPARE_KEYS,
    JUDGED_COMPARE_KEYS,
    compare_runs,
    read_trec_runs,
)

__all__ = [
    "crossval",
    "fitting",
    "training",
    "COMPARE_KEYS",
    "CORPUS",
    "JUDGED_COMPARE_KEYS",
    "QUERIES",
    "Case",
    "Evaluation",
    "RunResult",
    "baseline",
    "build_beir_index",
    "compare_runs",
    "contains_evidence",
    "diff",
    "encode_speed",
    "evidence_qrels",
    "export_beir",
    "folder_files",
    "format_diff",
    "has_fit_cases",
    "judged_queries",
    "lead_text",
    "load_cases",
    "load_fit",
    "load_offtopic",
    "print_saved",
    "read_trec_runs",
    "report_evaluations",
    "run_answers",
    "run_cases",
    "run_judged",
    "run_manifest",
    "say",
    "summarize",
    "summary",
    "write_case_report",
]
