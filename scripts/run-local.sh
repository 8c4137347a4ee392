#!/usr/bin/env bash
# Runs pensionbot on this machine for development (see README: make run).
set -euo pipefail
cd "$(dirname "$0")/.."

# Without a token the bot runs in the sandbox: a simulated Telegram on this
# machine with a web chat (see README: Try it). With one it runs on Telegram.
mode=()
if [ -z "${TELEGRAM_BOT_TOKEN:-}" ]; then
	echo "make run: TELEGRAM_BOT_TOKEN is not set: starting the sandbox (simulated Telegram with a web chat on ${SANDBOX_LISTEN:-127.0.0.1:8080})."
	echo "make run: to run on Telegram, create a bot with @BotFather (/newbot) and export TELEGRAM_BOT_TOKEN."
	mode=(sandbox)
fi

export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
hostport="${REDIS_URL#*://}"; hostport="${hostport#*@}"; hostport="${hostport%%/*}"
host="${hostport%%:*}"; port="${hostport##*:}"; [ "$port" = "$host" ] && port=6379

if ! command -v redis-cli >/dev/null || ! redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1; then
	if ! command -v redis-server >/dev/null; then
		echo "make run: installing redis-server"
		sudo=(); [ "$(id -u)" -ne 0 ] && sudo=(sudo)
		"${sudo[@]}" apt-get update
		DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends redis-server
	fi
	if ! redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1; then
		mkdir -p .data/redis
		echo "make run: starting redis-server on $host:$port (data in .data/redis)"
		redis-server --daemonize yes --bind "$host" --port "$port" --dir "$PWD/.data/redis" \
			--logfile "$PWD/.data/redis/redis.log" --appendonly yes
		for _ in $(seq 50); do redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
	fi
fi

if [ -z "${DATA_KEY:-}" ]; then
	if [ ! -s .data/data.key ]; then
		mkdir -p .data
		(umask 077 && head -c 32 /dev/urandom | base64 > .data/data.key)
		echo "make run: created .data/data.key (keep it private; production sets DATA_KEY)"
	fi
	DATA_KEY="$(cat .data/data.key)"
	export DATA_KEY
fi

export LOG_FORMAT="${LOG_FORMAT:-text}"
exec go run ./cmd/pensionbot "${mode[@]}"
