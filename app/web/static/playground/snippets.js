// The request just made, as code to run elsewhere: curl, Python with httpx, Python with the
// OpenAI SDK (for the three tasks OpenAI's Images API has). Files are named as the page offers
// them for download; the API key is read from $GATEWAY_API_KEY, never written out.

/** One shell word: single-quoted, with its own single quotes escaped. */
function shell(text) {
  return `'${String(text).replaceAll("'", "'\\''")}'`;
}

/** A Python literal for a JSON value (strings, numbers, lists, objects). */
function python(value) {
  if (Array.isArray(value)) {
    return `[${value.map(python).join(", ")}]`;
  }
  if (value !== null && typeof value === "object") {
    return `{${Object.entries(value)
      .map(([key, item]) => `${JSON.stringify(key)}: ${python(item)}`)
      .join(", ")}}`;
  }
  if (typeof value === "boolean") {
    return value ? "True" : "False";
  }
  return value === null ? "None" : JSON.stringify(value);
}

function fileNames(request) {
  return Object.entries(request.files).flatMap(([field, files]) =>
    files.map((file) => [field, file.name]),
  );
}

/** curl: JSON with -d, multipart with --form-string for text (never read as @file) and -F. */
export function curl(request, url, withKey) {
  const lines = [`curl -sS ${shell(url)}`];
  if (withKey) {
    lines.push(`-H "Authorization: Bearer $GATEWAY_API_KEY"`);
  }
  if (Object.keys(request.files).length === 0) {
    lines.push("-H 'Content-Type: application/json'", `-d ${shell(JSON.stringify(request.fields))}`);
  } else {
    for (const [name, value] of Object.entries(request.fields)) {
      for (const item of Array.isArray(value) ? value : [value]) {
        lines.push(`--form-string ${shell(`${name}=${item}`)}`);
      }
    }
    for (const [field, name] of fileNames(request)) {
      lines.push(`-F ${shell(`${field}=@${name}`)}`);
    }
  }
  return lines.join(" \\\n  ");
}

/** Python with httpx: the same body, the answer's images written to files. */
export function httpx(request, url, withKey) {
  const args = [`    ${JSON.stringify(url)},`];
  if (Object.keys(request.files).length === 0) {
    args.push(`    json=${python(request.fields)},`);
  } else {
    const data = Object.fromEntries(
      Object.entries(request.fields).map(([name, value]) => [
        name,
        Array.isArray(value) ? value.map(String) : String(value),
      ]),
    );
    const files = fileNames(request).map(
      ([field, name]) => `(${JSON.stringify(field)}, open(${JSON.stringify(name)}, "rb"))`,
    );
    args.push(`    data=${python(data)},`, `    files=[${files.join(", ")}],`);
  }
  if (withKey) {
    args.push(`    headers={"Authorization": f"Bearer {os.environ['GATEWAY_API_KEY']}"},`);
  }
  args.push("    timeout=300,");
  return [
    "import base64",
    ...(withKey ? ["import os"] : []),
    "",
    "import httpx",
    "",
    "response = httpx.post(",
    ...args,
    ")",
    "response.raise_for_status()",
    "for i, image in enumerate(response.json()[\"images\"]):",
    "    with open(f\"image-{i}-seed-{image['seed']}.png\", \"wb\") as out:",
    "        out.write(base64.b64decode(image[\"b64_json\"]))",
  ].join("\n");
}

const OPENAI_QUALITY = { standard: "standard", premium: "hd" };

/**
 * Python with the OpenAI SDK against the gateway's OpenAI-compatible surface. OpenAI's own
 * parameters are named; the native fields go in `extra_body`. `files` names the files the SDK
 * sends (its edits take an alpha-is-edit mask). Null when OpenAI's Images API lacks the task.
 */
export function openai(request, baseUrl, withKey, files) {
  const fields = { ...request.fields };
  const named = [];
  let call;
  if (request.task === "text-to-image") {
    call = "client.images.generate";
  } else if (request.task === "inpaint" && files.mask) {
    call = "client.images.edit";
    named.push(`image=open(${JSON.stringify(files.image)}, "rb")`);
    named.push(`mask=open(${JSON.stringify(files.mask)}, "rb")`);
    delete fields.mask_convention;
  } else if (request.task === "variations" && files.images) {
    call = "client.images.create_variation";
    named.push(`image=open(${JSON.stringify(files.images)}, "rb")`);
  } else {
    return null;
  }
  for (const name of ["model", "prompt", "n"]) {
    if (fields[name] !== undefined) {
      named.push(`${name}=${python(fields[name])}`);
      delete fields[name];
    }
  }
  if (fields.width !== undefined && fields.height !== undefined) {
    named.push(`size=${python(`${fields.width}x${fields.height}`)}`);
    delete fields.width;
    delete fields.height;
  }
  if (fields.quality in OPENAI_QUALITY) {
    named.push(`quality=${python(OPENAI_QUALITY[fields.quality])}`);
    delete fields.quality;
  }
  if (Object.keys(fields).length > 0) {
    named.push(`extra_body=${python(fields)}`);
  }
  const key = withKey ? 'os.environ["GATEWAY_API_KEY"]' : '"unused"';
  return [
    "import base64",
    ...(withKey ? ["import os"] : []),
    "",
    "from openai import OpenAI",
    "",
    `client = OpenAI(base_url=${JSON.stringify(baseUrl)}, api_key=${key})`,
    `result = ${call}(`,
    ...named.map((argument) => `    ${argument},`),
    ")",
    "for i, image in enumerate(result.data):",
    "    with open(f\"image-{i}.png\", \"wb\") as out:",
    "        out.write(base64.b64decode(image.b64_json))",
  ].join("\n");
}
