// Validate STIX 2.1 bundles against the OASIS JSON schemas with ajv.
//
// Usage: node validate-stix.mjs [--schemas DIR] [--expect-invalid] FILE...
// The schema directory defaults to $AG_STIX_SCHEMAS, else
// <repo>/../shared/stix2.1/schemas. Every FILE must hold one bundle; the
// script prints each failure with its JSON pointer and exits 1 if any file
// fails (with --expect-invalid: if any file passes), 2 on usage errors.
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
let schemaDir = process.env.AG_STIX_SCHEMAS || resolve(here, "../../../shared/stix2.1/schemas");
let expectInvalid = false;
const files = [];
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--schemas") schemaDir = args[++i];
  else if (args[i] === "--expect-invalid") expectInvalid = true;
  else files.push(args[i]);
}
if (files.length === 0) {
  console.error("usage: validate-stix.mjs [--schemas DIR] [--expect-invalid] FILE...");
  process.exit(2);
}

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".json") ? [p] : [];
  });
}

// The OASIS schemas escape "-" in patterns, which the "u" flag rejects.
const ajv = new Ajv2020({ strict: false, allErrors: true, unicodeRegExp: false });
addFormats(ajv);
// ajv-formats has no "idn-hostname" (domain-name.value uses it): let the URL
// parser, which applies IDNA, decide.
ajv.addFormat("idn-hostname", (s) => {
  if (s.length === 0 || /[\s/?#@:\[\]\\]/.test(s)) return false;
  try {
    return new URL(`http://${s}/`).hostname.length > 0;
  } catch {
    return false;
  }
});
let bundleId = null;
for (const p of walk(schemaDir)) {
  const schema = JSON.parse(readFileSync(p, "utf8"));
  ajv.addSchema(schema);
  if (p.endsWith(join("common", "bundle.json"))) bundleId = schema.$id;
}
if (!bundleId) {
  console.error(`no common/bundle.json under ${schemaDir}`);
  process.exit(2);
}
const validate = ajv.getSchema(bundleId);

let bad = 0;
for (const f of files) {
  let doc;
  try {
    doc = JSON.parse(readFileSync(f, "utf8"));
  } catch (e) {
    console.error(`${f}: not JSON: ${e.message}`);
    bad++;
    continue;
  }
  const ok = validate(doc);
  if (ok === expectInvalid) {
    bad++;
    if (ok) {
      console.error(`${f}: valid, but it was expected to fail`);
    } else {
      console.error(`${f}: INVALID`);
      for (const e of validate.errors.slice(0, 20))
        console.error(`  ${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
    }
  } else {
    console.log(`${f}: ${ok ? "valid" : "invalid as expected"}`);
  }
}
process.exit(bad ? 1 : 0);
