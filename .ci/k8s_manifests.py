#!/usr/bin/env python3
"""Static checks of the rendered Kubernetes manifests and the Docker context
(.ci/k8s-check runs this).

  k8s_manifests.py validate --k8s-version 1.30.0 [--k8s-version ...] FILE...
      Every object against the Kubernetes OpenAPI schemas that the PyPI
      package kubernetes-validate ships (offline), strictly: an unknown field
      is an error. Objects of the CRDs below have no schema there; they must
      still render with apiVersion, kind, metadata.name and a spec. Any other
      kind without a schema (a typo in apiVersion) is an error.

  k8s_manifests.py invariants FILE...
      What k8s/README.md promises of every overlay: ServiceAccounts without
      tokens, preStop sleep inside the grace period, the metrics port wired
      from ConfigMap to container to Service to NetworkPolicy, migration Jobs
      hooked for Argo CD and Flux, the restricted security context with /tmp
      the only writable path, one image, and messaging-svc told how to
      deliver.

  k8s_manifests.py dockerignore
      The Docker build context (.dockerignore applied to the git files) has
      every manifest and source cargo needs, and no target/, .git or .ci.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import re
import subprocess
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Custom resources of the optional components: rendered and structurally
# checked, not schema-validated (their CRDs are not in kubernetes-validate).
CRD_GROUPS = {"monitoring.coreos.com", "postgresql.cnpg.io"}
# Seconds a process needs after its drain before the kubelet's SIGKILL.
EXIT_MARGIN = 5


def load(path: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(open(path)) if d]


def name(d: dict) -> str:
    return f"{d['kind']}/{d['metadata']['name']}"


# --- validate ----------------------------------------------------------------


def validate(files: list[str], versions: list[str]) -> list[str]:
    import kubernetes_validate.utils as kv

    errors: list[str] = []
    for path in files:
        docs = load(path)
        counted = {"schema": 0, "crd": 0}
        for d in docs:
            group = d.get("apiVersion", "").rpartition("/")[0]
            for v in versions:
                try:
                    kv.validate(d, v, strict=True)
                    counted["schema"] += 1
                except kv.SchemaNotFoundError:
                    if group in CRD_GROUPS:
                        if not (d.get("metadata") or {}).get("name") or not isinstance(d.get("spec"), dict):
                            errors.append(f"{path}: {name(d)}: a custom resource needs metadata.name and a spec")
                        counted["crd"] += 1
                    else:
                        errors.append(f"{path}: {name(d)}: no schema for apiVersion {d.get('apiVersion')} "
                                      f"in Kubernetes {v} (a typo, or a CRD to add to CRD_GROUPS)")
                except kv.ValidationError as e:
                    where = ".".join(str(p) for p in e.path)
                    errors.append(f"{path}: {name(d)} against {v}: {where}: {e.message}")
                except kv.VersionNotSupportedError:
                    errors.append(f"kubernetes-validate has no schemas for Kubernetes {v}")
                    return errors
        print(f"{os.path.basename(path)}: {len(docs)} objects; {counted['schema']} schema validations "
              f"(strict, Kubernetes {', '.join(versions)}), {counted['crd']} custom-resource checks")
    return errors


# --- invariants --------------------------------------------------------------


def env_of(container: dict, configmaps: dict[str, dict]) -> dict[str, str]:
    env: dict[str, str] = {}
    for src in container.get("envFrom") or []:
        ref = src.get("configMapRef")
        if ref and ref["name"] in configmaps:
            for k, v in (configmaps[ref["name"]].get("data") or {}).items():
                env[src.get("prefix", "") + k] = str(v)
    for e in container.get("env") or []:
        if "value" in e:
            env[e["name"]] = str(e["value"])
        elif "valueFrom" in e:
            env[e["name"]] = "<from " + ",".join(e["valueFrom"]) + ">"
    return env


def invariants(path: str) -> list[str]:
    docs = load(path)
    errs: list[str] = []

    def err(obj: dict, msg: str) -> None:
        errs.append(f"{os.path.basename(path)}: {name(obj)}: {msg}")

    by_kind: dict[str, list[dict]] = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    cms = {d["metadata"]["name"]: d for d in by_kind.get("ConfigMap", [])}
    sas = {d["metadata"]["name"]: d for d in by_kind.get("ServiceAccount", [])}
    services = by_kind.get("Service", [])
    deployments = by_kind.get("Deployment", [])
    jobs = by_kind.get("Job", [])
    images = set()

    for sa in sas.values():
        if sa.get("automountServiceAccountToken") is not False:
            err(sa, "automountServiceAccountToken must be false")

    for w in deployments + jobs:
        tpl = w["spec"]["template"]
        spec = tpl["spec"]
        sa = spec.get("serviceAccountName")
        if not sa:
            err(w, "no serviceAccountName")
        elif sa not in sas:
            err(w, f"serviceAccountName {sa} is not in the manifests")
        if spec.get("automountServiceAccountToken") is not False:
            err(w, "the pod must set automountServiceAccountToken: false")
        psc = spec.get("securityContext") or {}
        if not psc.get("runAsNonRoot") or psc.get("runAsUser") != 65532 or psc.get("runAsGroup") != 65532:
            err(w, "the pod must run as non-root 65532:65532 (the image's user)")
        volumes = {v["name"]: v for v in spec.get("volumes") or []}
        for c in spec["containers"]:
            images.add(c.get("image"))
            sc = c.get("securityContext") or {}
            if sc.get("readOnlyRootFilesystem") is not True:
                err(w, f"container {c['name']}: readOnlyRootFilesystem must be true")
            if sc.get("allowPrivilegeEscalation") is not False:
                err(w, f"container {c['name']}: allowPrivilegeEscalation must be false")
            if (sc.get("capabilities") or {}).get("drop") != ["ALL"]:
                err(w, f"container {c['name']}: capabilities must drop ALL")
            mounts = c.get("volumeMounts") or []
            if not any(m["mountPath"] == "/tmp" and "emptyDir" in volumes.get(m["name"], {}) for m in mounts):
                err(w, f"container {c['name']}: needs an emptyDir at /tmp (the only writable path)")
            for m in mounts:
                v = volumes.get(m["name"], {})
                writable = ("emptyDir" in v or "persistentVolumeClaim" in v or "hostPath" in v) and not m.get("readOnly")
                if writable and m["mountPath"] != "/tmp":
                    err(w, f"container {c['name']}: writable mount at {m['mountPath']}: only /tmp may be written")
                if ("secret" in v or "configMap" in v) and not m.get("readOnly"):
                    err(w, f"container {c['name']}: mount {m['mountPath']} should say readOnly: true")

    for d in deployments:
        tpl = d["spec"]["template"]
        spec = tpl["spec"]
        c = spec["containers"][0]
        env = env_of(c, cms)
        grace = spec.get("terminationGracePeriodSeconds", 30)
        pre = (c.get("lifecycle") or {}).get("preStop") or {}
        sleep = (pre.get("sleep") or {}).get("seconds")
        if "exec" in pre:
            err(d, "preStop exec cannot work: the image has no shell or sleep binary; use lifecycle.preStop.sleep")
        if not sleep:
            err(d, "no lifecycle.preStop.sleep (endpoints must be removed before the listener closes)")
        else:
            drain = int(env.get("HOMEROOM_DRAIN_SECONDS", "10"))
            if grace < sleep + drain + EXIT_MARGIN:
                err(d, f"terminationGracePeriodSeconds {grace} < preStop {sleep} + HOMEROOM_DRAIN_SECONDS "
                       f"{drain} + {EXIT_MARGIN}")
        ports = {p.get("name"): p["containerPort"] for p in c.get("ports") or []}
        mport = ports.get("metrics")
        ann = tpl["metadata"].get("annotations") or {}
        if mport is None:
            err(d, "no container port named metrics")
        else:
            addr = env.get("HOMEROOM_METRICS_ADDR", "")
            if not addr.endswith(f":{mport}"):
                err(d, f"HOMEROOM_METRICS_ADDR={addr!r} does not listen on the metrics port {mport}")
            if ann.get("prometheus.io/port") != str(mport) or "prometheus.io/scrape" not in ann \
                    or not ann.get("prometheus.io/path", "").startswith("/"):
                err(d, "pod template needs prometheus.io/scrape, prometheus.io/port (the metrics port) "
                       "and prometheus.io/path annotations")
            labels = tpl["metadata"].get("labels") or {}
            svc = [s for s in services
                   if (s["spec"].get("selector") or {})
                   and all(labels.get(k) == v for k, v in s["spec"]["selector"].items())]
            if not svc:
                err(d, "no Service selects its pods")
            for s in svc:
                sp = [p for p in s["spec"].get("ports") or [] if p.get("name") == "metrics"]
                if not sp or sp[0].get("targetPort") not in ("metrics", mport):
                    err(s, "needs a port named metrics targeting the container's metrics port")
        if d["metadata"]["name"] == "messaging-svc":
            if not (env.get("HOMEROOM_SMTP_HOST") or env.get("HOMEROOM_TWILIO_ACCOUNT_SID")
                    or env.get("HOMEROOM_DELIVERY") == "outbox"):
                err(d, "messaging-svc needs a delivery provider (HOMEROOM_SMTP_HOST, HOMEROOM_TWILIO_ACCOUNT_SID) "
                       "or HOMEROOM_DELIVERY=outbox")
            if env.get("HOMEROOM_TWILIO_ACCOUNT_SID") and "HOMEROOM_TWILIO_AUTH_TOKEN" not in env:
                err(d, "HOMEROOM_TWILIO_ACCOUNT_SID without HOMEROOM_TWILIO_AUTH_TOKEN")
            if bool(env.get("HOMEROOM_SMTP_USERNAME")) != bool(env.get("HOMEROOM_SMTP_PASSWORD")):
                err(d, "HOMEROOM_SMTP_USERNAME and HOMEROOM_SMTP_PASSWORD go together")
            if env.get("HOMEROOM_SMTP_TLS", "starttls") not in ("none", "starttls", "tls"):
                err(d, "HOMEROOM_SMTP_TLS must be none, starttls or tls")
        if d["metadata"]["name"] == "gateway":
            if env.get("HOMEROOM_FORWARDED_HEADER", "x-forwarded-for") not in ("x-forwarded-for", "forwarded"):
                err(d, "HOMEROOM_FORWARDED_HEADER must be x-forwarded-for or forwarded")
            if "HOMEROOM_TRUSTED_PROXIES" not in env:
                err(d, "HOMEROOM_TRUSTED_PROXIES is not set (see base/gateway/kustomization.yaml)")

    for j in jobs:
        ann = j["metadata"].get("annotations") or {}
        want = {
            "argocd.argoproj.io/hook": "PreSync",
            "kustomize.toolkit.fluxcd.io/force": "enabled",
        }
        for k, v in want.items():
            if ann.get(k) != v:
                err(j, f"annotation {k}: {v} is missing")
        if "argocd.argoproj.io/hook-delete-policy" not in ann:
            err(j, "annotation argocd.argoproj.io/hook-delete-policy is missing")
        sa = sas.get(j["spec"]["template"]["spec"].get("serviceAccountName", ""))
        if sa is not None:
            sa_ann = sa["metadata"].get("annotations") or {}
            if sa_ann.get("argocd.argoproj.io/hook") != "PreSync" or \
                    int(sa_ann.get("argocd.argoproj.io/sync-wave", "0")) >= int(ann.get("argocd.argoproj.io/sync-wave", "0")):
                err(j, f"its ServiceAccount {sa['metadata']['name']} must be a PreSync hook in an earlier "
                       "sync wave (it would not exist yet on a first Argo CD sync)")
            if (j["metadata"].get("labels") or {}).get("app.kubernetes.io/component") != \
                    (sa["metadata"].get("labels") or {}).get("app.kubernetes.io/component"):
                err(j, "its ServiceAccount must carry the same component label "
                       "(the README's migration step applies them together)")

    if deployments:
        pols = [p for p in by_kind.get("NetworkPolicy", [])
                if any(any(pp.get("port") == 9090 for pp in (r.get("ports") or []))
                       for r in (p["spec"].get("ingress") or []))]
        if not pols:
            errs.append(f"{os.path.basename(path)}: no NetworkPolicy admits port 9090 (metrics)")
    if len(images) > 1:
        errs.append(f"{os.path.basename(path)}: containers use different images: {sorted(images)}")
    print(f"{os.path.basename(path)}: {len(deployments)} Deployments, {len(jobs)} Jobs, {len(sas)} ServiceAccounts: "
          f"{'ok' if not errs else f'{len(errs)} problems'}")
    return errs


# --- dockerignore ------------------------------------------------------------


def dockerignore_rules(path: str) -> list[tuple[bool, re.Pattern]]:
    """Docker's .dockerignore semantics: Go filepath.Match per pattern plus
    `**`, leading `/` ignored, last match wins, `!` re-includes. A pattern
    that matches a folder excludes everything below it."""
    rules = []
    for line in open(path):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        neg = line.startswith("!")
        pat = os.path.normpath(line[1:] if neg else line).lstrip("/")
        rx = ""
        i = 0
        while i < len(pat):
            if pat.startswith("**/", i):
                rx += "(?:.*/)?"
                i += 3
            elif pat.startswith("**", i):
                rx += ".*"
                i += 2
            else:
                ch = pat[i]
                rx += "[^/]*" if ch == "*" else "[^/]" if ch == "?" else re.escape(ch)
                i += 1
        rules.append((neg, re.compile(rf"^{rx}(?:/.*)?$")))
    return rules


def dockerignore() -> list[str]:
    files = subprocess.run(["git", "-C", REPO, "ls-files", "--cached", "--others", "--exclude-standard"],
                           capture_output=True, text=True, check=True).stdout.split()
    rules = dockerignore_rules(os.path.join(REPO, ".dockerignore"))

    def excluded(f: str) -> bool:
        out = False
        for neg, rx in rules:
            if rx.match(f):
                out = not neg
        return out

    context = [f for f in files if not excluded(f)]
    errs = []
    needed = [f for f in files if f.endswith(("Cargo.toml", ".rs", ".proto")) or f == "Cargo.lock"]
    missing = [f for f in needed if excluded(f)]
    if missing:
        errs.append(f".dockerignore excludes files cargo needs: {missing[:10]}")
    for probe in ("target/debug/homeroom", ".git/HEAD", ".ci/run", "data/identity.db", "k8s/README.md"):
        if not excluded(probe):
            errs.append(f".dockerignore lets {probe} into the build context")
    for f in context:
        if fnmatch.fnmatch(f, "*.db") or f.startswith((".ci/", "target/")):
            errs.append(f".dockerignore lets {f} into the build context")
    print(f"docker build context: {len(context)} of {len(files)} files, {len(needed) - len(missing)} "
          f"cargo inputs ({'ok' if not errs else 'problems'})")
    return errs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("validate")
    v.add_argument("--k8s-version", action="append", required=True)
    v.add_argument("files", nargs="+")
    i = sub.add_parser("invariants")
    i.add_argument("files", nargs="+")
    sub.add_parser("dockerignore")
    args = ap.parse_args()
    if args.cmd == "validate":
        errs = validate(args.files, args.k8s_version)
    elif args.cmd == "invariants":
        errs = [e for f in args.files for e in invariants(f)]
    else:
        errs = dockerignore()
    for e in errs:
        print(f"ERROR {e}", file=sys.stderr)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
