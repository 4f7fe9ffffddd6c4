#!/usr/bin/env bash
# The Redis server the Redis store's tests run against (test/stores/redis.test.ts spawns its own).
#
#   test/redis.sh install   installs redis-server from Debian if it is missing (CI calls this before npm test;
#                           without it, test/stores/redis.test.ts calls it when it can)
#   test/redis.sh start     installs if needed, then runs a throwaway instance in the foreground on
#                           127.0.0.1 and a free port, without persistence, printing its URL first
#
# Debian's package is enough: the tests need plain GET/SET PX/DEL, available since Redis 2.6.12.
set -euo pipefail

# The installed binary: on PATH, or where Debian puts it (a PATH that hides it still finds it here).
binary() {
  command -v redis-server 2>/dev/null || { [ -x /usr/bin/redis-server ] && echo /usr/bin/redis-server; }
}

install() {
  if binary >/dev/null; then
    return 0
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "test/redis.sh: redis-server is missing and we are not root (no sudo)" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "test/redis.sh: installing redis-server from Debian" >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  binary >/dev/null || { echo "test/redis.sh: redis-server still missing after apt-get install" >&2; exit 1; }
  "$(binary)" --version >&2
}

free_port() {
  # Bind port 0 on loopback and report what the kernel chose.
  python3 - 2>/dev/null <<'EOF' || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

case "${1:-}" in
  install)
    install
    ;;
  start)
    install
    port="${2:-$(free_port)}"
    echo "redis://127.0.0.1:${port}"
    exec "$(binary)" --bind 127.0.0.1 --port "$port" --save '' --appendonly no --daemonize no --loglevel warning
    ;;
  *)
    echo "usage: test/redis.sh install | start [port]" >&2
    exit 2
    ;;
esac
