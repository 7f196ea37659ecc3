#!/usr/bin/env python3
"""Pods simulated from the manifests (.ci/k8s-check runs this).

Reads a rendered overlay (`kubectl kustomize k8s/overlays/prod`) and runs its
pods on this machine the way the image and the kubelet would, to prove that
the manifests' commands and environment start a working suite:

1. Every migration Job, twice (Argo CD and Flux recreate it on every sync, so
   a second run must succeed too): its container's exact command/args
   (the Dockerfile's ENTRYPOINT unless `command` overrides it) and env.
2. Every Deployment, one pod each, all at once; then each container's own
   startup, readiness and liveness probes (tcpSocket, httpGet, grpc), with
   the kubelet's time budget (initialDelaySeconds + periodSeconds *
   failureThreshold).
3. Authenticated calls through the gateway that reach each service: a service
   token from `homeroom service-token gateway` (run like the gateway's pod,
   with its env), then GET /api/v1/sync-sources (roster),
   /api/v1/communications (messaging) and /api/v1/sso/providers (identity).
   Any 5xx or connection failure fails.
4. The metrics port (a container port named "metrics", path from the
   prometheus.io/path annotation): checked when something listens there;
   HOMEROOM_K8S_REQUIRE_METRICS=1 makes a silent port a failure.
5. SIGTERM to every pod (the kubelet's, after the preStop hook): each must
   exit within terminationGracePeriodSeconds minus its preStop sleep.

How a pod is run: in a bubblewrap sandbox shaped like the image (a tmpfs root
holding only glibc/libgcc, CA certificates, tzdata and the binary at the
ENTRYPOINT's path, no shell), read-only when readOnlyRootFilesystem is set,
with the pod's volumes (emptyDir as tmpfs, Secret and ConfigMap volumes as
read-only files, defaultMode and fsGroup applied), its own PID namespace with
the binary as PID 1, as the pod's runAsUser/runAsGroup with fsGroup as a
supplementary group, no capabilities and no_new_privs. Secrets are replaced
by test values (every Secret and key must appear in
k8s/base/secrets.example.yaml): each DATABASE_URL is a fresh database, owned
by a fresh login role, on the PostgreSQL of HOMEROOM_CI_PG_URL.

What is simulated rather than real: the pod network. Each Deployment's pod
gets its own loopback address (127.0.100.x); a listen address on the wildcard
(0.0.0.0:PORT) becomes that address (in Kubernetes the wildcard is the pod's
own IP), and /etc/hosts in every sandbox maps each Service name (short and
qualified) to the address of the pod its selector matches, so the URLs in the
manifests are used unchanged. Any other host name found in the environment
(SMTP relay, provider URLs) maps to 127.0.100.254, where nothing listens:
nothing leaves the machine. Not simulated: seccomp, resource limits, the
preStop sleep itself (its time is subtracted from the grace period instead).

Exits 0 when everything passed, 1 on a failure (after printing the pods'
logs), 2 on a usage error. Databases, roles, processes and files are removed
at the end, also on failure or interruption.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POD_NET = "127.0.100."
BLACKHOLE = POD_NET + "254"
# Paths of the host bound read-only into every sandbox: what
# gcr.io/distroless/cc-debian12 holds (glibc, libgcc, CA certificates,
# tzdata), plus setpriv, which drops to the pod's user.
IMAGE_PATHS = [
    "/usr/lib",
    "/usr/lib64",
    "/usr/share/ca-certificates",
    "/usr/share/zoneinfo",
    "/etc/ssl",
    "/etc/nsswitch.conf",
    "/etc/ld.so.cache",
    "/usr/bin/setpriv",
]
# distroless's own environment.
IMAGE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt",
}


class Fail(Exception):
    """A check failed; the message says which and why."""


def say(msg: str) -> None:
    print(f"pods: {msg}", flush=True)


# --- the image: what the Dockerfile's final stage runs ---------------------


def image_config(dockerfile: str) -> dict:
    """ENTRYPOINT, CMD, WORKDIR and USER of the Dockerfile's last stage."""
    stage: dict = {}
    text = open(dockerfile).read().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word == "FROM":
            stage = {"workdir": "/"}
        elif word in ("ENTRYPOINT", "CMD"):
            try:
                stage[word.lower()] = json.loads(rest)
            except json.JSONDecodeError:
                raise Fail(f"Dockerfile: {word} must use the JSON (exec) form: the image has no shell")
        elif word == "WORKDIR":
            stage["workdir"] = rest.strip()
        elif word == "USER":
            stage["user"] = rest.strip()
    if "entrypoint" not in stage:
        raise Fail("Dockerfile: the last stage has no ENTRYPOINT")
    return stage


