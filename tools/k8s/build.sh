#!/usr/bin/env bash
# Installs what the Kubernetes connector's live tests run (docs/kubernetes.md):
# kube-apiserver and kube-controller-manager, built from the Go module proxy
# through this folder's own go.mod (k8s.io/kubernetes with its staging modules
# replaced by their released tags) into the user's cache, outside the
# repository; and etcd from Debian's etcd-server package. Nothing is done
# when both are there. The cold build takes about 9 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")"

version=v1.37.2
dir="${NHI_K8S_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/nhi-tools/k8s-$version}"

if [ -x "$dir/kube-apiserver" ] && [ -x "$dir/kube-controller-manager" ]; then
  echo "kube-apiserver and kube-controller-manager $version: in $dir"
else
  echo "building kube-apiserver and kube-controller-manager $version into $dir (about 9 minutes cold) ..."
  mkdir -p "$dir"
  go build -trimpath -o "$dir/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
fi

if command -v etcd >/dev/null 2>&1; then
  echo "etcd: $(command -v etcd)"
elif command -v apt-get >/dev/null 2>&1; then
  echo "installing etcd (Debian package etcd-server) ..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >/dev/null
  # The package starts a system etcd where systemd runs; the tests start their own.
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now etcd >/dev/null 2>&1 || true; fi
else
  echo "etcd is missing and apt-get is not available: install etcd 3.4 or later on PATH" >&2
  exit 1
fi
