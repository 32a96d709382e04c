#!/usr/bin/env bash
# Prints an agent.toml with all five protocols configured for the idle benchmark
# (bench/rows/agent.sh). $1 is a scratch folder for the state directory and the JumpCloud
# agent files it needs. HTTP servers point at a loopback port where nothing listens, so every
# adapter is alive and backing off; MIG holds its relay session on the machine's RabbitMQ when
# one answers (OMNIAGENT_TEST_AMQP_URL, as the tests).
set -euo pipefail
dir=$1
mkdir -p "$dir/jc" "$dir/state"
openssl genrsa -out "$dir/jc/client.key" 2048 2>/dev/null
chmod 600 "$dir/jc/client.key"
cat > "$dir/jc/jcagent.conf" <<JC
{"systemKey":"5f0c1b2a3d4e5f6a7b8c9d0e","agentServerHost":"agent.jumpcloud.com","clientKey":"$dir/jc/client.key"}
JC
cat <<TOML
[agent]
state_dir = "$dir/state"
log_level = "error"
splay = "0s"

[[server]]
name = "oco"
protocol = "oco"
url = "http://127.0.0.1:9/api-agent.php"
allow_plain_http = true
registration_key = "bench"

[[server]]
name = "glpi"
protocol = "glpi"
url = "http://127.0.0.1:9/front/inventory.php"

[[server]]
name = "rdfm"
protocol = "rdfm"
url = "http://127.0.0.1:9"

[[server]]
name = "jumpcloud"
protocol = "jumpcloud"
url = "http://127.0.0.1:9"
jcagent_conf = "$dir/jc/jcagent.conf"
jcagent_key = "$dir/jc/client.key"
TOML
cat <<TOML

[[server]]
name = "mig"
protocol = "mig"
url = "http://127.0.0.1:9/api/v1"
relay = "${OMNIAGENT_TEST_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}"
keyring_dir = "$dir/migkeys"
acl_file = "$dir/mig-acl.json"
TOML