# --- test values for the Secrets ---------------------------------------------


def example_secrets(path: str) -> dict[str, set[str]]:
    """Secret name -> keys, as documented in secrets.example.yaml."""
    out: dict[str, set[str]] = {}
    for doc in yaml.safe_load_all(open(path)):
        if doc and doc.get("kind") == "Secret":
            keys = set((doc.get("stringData") or {}).keys()) | set((doc.get("data") or {}).keys())
            out[doc["metadata"]["name"]] = keys
    return out


class Postgres:
    """Fresh roles and databases on the CI PostgreSQL, dropped at the end."""

    def __init__(self, admin_url: str, run_id: str):
        self.admin_url = admin_url
        self.run_id = run_id
        u = urllib.parse.urlsplit(admin_url)
        self.host = u.hostname or "127.0.0.1"
        self.port = u.port or 5432
        self.created: list[str] = []

    def psql(self, sql: str) -> str:
        r = subprocess.run(
            ["psql", self.admin_url, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql],
            capture_output=True, text=True, timeout=60,
        )
        if r.returncode != 0:
            raise Fail(f"psql failed ({sql[:60]}…): {r.stderr.strip()}")
        return r.stdout

    def reachable(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=3):
                return True
        except OSError:
            return False

    def drop_stale(self) -> None:
        """Databases left by a run that was killed (its pid is gone)."""
        rows = self.psql("SELECT datname FROM pg_database WHERE datname LIKE 'k8s_check_%' "
                         "UNION SELECT rolname FROM pg_roles WHERE rolname LIKE 'k8s_check_%'")
        for name in rows.split():
            m = re.match(r"k8s_check_(\d+)_", name)
            if m and not os.path.exists(f"/proc/{m.group(1)}"):
                self.drop(name)

    def database_url(self, secret_name: str) -> str:
        slug = re.sub(r"[^a-z0-9]+", "_", secret_name.lower()).strip("_")
        name = f"k8s_check_{self.run_id}_{slug}"[:63]
        self.psql(f'CREATE ROLE "{name}" LOGIN')
        self.created.append(name)
        self.psql(f'CREATE DATABASE "{name}" OWNER "{name}"')
        return f"postgres://{name}@{self.host}:{self.port}/{name}?sslmode=disable"

    def drop(self, name: str) -> None:
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.psql(f'DROP ROLE IF EXISTS "{name}"')

    def drop_all(self) -> None:
        for name in reversed(self.created):
            try:
                self.drop(name)
            except Exception as e:  # keep cleaning up
                say(f"warning: could not drop {name}: {e}")
        self.created.clear()


class SecretValues:
    """Test values for Secret keys, stable for the run (the same Secret gives
    the Job and the Deployment the same database)."""

    def __init__(self, documented: dict[str, set[str]], pg: Postgres):
        self.documented = documented
        self.pg = pg
        self.values: dict[tuple[str, str], str] = {}

    def keys(self, name: str) -> set[str]:
        if name not in self.documented:
            raise Fail(f"Secret {name} is used but not shown in k8s/base/secrets.example.yaml")
        return self.documented[name]

    def get(self, name: str, key: str) -> str:
        if key not in self.keys(name):
            raise Fail(f"Secret {name} key {key} is used but not shown in k8s/base/secrets.example.yaml")
        if (name, key) not in self.values:
            self.values[(name, key)] = self.make(name, key)
        return self.values[(name, key)]

    def make(self, name: str, key: str) -> str:
        if key == "DATABASE_URL":
            return self.pg.database_url(name)
        if key == "HOMEROOM_SERVICE_SECRET":
            return secrets.token_urlsafe(48)
        if key == "HOMEROOM_SECRETS_KEY":
            return base64.b64encode(secrets.token_bytes(32)).decode()
        if key.endswith(".json"):
            return "[]\n"  # an SSO providers file with no provider
        if key in ("HOMEROOM_SMTP_PASSWORD", "HOMEROOM_TWILIO_AUTH_TOKEN") or key.endswith(
            ("_PASSWORD", "_TOKEN", "_KEY", "_SECRET")
        ):
            return "k8s-check-" + secrets.token_hex(16)
        raise Fail(f"pods.py has no test value for Secret {name} key {key}: add one to SecretValues.make")


# --- the rendered manifests --------------------------------------------------


