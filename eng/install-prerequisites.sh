#!/usr/bin/env bash
# Installs the system packages the platform and its tests use, and nothing that is already there.
# Idempotent: when everything is present it only asks dpkg, which takes well under a second.
#
#   eng/install-prerequisites.sh            # what the tests need
#   eng/install-prerequisites.sh --check    # list what is missing, install nothing (exit 1 if any)
set -euo pipefail

# One line per package: why the platform needs it.
packages=(
  mosquitto            # reference MQTT broker the interop tests and benchmarks run beside ours
  mosquitto-clients    # mosquitto_pub / mosquitto_sub: foreign MQTT clients for interop tests
  python3-paho-mqtt    # paho (MQTT 3.1.1 and 5): a second foreign client
  librdkafka1          # the native Kafka client under Confluent.Kafka, and its built-in mock cluster
  kcat                 # a foreign Kafka client for interop tests
  postgresql           # database servers the tests start on free ports (one data directory per run)
  python3-grpcio       # a foreign gRPC client and server for interop tests
  python3-grpc-tools   # protoc for the python side of those tests
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if [[ "${1:-}" == "--check" ]]; then
  echo "missing packages: ${missing[*]} (install with: apt-get install ${missing[*]})"
  exit 1
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi

echo "Installing ${missing[*]} ..."
export DEBIAN_FRONTEND=noninteractive
# Refresh the package index only when it is missing or older than a day.
if [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages' -mtime -1 2>/dev/null | head -n 1)" ]]; then
  "${sudo[@]}" apt-get update -qq
fi
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts some daemons on install (policy-rc.d permitting); the tests start their own
# instances on free ports, so stop any system-wide one that would hold the standard port.
for daemon in mosquitto haproxy; do
  if printf '%s\n' "${missing[@]}" | grep -qx "$daemon" && pgrep -x "$daemon" >/dev/null; then
    "${sudo[@]}" service "$daemon" stop >/dev/null 2>&1 || "${sudo[@]}" pkill -x "$daemon" || true
  fi
done
echo "Installed ${missing[*]}."
