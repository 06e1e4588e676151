#!/bin/sh
# scripts/install-deps.sh: install the build and test dependencies with apt (Debian, Ubuntu).
# Does nothing when they are all installed already, so re-running it is cheap.
set -eu

BUILD_DEPS='build-essential pkg-config libopenblas-dev liblapacke-dev zlib1g-dev
libarchive-dev libcurl4-openssl-dev libssl-dev libjansson-dev'
# prove comes with perl; python3-* are the reference implementations some tests compare with;
# GNU time measures the benchmarks' peak memory; docker-registry and skopeo are the real OCI
# registry and client the push tests use; chromium renders the eval plot in its test;
# python3-yaml parses the GitLab CI template and Kubernetes manifests in their tests; clang
# and its runtime (libFuzzer, only recommended by clang) build the fuzz targets (make fuzz,
# make fuzz-regress, t8100); openssl makes the test
# certificates of the TLS tests.
TEST_DEPS='mandoc prometheus python3-numpy python3-pandas python3-sklearn python3-statsmodels
python3-scipy python3-yaml curl ca-certificates perl time docker-registry skopeo chromium clang
libclang-rt-14-dev openssl'

usage() {
	echo "usage: install-deps.sh [-n] [--no-update]"
}

update=1
dry_run=0
for arg
do
	case $arg in
	--no-update) update=0 ;;
	-n|--dry-run) dry_run=1 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1
then
	echo "install-deps.sh: apt-get and dpkg-query are needed (Debian or Ubuntu);" \
	    "install these by hand: $BUILD_DEPS $TEST_DEPS" | tr '\n' ' ' >&2
	echo >&2
	exit 1
fi

missing=
total=0
for pkg in $BUILD_DEPS $TEST_DEPS
do
	total=$((total + 1))
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) || status=
	case $status in
	*' ok installed') ;;
	*) missing="$missing $pkg" ;;
	esac
done

if test -z "$missing"
then
	echo "install-deps.sh: all $total packages are installed already"
	exit 0
fi
echo "install-deps.sh: to install:$missing"
if test "$dry_run" = 1
then
	exit 0
fi

if test "$(id -u)" = 0
then
	set -- env DEBIAN_FRONTEND=noninteractive
elif command -v sudo >/dev/null 2>&1
then
	set -- sudo env DEBIAN_FRONTEND=noninteractive
else
	echo "install-deps.sh: not root and no sudo; install as root:$missing" >&2
	exit 1
fi

if test "$update" = 1
then
	"$@" apt-get -qq update
fi
# $missing is split into words on purpose.
# shellcheck disable=SC2086
"$@" apt-get install -y -q --no-install-recommends $missing