class Manifests:
    def __init__(self, path: str):
        self.docs = [d for d in yaml.safe_load_all(open(path)) if d]
        self.configmaps = {d["metadata"]["name"]: d for d in self.docs if d["kind"] == "ConfigMap"}
        self.services = [d for d in self.docs if d["kind"] == "Service"]
        self.deployments = sorted(
            (d for d in self.docs if d["kind"] == "Deployment"), key=lambda d: d["metadata"]["name"]
        )
        self.jobs = sorted((d for d in self.docs if d["kind"] == "Job"), key=lambda d: d["metadata"]["name"])
        if not self.deployments:
            raise Fail("no Deployment in the rendered manifests")

    def configmap_value(self, name: str, key: str | None, optional: bool) -> dict[str, str] | str | None:
        cm = self.configmaps.get(name)
        if cm is None:
            if optional:
                return None
            raise Fail(f"ConfigMap {name} is referenced but not in the rendered manifests")
        data = {k: str(v) for k, v in (cm.get("data") or {}).items()}
        if key is None:
            return data
        if key not in data:
            if optional:
                return None
            raise Fail(f"ConfigMap {name} has no key {key}")
        return data[key]


def expand(value: str, env: dict[str, str]) -> str:
    """Kubernetes' $(VAR) expansion ($$ escapes)."""
    def sub(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        return env.get(m.group(1), m.group(0))
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)", sub, value)


