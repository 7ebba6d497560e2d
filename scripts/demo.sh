#!/usr/bin/env bash
# The main job on a fresh machine: check and render the example site, then
# show how numbers route. The secrets are made up here for the demo and
# never written anywhere but the rendered files in a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
site=asterisk-conf/examples/site.yaml
secret() { printf 'Demo%s9x' "$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"; }
export KURODENWA_ARI_PASSWORD=$(secret) KURODENWA_TWILIO_PASSWORD=$(secret) \
	KURODENWA_EXTENSIONS_BLACKPHONE_PASSWORD=$(secret) KURODENWA_EXTENSIONS_LINPHONE_PASSWORD=$(secret) \
	KURODENWA_EXTENSIONS_AGEPHONE_PASSWORD=$(secret) KURODENWA_PEERS_MINATO_PASSWORD=$(secret)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
bin=$out/ari-app
go build -o "$bin" ./ari-app

echo "== ari-app check"
"$bin" check --site "$site"
echo
echo "== ari-app render"
"$bin" render --site "$site" --out "$out/asterisk"
ls -l "$out/asterisk"
echo
echo "== what an unset secret looks like"
KURODENWA_TWILIO_PASSWORD= "$bin" check --site "$site" || true
echo
echo "== ari-app route: the black phone dials"
"$bin" route --site "$site" --from blackphone 202 200 0312345678 09012345678 01014155550123 117 119 712680 031234
echo
echo "== ari-app route: Twilio delivers"
"$bin" route --site "$site" --from twilio +815012345678 +815087654321 0312345678
echo
echo "== ari-app route: peer shibuya dials (99 is our hop prefix)"
"$bin" route --site "$site" --from peer-shibuya 201 9972100 99712680 0312345678
echo
echo "== pi-gateway: the black phone (simulated line, real SIP stack) calls a real baresip, then baresip calls it"
if command -v baresip >/dev/null; then
	go run ./pi-gateway demo
else
	echo "skipping: no baresip on PATH (Debian package baresip-core: make deps installs it)"
fi
