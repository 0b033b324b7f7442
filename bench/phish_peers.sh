#!/usr/bin/env bash
# Peers for the phishing benchmark: SpamAssassin (spamd + spamc) and Rspamd
# (rspamd + rspamc, configuration in bench/rspamd/), both from Debian, started
# on loopback with network tests off (no DNS blocklists, Razor, Pyzor, fuzzy,
# SPF/DKIM/DMARC lookups; no Bayes: nothing trained; no Redis), one worker
# each, scanning the held-out emails listed in OUT/ours.tsv one after another.
# Prints a side-by-side table; per-message results in OUT/sa.tsv, OUT/rs.tsv
# (file, action, score) and OUT/rspamc.out (with Rspamd's symbols).
# Usage: bench/phish_peers.sh OUT_DIR OURS_EMAILS_PER_SECOND
set -euo pipefail
OUT=$1
OURS_RATE=${2:-0}
SA_PORT=${SA_PORT:-17830}
RS_PORT=${RS_PORT:-17833}
cut -f1 "$OUT/ours.tsv" >"$OUT/files.txt"

need=()
command -v spamassassin >/dev/null || need+=(spamassassin)
command -v spamd >/dev/null || need+=(spamd)
command -v spamc >/dev/null || need+=(spamc)
command -v rspamd >/dev/null || need+=(rspamd)
if [ ${#need[@]} -gt 0 ]; then
  echo "phish-peers: installing ${need[*]}" >&2
  SUDO=
  [ "$(id -u)" = 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

wait_port() {
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.2
  done
  echo "phish-peers: nothing listening on $1" >&2
  return 1
}

now() { date +%s.%N; }

# --- SpamAssassin: local tests only, no Bayes, no auto-learn.
SA_DIR=$(mktemp -d)
chmod 755 "$SA_DIR"
cp /etc/spamassassin/*.pre "$SA_DIR/"
cat >"$SA_DIR/local.cf" <<'EOF'
use_bayes 0
bayes_auto_learn 0
skip_rbl_checks 1
use_razor2 0
use_pyzor 0
dns_available no
EOF
spamd -L --max-children=1 --min-children=1 --listen="127.0.0.1:$SA_PORT" -x \
  --siteconfigpath="$SA_DIR" -u nobody --syslog=stderr >"$OUT/spamd.log" 2>&1 &
pids+=($!)
wait_port "$SA_PORT"
t0=$(now)
while read -r f; do
  s=$(spamc -d 127.0.0.1 -p "$SA_PORT" -c <"$f" || true)
  printf '%s\t%s\n' "$f" "${s%%/*}"
done <"$OUT/files.txt" >"$OUT/sa.tsv"
t1=$(now)
echo "$t0 $t1" >"$OUT/sa.time"

# --- Rspamd: the stock rules in /etc/rspamd with bench/rspamd/ as LOCAL_CONFDIR
# (local.d/override.d: network and Redis modules off, resolver on a closed
# loopback port, checks that need SMTP session data off; see the files there).
# The first start compiles Hyperscan databases (TLD list, maps, regexp classes):
# 30 s to over a minute of CPU on a loaded machine before anything listens,
# which is what looked like a hang. They are cached in OUT/rspamd-hs-cache
# (RS_HS_CACHE) and reused by later runs; RS_START_TIMEOUT bounds the wait.
RS_CONF=$(cd "$(dirname "$0")/rspamd" && pwd)
RS_DIR=$(mktemp -d)
RS_HS=${RS_HS_CACHE:-$OUT/rspamd-hs-cache}
mkdir -p "$RS_DIR/db" "$RS_DIR/run" "$RS_DIR/log" "$RS_HS"
RS_HS=$(cd "$RS_HS" && pwd)
rs_t0=$(now)
: >"$OUT/rspamd.log"
rspamd -f -i -c /etc/rspamd/rspamd.conf --var=LOCAL_CONFDIR="$RS_CONF" \
  --var=DBDIR="$RS_DIR/db" --var=RUNDIR="$RS_DIR/run" --var=LOGDIR="$RS_DIR/log" \
  --var=HS_CACHE_DIR="$RS_HS" --var=RS_PORT="$RS_PORT" >"$OUT/rspamd.log" 2>&1 &
rs_pid=$!
pids+=($rs_pid)
# Ready when the hs_helper has compiled the regexp classes (none left to do
# when the cache is warm) and the scanning worker has loaded them: until then
# it falls back to PCRE, which would slow the timed run down.
rs_ready=
for _ in $(seq 1 $((${RS_START_TIMEOUT:-1200} * 2))); do
  kill -0 "$rs_pid" 2>/dev/null || break
  compiled=$(sed -n 's/.*rspamd_rs_compile_cb: compiled \([0-9]*\) regular expressions.*/\1/p' \
    "$OUT/rspamd.log" | tail -1 || true)
  if [ -n "$compiled" ] && { [ "$compiled" = 0 ] ||
    grep -q '(normal).*hyperscan database of .* has been loaded' "$OUT/rspamd.log"; } &&
    (exec 3<>"/dev/tcp/127.0.0.1/$RS_PORT") 2>/dev/null; then
    rs_ready=1
    sleep 2 # the helper's "loaded" notice to the worker is postponed by 1 s
    break
  fi
  sleep 0.5
done
if [ -z "$rs_ready" ] && kill -0 "$rs_pid" 2>/dev/null &&
  (exec 3<>"/dev/tcp/127.0.0.1/$RS_PORT") 2>/dev/null; then
  echo "phish-peers: rspamd listens but has not loaded Hyperscan yet; scanning anyway" >&2
  rs_ready=1
fi
: >"$OUT/rspamc.out"
rm -f "$OUT/rs.time"
if [ -n "$rs_ready" ]; then
  awk -v a="$rs_t0" -v b="$(now)" 'BEGIN { printf "rspamd: ready after %.0f s\n", b - a }' >&2
  t0=$(now)
  # rspamc scans the files one at a time (-n 1) and prints a block per file.
  xargs -a "$OUT/files.txt" rspamc -h "127.0.0.1:$RS_PORT" -n 1 -t 60 >"$OUT/rspamc.out" 2>&1 || true
  t1=$(now)
  echo "$t0 $t1" >"$OUT/rs.time"
else
  echo "phish-peers: rspamd did not start (see $OUT/rspamd.log); no Rspamd figures" >&2
fi

python3 - "$OUT" "$OURS_RATE" <<'EOF'
import sys
out, ours_rate = sys.argv[1], float(sys.argv[2] or 0)
rows = [l.rstrip('\n').split('\t') for l in open(f'{out}/ours.tsv')]
label = {r[0]: r[1] == 'phish' for r in rows}
ours = {r[0]: r[2] == 'phishing' for r in rows}
ours_s = {r[0]: r[2] != 'legit' for r in rows}
sa = {}
for l in open(f'{out}/sa.tsv'):
    f, s = l.rstrip('\n').split('\t')
    try:
        sa[f] = float(s) >= 5.0
    except ValueError:
        sa[f] = False
# Rspamd: spam when its action is "add header" or stronger (stock thresholds:
# add header 6, rewrite subject 8, reject 15; greylist at 4 does not count).
rs, rs_rows, cur = {}, {}, None
for l in open(f'{out}/rspamc.out', errors='replace'):
    if l.startswith('Results for file: '):
        cur = l[len('Results for file: '):].rsplit(' (', 1)[0].strip()
    elif l.startswith('Action: ') and cur:
        act = l.split(':', 1)[1].strip()
        rs[cur] = act in ('add header', 'rewrite subject', 'reject')
        rs_rows[cur] = [act, '']
    elif l.startswith('Score: ') and cur in rs_rows:
        rs_rows[cur][1] = l.split(':', 1)[1].split('/')[0].strip()
with open(f'{out}/rs.tsv', 'w') as fh:
    for f, (act, score) in rs_rows.items():
        fh.write(f'{f}\t{act}\t{score}\n')
def metrics(pred):
    tp = sum(1 for f in label if label[f] and pred.get(f, False))
    fp = sum(1 for f in label if not label[f] and pred.get(f, False))
    fn = sum(1 for f in label if label[f] and not pred.get(f, False))
    tn = sum(1 for f in label if not label[f] and not pred.get(f, False))
    p = tp / (tp + fp) if tp + fp else 0
    r = tp / (tp + fn) if tp + fn else 0
    f1 = 2 * p * r / (p + r) if p + r else 0
    return p, r, f1, fp / (fp + tn) if fp + tn else 0, tp + fp + fn + tn
def rate(name):
    try:
        t0, t1 = map(float, open(f'{out}/{name}.time').read().split())
    except OSError:
        return 0.0
    return len(label) / (t1 - t0)
sa_rate, rs_rate = rate('sa'), rate('rs')
print('\n== side by side, held-out emails (phish vs ham)')
print(f"{'system':34} {'precision':>9} {'recall':>7} {'F1':>7} {'FPR':>8} {'msgs/s':>9} {'scanned':>8}")
systems = (('accountguard (verdict phishing)', ours, ours_rate),
                      ('accountguard (phishing|suspicious)', ours_s, ours_rate),
                      ('SpamAssassin 4 (local, >= 5.0)', sa, sa_rate),
                      ('Rspamd 3.4 (local, add header+)', rs, rs_rate))
for name, pred, r in systems:
    if not pred:
        print(f"{name:34} (no results)")
        continue
    p, rc, f1, fpr, n = metrics(pred)
    print(f"{name:34} {p:9.4f} {rc:7.4f} {f1:7.4f} {fpr*100:7.2f}% {r:9.1f} {len(pred):8d}")
print(f"\nmissing results: SpamAssassin {len(label)-len(sa)}, Rspamd {len(label)-len(rs)}")
if sa_rate:
    print(f"speed: accountguard {ours_rate:.0f}/s = {ours_rate/sa_rate:.0f}x SpamAssassin"
          + (f", {ours_rate/rs_rate:.0f}x Rspamd" if rs_rate else "")
          + " (ours: CPU time of one core; peers: wall time, one worker, sequential clients)")
EOF