class Pod:
    """One pod of a Deployment or a Job (its first and only container)."""

    def __init__(self, owner: dict, ip: str, m: Manifests, sv: SecretValues, image: dict, workdir: str):
        self.owner = owner
        self.kind = owner["kind"]
        self.name = owner["metadata"]["name"]
        self.namespace = owner["metadata"].get("namespace", "default")
        self.template = owner["spec"]["template"]
        self.spec = self.template["spec"]
        containers = self.spec["containers"]
        if len(containers) != 1 or self.spec.get("initContainers"):
            raise Fail(f"{self.kind} {self.name}: pods.py runs one container per pod")
        self.c = containers[0]
        self.ip = ip
        self.m = m
        self.sv = sv
        self.image = image
        self.dir = os.path.join(workdir, f"{self.kind.lower()}-{self.name}")
        os.makedirs(self.dir, exist_ok=True)
        self.proc: subprocess.Popen | None = None
        self.child_pid: int | None = None
        self.log_path = os.path.join(self.dir, "log")
        self.rewrites: list[str] = []
        self.env = self.resolve_env()
        self.argv = self.command()

    # the container's command line, as the runtime builds it
    def command(self) -> list[str]:
        if self.c.get("command"):
            argv = list(self.c["command"]) + list(self.c.get("args") or [])
        elif "args" in self.c:
            argv = list(self.image["entrypoint"]) + list(self.c["args"] or [])
        else:
            argv = list(self.image["entrypoint"]) + list(self.image.get("cmd") or [])
        return [expand(a, self.env) for a in argv]

    def resolve_env(self) -> dict[str, str]:
        env = dict(IMAGE_ENV)
        env["HOSTNAME"] = self.pod_name()
        for src in self.c.get("envFrom") or []:
            prefix = src.get("prefix", "")
            if "configMapRef" in src:
                ref = src["configMapRef"]
                data = self.m.configmap_value(ref["name"], None, ref.get("optional", False)) or {}
                for k, v in data.items():
                    env[prefix + k] = v
            elif "secretRef" in src:
                ref = src["secretRef"]
                for k in sorted(self.sv.keys(ref["name"])):
                    env[prefix + k] = self.sv.get(ref["name"], k)
        for e in self.c.get("env") or []:
            name = e["name"]
            if "value" in e:
                env[name] = expand(str(e["value"]), env)
                continue
            vf = e.get("valueFrom") or {}
            if "secretKeyRef" in vf:
                r = vf["secretKeyRef"]
                env[name] = self.sv.get(r["name"], r["key"])
            elif "configMapKeyRef" in vf:
                r = vf["configMapKeyRef"]
                v = self.m.configmap_value(r["name"], r["key"], r.get("optional", False))
                if v is not None:
                    env[name] = v
            elif "fieldRef" in vf:
                path = vf["fieldRef"]["fieldPath"]
                env[name] = {
                    "metadata.name": self.pod_name(),
                    "metadata.namespace": self.namespace,
                    "status.podIP": self.ip,
                    "status.hostIP": "127.0.0.1",
                    "spec.serviceAccountName": self.spec.get("serviceAccountName", "default"),
                    "spec.nodeName": "k8s-check",
                }.get(path, "")
            elif "resourceFieldRef" in vf:
                env[name] = "1"
            else:
                env[name] = ""
        # The pod network: a wildcard listener is the pod's own address.
        for k, v in list(env.items()):
            m = re.fullmatch(r"(?:0\.0\.0\.0|\[::\]):(\d+)", v)
            if m:
                env[k] = f"{self.ip}:{m.group(1)}"
                self.rewrites.append(f"{k}={v} -> {env[k]}")
        return env

    def pod_name(self) -> str:
        return f"{self.name}-k8scheck"

    def port(self, ref) -> int:
        if isinstance(ref, int):
            return ref
        if str(ref).isdigit():
            return int(ref)
        for p in self.c.get("ports") or []:
            if p.get("name") == ref:
                return int(p["containerPort"])
        raise Fail(f"{self.name}: no container port named {ref!r}")

    # the sandbox
    def volume_args(self) -> list[str]:
        sc = self.spec.get("securityContext") or {}
        fs_group = sc.get("fsGroup")
        volumes = {v["name"]: v for v in self.spec.get("volumes") or []}
        args: list[str] = []
        for vm in self.c.get("volumeMounts") or []:
            v = volumes.get(vm["name"])
            if v is None:
                raise Fail(f"{self.name}: volumeMount {vm['name']} has no volume")
            path = vm["mountPath"]
            if "subPath" in vm:
                raise Fail(f"{self.name}: subPath mounts are not simulated")
            if "emptyDir" in v:
                size = parse_quantity((v["emptyDir"] or {}).get("sizeLimit", "64Mi"))
                args += ["--perms", "1777", "--size", str(size), "--tmpfs", path]
                if vm.get("readOnly"):
                    args += ["--remount-ro", path]
                continue
            if "secret" in v or "configMap" in v:
                src = v.get("secret") or v.get("configMap")
                host = os.path.join(self.dir, "volumes", vm["name"])
                os.makedirs(host, exist_ok=True)
                os.chmod(host, 0o755)
                files = self.volume_files(v)
                mode = src.get("defaultMode", 0o644)
                for item_path, (content, item_mode) in files.items():
                    f = os.path.join(host, item_path)
                    os.makedirs(os.path.dirname(f), exist_ok=True)
                    with open(f, "w") as fh:
                        fh.write(content)
                    # The kubelet: owned by root and the fsGroup, defaultMode.
                    os.chown(f, 0, fs_group if fs_group is not None else 0)
                    os.chmod(f, item_mode if item_mode is not None else mode)
                args += ["--ro-bind", host, path]
                continue
            raise Fail(f"{self.name}: volume {vm['name']} of a type pods.py does not simulate: {sorted(v)}")
        return args

    def volume_files(self, v: dict) -> dict[str, tuple[str, int | None]]:
        if "secret" in v:
            s = v["secret"]
            name = s["secretName"]
            items = s.get("items") or [{"key": k, "path": k} for k in sorted(self.sv.keys(name))]
            return {it["path"]: (self.sv.get(name, it["key"]), it.get("mode")) for it in items}
        c = v["configMap"]
        data = self.m.configmap_value(c["name"], None, c.get("optional", False)) or {}
        items = c.get("items") or [{"key": k, "path": k} for k in sorted(data)]
        return {it["path"]: (data[it["key"]], it.get("mode")) for it in items}

    def sandbox_argv(self, hosts_file: str, binary: str, status_fd: int, argv: list[str] | None = None) -> list[str]:
        sc_pod = self.spec.get("securityContext") or {}
        sc = {**sc_pod, **(self.c.get("securityContext") or {})}
        uid = sc.get("runAsUser")
        gid = sc.get("runAsGroup")
        user = self.image.get("user", "0:0")
        img_uid, _, img_gid = user.partition(":")
        uid = int(uid if uid is not None else img_uid)
        gid = int(gid if gid is not None else (img_gid or 0))
        if sc.get("runAsNonRoot") and uid == 0:
            raise Fail(f"{self.name}: runAsNonRoot with user 0 would not start (CreateContainerConfigError)")
        groups = [g for g in [sc_pod.get("fsGroup")] + list(sc_pod.get("supplementalGroups") or []) if g is not None]
        entry = self.image["entrypoint"][0]
        a = ["bwrap", "--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--as-pid-1",
             "--hostname", self.pod_name()]
        # Mount points inside the (tmpfs) root, world-readable like an image's.
        dirs = {"/usr", "/usr/bin", "/usr/share", "/etc", "/usr/local", os.path.dirname(entry)}
        for vm in self.c.get("volumeMounts") or []:
            parent = os.path.dirname(vm["mountPath"].rstrip("/"))
            while parent not in ("", "/"):
                dirs.add(parent)
                parent = os.path.dirname(parent)
        for d in sorted(dirs, key=lambda p: p.count("/")):
            a += ["--perms", "0755", "--dir", d]
        for p in IMAGE_PATHS:
            if os.path.exists(p):
                a += ["--ro-bind", p, p]
        a += ["--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/bin", "/bin"]
        a += ["--ro-bind", binary, entry, "--ro-bind", hosts_file, "/etc/hosts"]
        a += ["--dev", "/dev", "--proc", "/proc"]
        a += self.volume_args()
        if sc.get("readOnlyRootFilesystem"):
            a += ["--remount-ro", "/"]
        a += ["--chdir", self.c.get("workingDir") or self.image.get("workdir", "/")]
        a += ["--json-status-fd", str(status_fd), "--clearenv"]
        for k, v in sorted(self.env.items()):
            a += ["--setenv", k, v]
        a += ["--", "/usr/bin/setpriv", f"--reuid={uid}", f"--regid={gid}"]
        a += [f"--groups={','.join(str(g) for g in groups)}"] if groups else ["--clear-groups"]
        caps_add = ((sc.get("capabilities") or {}).get("add")) or []
        if caps_add:
            raise Fail(f"{self.name}: added capabilities are not simulated")
        a += ["--inh-caps=-all", "--bounding-set=-all"]
        if sc.get("allowPrivilegeEscalation") is False or sc.get("runAsNonRoot"):
            a += ["--no-new-privs"]
        return a + (argv or self.argv)

    def start(self, hosts_file: str, binary: str, argv: list[str] | None = None, log_path: str | None = None) -> None:
        r, w = os.pipe()
        log = open(log_path or self.log_path, "ab")
        self.proc = subprocess.Popen(
            self.sandbox_argv(hosts_file, binary, w, argv),
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            pass_fds=(w,), start_new_session=True, preexec_fn=die_with_us,
        )
        os.close(w)
        log.close()
        self.status = os.fdopen(r, "r")
        line = self.status.readline()
        try:
            self.child_pid = json.loads(line)["child-pid"]
        except (ValueError, KeyError):
            self.proc.wait(timeout=10)
            raise Fail(f"{self.name}: the sandbox did not start (bwrap: {self.tail(5)})")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        for pid in (self.child_pid, self.proc.pid if self.proc else None):
            if pid:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
                if sig != signal.SIGKILL:
                    break  # SIGTERM goes to the container's PID 1 only, as the runtime sends it

    def kill(self) -> None:
        if self.alive():
            self.signal(signal.SIGKILL)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    def tail(self, n: int = 40) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return "(no output)"
        return "\n".join(lines[-n:]) or "(no output)"


