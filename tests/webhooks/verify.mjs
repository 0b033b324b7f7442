// Verify webhook deliveries with the Standard Webhooks reference library.
// Reads one JSON object per line on stdin: {"secret": "whsec_...",
// "headers": {...}, "body": "<raw body>"}; writes one JSON line per input:
// {"ok": true, "payload": {...}} or {"ok": false, "error": "..."}.
// Used by tests/api/test_notify_webhooks.py.
import { createInterface } from "node:readline";
import { Webhook } from "standardwebhooks";

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  if (!line.trim()) continue;
  let out;
  try {
    const { secret, headers, body } = JSON.parse(line);
    const payload = new Webhook(secret).verify(body, headers);
    out = { ok: true, payload };
  } catch (e) {
    out = { ok: false, error: String(e && e.message ? e.message : e) };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}
