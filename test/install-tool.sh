#!/usr/bin/env bash
# Installs a program the tests use from Debian when it is missing: `test/install-tool.sh curl curl`
# (program, then package). .ci/run calls it for each; the tests call it themselves when they can
# (test/system-tool.ts). Redis has its own script, test/redis.sh.
set -euo pipefail
program="${1:?usage: test/install-tool.sh PROGRAM PACKAGE}"
package="${2:?usage: test/install-tool.sh PROGRAM PACKAGE}"
found() { command -v "$program" >/dev/null 2>&1 || [ -x "/usr/bin/$program" ]; }
found && exit 0
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "test/install-tool.sh: $program is missing and we are not root (no sudo)" >&2; exit 1; }
  sudo="sudo"
fi
echo "test/install-tool.sh: installing $package from Debian" >&2
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null
found || { echo "test/install-tool.sh: $program still missing after apt-get install $package" >&2; exit 1; }