def die_with_us() -> None:
    """In the forked child before exec: SIGKILL it (bwrap) when this script
    dies, even by SIGKILL; bwrap's --die-with-parent passes that on to the
    pod, so no server outlives a killed check."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def parse_quantity(q) -> int:
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi|k|M|G)?", str(q))
    if not m:
        raise Fail(f"cannot parse the quantity {q!r}")
    mult = {None: 1, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "k": 10**3, "M": 10**6, "G": 10**9}
    return int(m.group(1)) * mult[m.group(2)]


# --- probes, as the kubelet runs them ----------------------------------------

NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_get(url: str, timeout: float, headers: dict | None = None) -> tuple[int, str, bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with NO_PROXY.open(req, timeout=timeout) as r:
            return r.status, r.headers.get("content-type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type", ""), e.read()


def probe_once(pod: Pod, probe: dict) -> tuple[bool, str]:
    timeout = float(probe.get("timeoutSeconds", 1))
    try:
        if "tcpSocket" in probe:
            port = pod.port(probe["tcpSocket"]["port"])
            host = probe["tcpSocket"].get("host", pod.ip)
            with socket.create_connection((host, port), timeout=timeout):
                return True, f"tcp {host}:{port} open"
        if "httpGet" in probe:
            g = probe["httpGet"]
            port = pod.port(g["port"])
            scheme = g.get("scheme", "HTTP").lower()
            url = f"{scheme}://{g.get('host', pod.ip)}:{port}{g.get('path', '/')}"
            headers = {h["name"]: h["value"] for h in g.get("httpHeaders") or []}
            code, _, _ = http_get(url, timeout, headers)
            return 200 <= code < 400, f"GET {url} -> {code}"
        if "grpc" in probe:
            import grpc
            from grpc_health.v1 import health_pb2, health_pb2_grpc
            port = int(probe["grpc"]["port"])
            service = probe["grpc"].get("service", "")
            with grpc.insecure_channel(f"{pod.ip}:{port}", options=[("grpc.enable_http_proxy", 0)]) as ch:
                resp = health_pb2_grpc.HealthStub(ch).Check(
                    health_pb2.HealthCheckRequest(service=service), timeout=timeout
                )
            status = health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)
            return resp.status == health_pb2.HealthCheckResponse.SERVING, f"grpc {pod.ip}:{port} {service!r} {status}"
        if "exec" in probe:
            raise Fail(f"{pod.name}: exec probes cannot work: the image has no shell or tools")
    except Fail:
        raise
    except Exception as e:  # connection refused, timeouts, gRPC errors
        return False, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    raise Fail(f"{pod.name}: unknown probe type {sorted(probe)}")


def wait_probe(pod: Pod, kind: str, window: float | None = None) -> float:
    """Polls a probe until it succeeds, within the kubelet's budget for it."""
    probe = pod.c.get(kind)
    if not probe:
        return 0.0
    period = float(probe.get("periodSeconds", 10))
    budget = float(probe.get("initialDelaySeconds", 0)) + period * int(probe.get("failureThreshold", 3))
    if window is not None:
        budget = max(budget, window)
    start = time.monotonic()
    last = ""
    while True:
        if not pod.alive():
            raise Fail(f"{pod.name}: exited with {pod.proc.returncode} before its {kind} succeeded "
                       "(CrashLoopBackOff)")
        ok, last = probe_once(pod, probe)
        if ok:
            return time.monotonic() - start
        if time.monotonic() - start > budget:
            raise Fail(f"{pod.name}: {kind} still failing after {budget:.0f}s: {last}")
        time.sleep(0.5)


