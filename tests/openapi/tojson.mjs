// Print docs/openapi.yaml as JSON (for Python tests without a YAML module),
// with every $ref resolved.
import SwaggerParser from "@apidevtools/swagger-parser";
const api = await SwaggerParser.dereference(process.argv[2]);
process.stdout.write(JSON.stringify(api));
