#!/usr/bin/env bash
# Installs what the Kubernetes connector's live tests run (docs/kubernetes.md):
# kube-apiserver and kube-controller-manager, built from the Go module proxy
# through this folder's own go.mod (k8s.io/kubernetes with its staging modules
# replaced by their released tags) into the user's cache, outside the
# repository; and etcd from Debian's etcd-server package. The cold build takes
# about 9 minutes on 2 cores (15 on a busy machine).
#
# A build from the module proxy carries no release in its version
# (v0.0.0-master+$Format:%H$): the linker stamps it, as Kubernetes' own
# hack/lib/version.sh does, and version.stamp beside the binaries records the
# flags. Nothing is done when the binaries and their stamp are there; binaries
# without the stamp (an earlier build) are only relinked, which takes seconds
# to a minute while Go's build cache holds the compiled packages.
set -euo pipefail
cd "$(dirname "$0")"

version=v1.37.2
major=1
minor=37
dir="${NHI_K8S_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/nhi-tools/k8s-$version}"
stamp="$dir/version.stamp"

# The release's own time, as the module proxy records it, is the build date:
# two builds of the same release report the same version.
date=$(go list -m -f '{{with .Time}}{{.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes)
ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+="-X $pkg.gitVersion=$version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.buildDate=$date "
done
ldflags="${ldflags% }"

if [ -x "$dir/kube-apiserver" ] && [ -x "$dir/kube-controller-manager" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$ldflags" ]; then
  echo "kube-apiserver and kube-controller-manager $version: in $dir"
else
  if [ -x "$dir/kube-apiserver" ] && [ -x "$dir/kube-controller-manager" ]; then
    echo "stamping kube-apiserver and kube-controller-manager in $dir with version $version (a relink when Go's build cache holds the packages) ..."
  else
    echo "building kube-apiserver and kube-controller-manager $version into $dir (about 9 minutes cold) ..."
  fi
  mkdir -p "$dir"
  # Built beside the old binaries, then moved over them: a test running the
  # old ones keeps them until it ends.
  tmp=$(mktemp -d "$dir/.build.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  go build -trimpath -ldflags "$ldflags" -o "$tmp/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
  mv -f "$tmp/kube-apiserver" "$tmp/kube-controller-manager" "$dir/"
  printf '%s\n' "$ldflags" > "$stamp"
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