# --- the run -----------------------------------------------------------------


def hosts_file(path: str, pods: list[Pod], m: Manifests) -> dict[str, str]:
    """/etc/hosts of every sandbox: Service names -> their pod's address."""
    names: dict[str, str] = {}
    for svc in m.services:
        sel = (svc.get("spec") or {}).get("selector") or {}
        if not sel:
            continue
        target = next(
            (p for p in pods if p.kind == "Deployment"
             and all((p.template["metadata"].get("labels") or {}).get(k) == v for k, v in sel.items())),
            None,
        )
        if target is None:
            continue
        for sp in svc["spec"].get("ports") or []:
            tp = sp.get("targetPort", sp["port"])
            if target.port(tp) != int(sp["port"]):
                raise Fail(f"Service {svc['metadata']['name']}: port {sp['port']} -> targetPort {tp} "
                           f"({target.port(tp)}); pods.py needs them equal to map the Service to the pod")
        n = svc["metadata"]["name"]
        ns = svc["metadata"].get("namespace", "default")
        for alias in (n, f"{n}.{ns}", f"{n}.{ns}.svc", f"{n}.{ns}.svc.cluster.local"):
            names[alias] = target.ip
    # Any other host named in the environment: nowhere.
    others: set[str] = set()
    for p in pods:
        for v in p.env.values():
            for host in re.findall(r"^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/\s]*@)?([A-Za-z][A-Za-z0-9.-]*\.[A-Za-z]{2,})(?=[:/]|$)", v):
                if host not in names:
                    others.add(host)
    for host in ("api.twilio.com",):
        others.add(host)
    with open(path, "w") as f:
        f.write("127.0.0.1\tlocalhost\n::1\tlocalhost\n")
        for p in pods:
            f.write(f"{p.ip}\t{p.pod_name()}\n")
        for host, ip in sorted(names.items()):
            f.write(f"{ip}\t{host}\n")
        for host in sorted(others):
            f.write(f"{BLACKHOLE}\t{host}\n")
    os.chmod(path, 0o644)
    return names


