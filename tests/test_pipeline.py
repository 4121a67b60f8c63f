"""pipeline: stages in order, `previous`, stage input, for_each, skipped after a failure."""

from __future__ import annotations

from collections.abc import Callable

from conftest import Ran

RESEARCH = """
pattern: pipeline
input: tides
agents:
  academic: {provider: mock, output: "paper on {{ input }}"}
  industry: {provider: mock, error: "no access", fallback: [industry_backup]}
  industry_backup: {provider: mock, output: "no industry data on {{ input }}"}
  theorist: {provider: mock, output: "theory from [{{ previous | join(' + ') }}]"}
  critic: {provider: mock, output: "best: {{ previous[0] }} / gather had {{ stages.gather.outputs | length }}"}
stages:
  - name: gather
    agents: [academic, industry]
  - name: theorise
    agents: [theorist]
  - name: critique
    agents: [critic]
"""


def test_stages_feed_previous_and_fallback_stands_in(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(RESEARCH)
    assert ran.report["status"] == "passed"
    assert ran.agent("industry").replaced_by == "industry_backup"
    theory = "theory from [paper on tides + no industry data on tides]"
    assert ran.agent("theorist").output == theory
    assert ran.agent("critic").output == f"best: {theory} / gather had 2"
    assert [s["name"] for s in ran.report["stages"]] == ["gather", "theorise", "critique"]
    assert ran.report["stages"][0]["outputs"] == ["paper on tides", "no industry data on tides"]
    assert ran.report["outputs"] == [ran.agent("critic").output]
    assert [a["stage"] for a in ran.report["agents"]] == [
        "gather",
        "gather",
        "theorise",
        "critique",
    ]


def test_failed_stage_skips_the_rest(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(RESEARCH.replace("fallback: [industry_backup]", "retries: 0"))
    assert ran.statuses() == {
        "academic": "passed",
        "industry": "failed",
        "theorist": "skipped",
        "critic": "skipped",
    }
    assert [s["status"] for s in ran.report["stages"]] == ["failed", "skipped", "skipped"]
    assert ran.result.reason == "stage 'gather' failed: 1 of 2 agents passed; require: all"
    assert ran.result.exit_code == 3


def test_stage_require_any_lets_the_pipeline_go_on(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        RESEARCH.replace("fallback: [industry_backup]", "retries: 0").replace(
            "agents: [academic, industry]", "agents: [academic, industry]\n    require: any"
        )
    )
    assert ran.report["status"] == "passed"
    assert ran.agent("theorist").output == "theory from [paper on tides]"


def test_for_each_and_stage_input(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        """
        pattern: pipeline
        input: topic
        agents:
          a: {provider: mock, output: alpha}
          b: {provider: mock, output: beta}
          upper: {provider: mock, output: "{{ item | upper }}:{{ input }}"}
        stages:
          - {name: gather, agents: [a, b]}
          - name: each
            for_each: true
            input: "item {{ item }} of {{ previous | length }} on {{ input }}"
            agents: [upper]
        """
    )
    assert ran.report["status"] == "passed"
    assert [a.instance for a in ran.result.agents] == ["a", "b", "upper[0]", "upper[1]"]
    assert ran.agent("upper[0]").output == "ALPHA:item alpha of 2 on topic"
    assert ran.agent("upper[1]").output == "BETA:item beta of 2 on topic"
    assert ran.report["outputs"] == [ran.agent("upper[0]").output, ran.agent("upper[1]").output]


def test_stage_timeout(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        """
        pattern: pipeline
        agents:
          slow: {provider: mock, hang: true}
          next: {provider: mock, output: never}
        stages:
          - {name: first, agents: [slow], timeout: 50ms}
          - {name: second, agents: [next]}
        """
    )
    assert ran.statuses() == {"slow": "timeout", "next": "skipped"}
    assert ran.agent("slow").error == "stage timeout of 50ms exceeded"
    assert ran.report["stages"][0]["status"] == "timeout"


def test_pattern_fallback_rescues_a_failed_pipeline(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        """
        pattern: pipeline
        input: topic
        agents:
          gatherer: {provider: mock, error: down}
          writer: {provider: mock, output: x}
          summary: {provider: mock, output: "fallback summary of {{ input }}"}
        stages:
          - {name: gather, agents: [gatherer]}
          - {name: write, agents: [writer]}
        fallback: [summary]
        """
    )
    assert ran.report["status"] == "passed"
    assert ran.report["rescued_by"] == "summary"
    assert ran.report["outputs"] == ["fallback summary of topic"]
    assert ran.agent("rescue:summary").role == "rescue"
