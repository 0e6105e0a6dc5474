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
    "io.k8s.api.batch.v1.Job", "io.k8s.api.core.v1.Service", "io.k8s.api.core.v1.Endpoints",
    "io.k8s.api.discovery.v1.EndpointSlice", "io.k8s.api.core.v1.ConfigMap",
    "io.k8s.api.core.v1.Secret", "io.k8s.api.core.v1.ServiceAccount",
    "io.k8s.api.coordination.v1.Lease", "io.k8s.api.policy.v1.Eviction",
    "io.k8s.api.autoscaling.v1.Scale",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
    "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList",
    "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList",
    "io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions",
]
ROOTS += [r + "List" for r in ROOTS[:17]]
PATHS = re.compile(
    r"^/api/v1/(namespaces(/\{name\}(/status)?)?$|nodes|pods|events|services|endpoints|configmaps"
    r"|secrets|serviceaccounts"
    r"|namespaces/\{namespace\}/(pods|events|services|endpoints|configmaps|secrets|serviceaccounts))"
    r"|^/apis/apps/v1/(namespaces/\{namespace\}/)?(daemonsets|replicasets|deployments|statefulsets)"
    r"|^/apis/batch/v1/(namespaces/\{namespace\}/)?jobs"
    r"|^/apis/policy/v1/(namespaces/\{namespace\}/)?poddisruptionbudgets"
    r"|^/apis/discovery\.k8s\.io/v1/(namespaces/\{namespace\}/)?endpointslices"
    r"|^/apis/coordination\.k8s\.io/v1/(namespaces/\{namespace\}/)?leases"
    r"|^/apis/(apps|batch|policy|discovery\.k8s\.io|coordination\.k8s\.io)/v1/$|^/api/v1/$"
)
# Subresources the simulator does not serve.
UNSERVED = re.compile(r"/(proxy|token)(/|$)")


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
    paths = {p: v for p, v in spec["paths"].items() if PATHS.search(p) and not UNSERVED.search(p)}
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