def run_job(pod: Pod, hosts: str, binary: str, attempt: int) -> None:
    deadline = float(pod.owner["spec"].get("activeDeadlineSeconds", 600))
    t0 = time.monotonic()
    pod.start(hosts, binary)
    try:
        rc = pod.proc.wait(timeout=deadline)
    except subprocess.TimeoutExpired:
        pod.kill()
        raise Fail(f"Job {pod.name}: still running after activeDeadlineSeconds ({deadline:.0f}s)")
    pod.status.close()
    if rc != 0:
        raise Fail(f"Job {pod.name} (run {attempt}): exited with {rc}")
    say(f"Job {pod.name} run {attempt}: completed in {time.monotonic() - t0:.1f}s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("rendered", help="output of kubectl kustomize <overlay>")
    ap.add_argument("--binary", default=os.path.join(REPO, "target/debug/homeroom"))
    ap.add_argument("--dockerfile", default=os.path.join(REPO, "Dockerfile"))
    ap.add_argument("--secrets-example", default=os.path.join(REPO, "k8s/base/secrets.example.yaml"))
    ap.add_argument("--pg-url", default=os.environ.get("HOMEROOM_CI_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--ready-window", type=float, default=60.0,
                    help="seconds a pod may take to become ready after its startup probe")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (logs) at the end")
    args = ap.parse_args()
    require_metrics = os.environ.get("HOMEROOM_K8S_REQUIRE_METRICS") == "1"

    for tool in ("bwrap", "setpriv", "psql"):
        if not shutil.which(tool):
            say(f"{tool} is missing (k8s-check installs bubblewrap, util-linux and postgresql-client)")
            return 2
    if not os.access(args.binary, os.X_OK):
        say(f"{args.binary} is missing: build it first (cargo build --bin homeroom)")
        return 2

    run_id = str(os.getpid())
    workdir = tempfile.mkdtemp(prefix="k8s-pods-")
    os.chmod(workdir, 0o755)
    pg = Postgres(args.pg_url, run_id)
    pods: list[Pod] = []
    t_start = time.monotonic()

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    failed = False
    try:
        if not pg.reachable():
            raise Fail(f"PostgreSQL is not reachable at {pg.host}:{pg.port} (HOMEROOM_CI_PG_URL)")
        pg.drop_stale()
        image = image_config(args.dockerfile)
        # The binary, as the image holds it: world-readable and executable,
        # in a folder the pods' user can reach.
        binary = os.path.join(workdir, "homeroom")
        shutil.copy2(args.binary, binary)
        os.chmod(binary, 0o755)
        m = Manifests(args.rendered)
        sv = SecretValues(example_secrets(args.secrets_example), pg)

        for i, d in enumerate(m.deployments):
            pods.append(Pod(d, f"{POD_NET}{10 + i}", m, sv, image, workdir))
        jobs = [Pod(j, f"{POD_NET}{100 + i}", m, sv, image, workdir) for i, j in enumerate(m.jobs)]
        hosts = os.path.join(workdir, "hosts")
        names = hosts_file(hosts, pods + jobs, m)
        say(f"{len(jobs)} Jobs, {len(pods)} Deployments; Services mapped: "
            + ", ".join(f"{n}->{ip}" for n, ip in sorted(names.items()) if "." not in n))
        for p in pods + jobs:
            for r in p.rewrites:
                say(f"{p.name}: {r} (the pod's own address)")

        # 1. migration Jobs, twice each.
        for attempt in (1, 2):
            for j in jobs:
                try:
                    run_job(j, hosts, binary, attempt)
                except Fail:
                    print(f"--- {j.name} log ---\n{j.tail()}", flush=True)
                    raise

        # 2. Deployments: start all, then probes.
        for p in pods:
            p.start(hosts, binary)
            say(f"Deployment {p.name}: started `{' '.join(p.argv)}` as pod {p.pod_name()} ({p.ip})")
        for p in pods:
            t = wait_probe(p, "startupProbe")
            say(f"{p.name}: startupProbe passed after {t:.1f}s")
        for p in pods:
            t = wait_probe(p, "readinessProbe", args.ready_window)
            say(f"{p.name}: readinessProbe passed after {t:.1f}s more")
        for p in pods:
            ok, detail = probe_once(p, p.c["livenessProbe"]) if p.c.get("livenessProbe") else (True, "none")
            if not ok:
                raise Fail(f"{p.name}: livenessProbe failed: {detail}")
            say(f"{p.name}: livenessProbe passed ({detail})")

        # 3. authenticated calls through the gateway.
        gw = next((p for p in pods if p.name == "gateway"), None)
        if gw is None:
            raise Fail("no Deployment named gateway")
        token_log = os.path.join(gw.dir, "service-token.log")
        tok = Pod(gw.owner, gw.ip, m, sv, image, workdir)
        tok.dir = os.path.join(workdir, "service-token")
        tok.log_path = token_log
        os.makedirs(tok.dir, exist_ok=True)
        token_out = os.path.join(workdir, "token")
        identity_url = gw.env.get("HOMEROOM_IDENTITY_URL")
        if not identity_url:
            raise Fail("the gateway's env has no HOMEROOM_IDENTITY_URL")
        argv = list(image["entrypoint"]) + ["service-token", "gateway", "--identity-url", identity_url]
        r, w = os.pipe()
        with open(token_out, "wb") as out, open(token_log, "wb") as err:
            proc = subprocess.Popen(tok.sandbox_argv(hosts, binary, w, argv), stdout=out, stderr=err,
                                    stdin=subprocess.DEVNULL, pass_fds=(w,), preexec_fn=die_with_us)
            os.close(w)
            rc = proc.wait(timeout=60)
        os.close(r)
        token = open(token_out).read().strip()
        if rc != 0 or not token:
            raise Fail(f"homeroom service-token gateway --identity-url {identity_url} failed ({rc}): "
                       + open(token_log, errors="replace").read()[-2000:])
        say(f"service token from {identity_url} with the gateway's HOMEROOM_SERVICE_SECRET: ok")
        http_port = gw.port("http")
        base = f"http://{gw.ip}:{http_port}"
        district = str(uuid.uuid4())
        calls = [
            ("roster-svc", f"/api/v1/sync-sources?districtId={district}"),
            ("messaging-svc", f"/api/v1/communications?districtId={district}"),
            ("identity-svc", f"/api/v1/sso/providers?districtId={district}"),
        ]
        for upstream, path in calls:
            try:
                code, _, body = http_get(base + path, 15, {"Authorization": f"Bearer {token}"})
            except Exception as e:
                raise Fail(f"GET {path} (-> {upstream}): {e}")
            if code >= 500:
                raise Fail(f"GET {path} (-> {upstream}): {code} {body[:300]!r}")
            say(f"GET {path} -> {code} (through the gateway to {upstream})")

        # 4. metrics.
        for p in pods:
            port = next((pp["containerPort"] for pp in p.c.get("ports") or [] if pp.get("name") == "metrics"), None)
            if port is None:
                raise Fail(f"{p.name}: no container port named metrics")
            path = (p.template["metadata"].get("annotations") or {}).get("prometheus.io/path", "/metrics")
            try:
                code, ctype, body = http_get(f"http://{p.ip}:{port}{path}", 5)
            except (urllib.error.URLError, OSError) as e:
                msg = f"{p.name}: nothing answers on the metrics port {p.ip}:{port} ({e})"
                if require_metrics:
                    raise Fail(msg)
                say(f"notice: {msg}; this binary predates HOMEROOM_METRICS_ADDR "
                    "(HOMEROOM_K8S_REQUIRE_METRICS=1 makes this a failure)")
                continue
            if code != 200 or not ctype.startswith("text/plain") or not body.strip():
                raise Fail(f"{p.name}: GET {path} on the metrics port -> {code} {ctype!r}, {len(body)} bytes")
            say(f"{p.name}: metrics {path} -> 200, {len(body.splitlines())} lines")

        # Still alive and live after the calls.
        for p in pods:
            if not p.alive():
                raise Fail(f"{p.name}: exited with {p.proc.returncode} during the checks")
            if p.c.get("livenessProbe"):
                ok, detail = probe_once(p, p.c["livenessProbe"])
                if not ok:
                    raise Fail(f"{p.name}: livenessProbe failed after the calls: {detail}")

        # 5. termination: SIGTERM (after the preStop sleep, whose time counts
        # against the grace period) and exit within the rest.
        budgets = {}
        for p in pods:
            grace = int(p.spec.get("terminationGracePeriodSeconds", 30))
            pre = (((p.c.get("lifecycle") or {}).get("preStop") or {}).get("sleep") or {}).get("seconds", 0)
            budgets[p.name] = max(grace - int(pre), 0)
            p.signal(signal.SIGTERM)
        t0 = time.monotonic()
        late = []
        for p in pods:
            left = budgets[p.name] - (time.monotonic() - t0)
            try:
                rc = p.proc.wait(timeout=max(left, 0.1))
                say(f"{p.name}: exited with {rc} {time.monotonic() - t0:.1f}s after SIGTERM "
                    f"(budget {budgets[p.name]}s)")
            except subprocess.TimeoutExpired:
                late.append(p.name)
                p.kill()
        if late:
            raise Fail(f"still running at the end of the grace period, killed: {', '.join(late)}")
        say(f"ok: {len(jobs)} Jobs and {len(pods)} Deployments of {os.path.basename(args.rendered)} "
            f"in {time.monotonic() - t_start:.0f}s")
    except (Fail, KeyboardInterrupt) as e:
        failed = True
        say(f"FAILED: {e}")
        for p in pods:
            print(f"--- {p.kind} {p.name} ({p.argv[-2:] if len(p.argv) > 1 else p.argv}) log, last lines ---",
                  flush=True)
            print(p.tail(), flush=True)
    finally:
        for p in pods:
            p.kill()
        try:
            pg.drop_all()
        except Exception as e:
            say(f"warning: cleanup: {e}")
        if args.keep or os.environ.get("HOMEROOM_K8S_KEEP"):
            say(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
