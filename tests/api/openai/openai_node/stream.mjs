// Streams one request through openai-node's own stream parser and prints every event it yields,
// one JSON line each, for tests/api/openai/test_openai_node.py.
// Usage: node stream.mjs <base-url> generate|edit <json-params> [image-path]
import { readFile } from "node:fs/promises";
import OpenAI, { toFile } from "openai";

const [baseURL, kind, params, imagePath] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "x", maxRetries: 0 });
const body = { ...JSON.parse(params), stream: true };
if (kind === "edit") {
  body.image = await toFile(await readFile(imagePath), "image.png", { type: "image/png" });
}
const stream =
  kind === "edit" ? await client.images.edit(body) : await client.images.generate(body);
for await (const event of stream) {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}
