#!/usr/bin/env python3
"""Writes assets/openapi/swagger.json: the Kubernetes OpenAPI v2 document cut down to what the
built-in cluster serves (its kinds' definitions with everything they reference, and their paths).

Source: the upstream api/openapi-spec/swagger.json of Kubernetes v1.36.0, as vendored by
kube-rs/k8s-pb (k8s-pb-codegen/openapi/swagger.json, commit 357bf44).

    python3 scripts/openapi-subset.py path/to/swagger.json > assets/openapi/swagger.json
"""
import json
import re
import sys

# The kinds src/sim/kinds.rs serves, plus what their requests and answers carry.
ROOTS = [
    "io.k8s.api.core.v1.Namespace", "io.k8s.api.core.v1.Node", "io.k8s.api.core.v1.Pod",
    "io.k8s.api.core.v1.Event", "io.k8s.api.policy.v1.PodDisruptionBudget",
    "io.k8s.api.apps.v1.DaemonSet", "io.k8s.api.apps.v1.ReplicaSet",
    "io.k8s.api.apps.v1.Deployment", "io.k8s.api.apps.v1.StatefulSet",
    "io.k8s.api.batch.v1.Job", "io.k8s.api.policy.v1.Eviction",
    "io.k8s.api.autoscaling.v1.Scale",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
    "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList",
    "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList",
    "io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions",
]
ROOTS += [r + "List" for r in ROOTS[:10]]
PATHS = re.compile(
    r"^/api/v1/(namespaces(/\{name\}(/status)?)?$|nodes|pods|events|namespaces/\{namespace\}/(pods|events))"
    r"|^/apis/apps/v1/(namespaces/\{namespace\}/)?(daemonsets|replicasets|deployments|statefulsets)"
    r"|^/apis/batch/v1/(namespaces/\{namespace\}/)?jobs"
    r"|^/apis/policy/v1/(namespaces/\{namespace\}/)?poddisruptionbudgets"
    r"|^/apis/(apps|batch|policy)/v1/$|^/api/v1/$"
)


def refs(node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                out.add(v)
            else:
                refs(v, out)
    elif isinstance(node, list):
        for v in node:
            refs(v, out)


def main():
    spec = json.load(open(sys.argv[1]))
    paths = {p: v for p, v in spec["paths"].items() if PATHS.search(p)}
    wanted, todo = set(), list(ROOTS)
    found = set()
    refs(paths, found)
    todo += [r.split("/")[-1] for r in found if r.startswith("#/definitions/")]
    params = {r.split("/")[-1] for r in found if r.startswith("#/parameters/")}
    while todo:
        name = todo.pop()
        if name in wanted:
            continue
        wanted.add(name)
        inner = set()
        refs(spec["definitions"][name], inner)
        todo += [r.split("/")[-1] for r in inner]
    out = {
        "swagger": spec["swagger"],
        "info": spec["info"],
        "paths": paths,
        "definitions": {k: spec["definitions"][k] for k in sorted(wanted)},
        "parameters": {k: v for k, v in spec["parameters"].items() if k in params},
        "securityDefinitions": spec["securityDefinitions"],
        "security": spec["security"],
    }
    json.dump(out, sys.stdout, sort_keys=True, separators=(",", ":"))


main()
