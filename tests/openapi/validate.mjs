// Validate an OpenAPI document with @apidevtools/swagger-parser and print
// its operations as "METHOD path" lines (for the route-table comparison).
// Usage: node validate.mjs docs/openapi.yaml
import SwaggerParser from "@apidevtools/swagger-parser";

const file = process.argv[2];
try {
  const api = await SwaggerParser.validate(file);
  for (const [path, item] of Object.entries(api.paths)) {
    for (const m of ["get", "post", "put", "patch", "delete"]) {
      if (item[m]) console.log(`${m.toUpperCase()} ${path}`);
    }
  }
} catch (e) {
  console.error(`openapi: ${file}: ${e.message}`);
  process.exit(1);
}
