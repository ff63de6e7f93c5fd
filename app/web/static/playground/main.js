// The playground: pick a task and a model, fill the form the model's fields make, draw a mask,
// send, see the images; every request can be copied as curl or Python.

import { apiKey, getJSON, send, setApiKey, urlOf } from "./api.js";
import { CANVAS_FIELDS, collect, describeFields, rawValues, renderFields } from "./form.js";
import { MaskEditor } from "./mask.js";
import * as snippets from "./snippets.js";

// The native tasks in the order the API reference lists them.
const TASKS = [
  "text-to-image",
  "inpaint",
  "outpaint",
  "variations",
  "image-to-image",
  "erase",
  "search-replace",
  "search-recolor",
  "remove-background",
  "upscale",
  "style-transfer",
  "style-guide",
  "control",
  "color-guided",
  "edit",
  "virtual-try-on",
];
const DEFAULT_CONVENTION = "black-is-edit";

const $ = (id) => document.getElementById(id);
const form = $("request");
const fieldsArea = $("fields");
const editor = new MaskEditor($("photo"), $("mask"));
const state = { spec: null, models: [], source: null, canvasField: null, last: null };

function show(element, visible) {
  element.hidden = !visible;
}

function setStatus(text) {
  $("status").textContent = text;
}

// --- models and the form --------------------------------------------------------------------

function nameOf(model) {
  return model.aliases[0] || model.id;
}

function taskOf(model, task) {
  return model.tasks.find((entry) => entry.task === task);
}

/** A price as /v1/models may give it: a number (USD per image) or {per_image, currency}. */
function priceText(price) {
  if (price === undefined || price === null) {
    return "";
  }
  if (typeof price === "number") {
    return `$${price} per image`;
  }
  return `${price.per_image} ${price.currency || "USD"} per image`;
}

function lifecycleText(model) {
  const dates = [];
  if (model.legacy_date) {
    dates.push(`legacy since ${model.legacy_date}`);
  }
  if (model.end_of_life) {
    dates.push(`end of life ${model.end_of_life}`);
  }
  return [model.status, ...dates].join(", ");
}

async function loadModels() {
  const answer = await getJSON("v1/models");
  if (answer.status === 401) {
    show($("key-box"), true);
    setStatus(apiKey() ? "The API key was refused." : "This gateway asks for an API key.");
    return;
  }
  if (answer.status !== 200 || answer.body === null) {
    setStatus(`GET /v1/models answered ${answer.status}.`);
    return;
  }
  state.models = answer.body.models;
  const served = TASKS.filter(
    (task) =>
      state.spec.paths[`/v1/images/${task}`] && state.models.some((model) => taskOf(model, task)),
  );
  const taskSelect = $("task");
  const chosen = taskSelect.value;
  taskSelect.replaceChildren(...served.map((task) => new Option(task, task)));
  taskSelect.value = served.includes(chosen) ? chosen : served[0];
  fillModels();
  setStatus("");
  document.body.dataset.ready = "true";
}

function fillModels() {
  const task = $("task").value;
  const models = state.models.filter((model) => taskOf(model, task));
  models.sort((a, b) => Number(taskOf(b, task).default) - Number(taskOf(a, task).default));
  const options = models.map((model) => {
    const details = [lifecycleText(model), priceText(model.price)].filter(Boolean).join(" · ");
    const mark = taskOf(model, task).default ? " (default)" : "";
    return new Option(`${nameOf(model)}${mark} - ${details}`, nameOf(model));
  });
  $("model").replaceChildren(...options);
  buildForm();
}

function chosenModel() {
  return state.models.find((model) => nameOf(model) === $("model").value);
}

function buildForm() {
  const task = $("task").value;
  const model = chosenModel();
  const taken = taskOf(model, task).fields;
  const kept = rawValues(fieldsArea);
  renderFields(fieldsArea, describeFields(state.spec, task, taken, model.limits), kept);
  state.canvasField = CANVAS_FIELDS.find((name) => taken.includes(name)) || null;
  $("image-error").dataset.errorFor = `${state.canvasField} image images`;
  show($("canvas-area"), state.canvasField !== null);
  show($("mask-tools"), taken.includes("mask"));
  show($("stage"), state.canvasField !== null && state.source !== null);
  $("submit").textContent = task === "text-to-image" ? "Generate" : `Run ${task}`;
  const price = priceText(model.price);
  $("model-info").textContent = [
    model.description || model.id,
    lifecycleText(model),
    price,
    `takes: ${taken.join(", ")}`,
  ]
    .filter(Boolean)
    .join(" · ");
  showMaskPreview();
}

// --- the image and its mask -----------------------------------------------------------------

async function useImage(blob, name) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob, {
      colorSpaceConversion: "none",
      premultiplyAlpha: "none",
    });
  } catch {
    $("image-error").textContent = `${name} is not an image this browser can read`;
    return;
  }
  $("image-error").textContent = "";
  state.source = { blob, name };
  editor.load(bitmap);
  $("stage").dataset.source = name;
  show($("stage"), state.canvasField !== null);
}

function convention() {
  const select = fieldsArea.querySelector("[name=mask_convention]");
  return (select && select.value) || DEFAULT_CONVENTION;
}

function showMaskPreview() {
  const visible = editor.painted && !$("mask-tools").hidden;
  show($("mask-preview"), visible);
  if (visible) {
    editor.render(convention(), $("mask-sent"));
    $("mask-convention-name").textContent = convention();
  }
}

// --- sending and showing the answer ---------------------------------------------------------

function clearErrors() {
  for (const element of form.querySelectorAll(".field-error")) {
    element.textContent = "";
  }
  $("problem").replaceChildren();
  show($("problem"), false);
}

function showProblem(answer) {
  const box = $("problem");
  const body = answer.body || {};
  const heading = document.createElement("strong");
  heading.textContent = `${answer.status} ${body.title || "The request failed"}`;
  const detail = document.createElement("p");
  detail.textContent = body.detail || "";
  box.replaceChildren(heading, detail);
  for (const error of body.errors || []) {
    const base = error.field.split(/[.[]/)[0];
    const place = form.querySelector(`[data-error-for~="${CSS.escape(base)}"]`);
    if (place) {
      place.textContent = place.textContent ? `${place.textContent}; ${error.message}` : error.message;
    } else {
      const line = document.createElement("p");
      line.textContent = `${error.field}: ${error.message}`;
      box.append(line);
    }
  }
  show(box, true);
  if (answer.status === 401) {
    show($("key-box"), true);
  }
}

function base64Blob(b64, type) {
  const bytes = Uint8Array.from(atob(b64), (char) => char.charCodeAt(0));
  return new Blob([bytes], { type });
}

function showResults(body, task) {
  const cards = body.images.map((image, index) => {
    const card = document.createElement("figure");
    card.className = "result";
    const caption = document.createElement("figcaption");
    const facts = [`seed ${image.seed ?? "-"}`, `model ${body.model}`];
    const cost = image.cost ?? body.cost;
    if (cost !== undefined && cost !== null) {
      facts.push(`cost ${cost}`);
    }
    if (image.finish_reason !== "success") {
      facts.push(`${image.finish_reason}${image.error ? `: ${image.error}` : ""}`);
    }
    caption.append(line(facts.join(" · ")));
    if (Object.keys(body.applied || {}).length > 0) {
      caption.append(line(`applied ${JSON.stringify(body.applied)}`));
    }
    for (const warning of body.warnings || []) {
      caption.append(line(`warning: ${warning}`, "warning"));
    }
    if (image.b64_json) {
      const type = image.mime_type || "image/png";
      const picture = document.createElement("img");
      picture.src = `data:${type};base64,${image.b64_json}`;
      picture.alt = `result ${index + 1}`;
      const name = `${task}-${image.seed ?? index}.${type.split("/")[1]}`;
      const download = document.createElement("a");
      download.href = picture.src;
      download.download = name;
      download.textContent = "Download";
      const reuse = document.createElement("button");
      reuse.type = "button";
      reuse.className = "use-as-input";
      reuse.textContent = "Use as input";
      reuse.addEventListener("click", () => reuseResult(base64Blob(image.b64_json, type), name));
      const actions = document.createElement("div");
      actions.className = "actions";
      actions.append(download, reuse);
      card.append(picture, caption, actions);
    } else {
      card.append(caption);
    }
    return card;
  });
  $("results").replaceChildren(...cards);
}

function line(text, className = "") {
  const element = document.createElement("span");
  element.textContent = text;
  element.className = className;
  return element;
}

async function reuseResult(blob, name) {
  if (state.canvasField === null) {
    // The task takes no image: go on with an edit of this one.
    $("task").value = "inpaint";
    fillModels();
  }
  await useImage(blob, name);
  $("canvas-area").scrollIntoView({ block: "start" });
}

async function submit(event) {
  event.preventDefault();
  clearErrors();
  const task = $("task").value;
  const fields = { model: $("model").value, ...collect(fieldsArea) };
  const files = {};
  if (state.canvasField !== null) {
    if (state.source === null) {
      $("image-error").textContent = "choose an image, or drop one here";
      return;
    }
    files[state.canvasField] = [{ blob: state.source.blob, name: state.source.name }];
  }
  const extra = [];
  if (!$("mask-tools").hidden && editor.painted) {
    files.mask = [{ blob: await editor.toBlob(convention()), name: "mask.png" }];
    if (convention() !== "alpha-is-edit") {
      // OpenAI's edits take the transparent-is-edit mask: offered for the SDK snippet.
      extra.push({ blob: await editor.toBlob("alpha-is-edit"), name: "mask-alpha.png" });
    }
  }
  for (const input of fieldsArea.querySelectorAll("input[type=file]")) {
    if (input.files.length > 0) {
      files[input.name] = [...input.files].map((file) => ({ blob: file, name: file.name }));
    }
  }
  const request = { task, path: `v1/images/${task}`, fields, files };
  $("submit").disabled = true;
  const started = performance.now();
  const n = fields.n || 1;
  setStatus(`Waiting for ${n} image${n === 1 ? "" : "s"}…`);
  const ticking = setInterval(() => {
    const seconds = Math.round((performance.now() - started) / 1000);
    setStatus(`Waiting for ${n} image${n === 1 ? "" : "s"}… ${seconds} s`);
  }, 1000);
  let answer;
  try {
    answer = await send(request);
  } catch (error) {
    answer = { status: 0, body: { title: "The gateway could not be reached", detail: String(error) } };
  } finally {
    clearInterval(ticking);
    $("submit").disabled = false;
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (answer.status === 200 && answer.body) {
    showResults(answer.body, task);
    setStatus(`${answer.body.images.length} image(s) in ${seconds} s`);
  } else {
    showProblem(answer);
    setStatus(`Refused (${answer.status}) in ${seconds} s`);
  }
  showSnippets(request, extra);
}

// --- the request as code --------------------------------------------------------------------

function showSnippets(request, extra) {
  const withKey = apiKey() !== "";
  const url = urlOf(request.path);
  const sent = Object.values(request.files).flat();
  const openaiFiles = {
    image: state.source && state.source.name,
    images: state.source && state.source.name,
    mask: request.files.mask && (extra.length > 0 ? extra[0].name : "mask.png"),
  };
  const texts = {
    curl: snippets.curl(request, url, withKey),
    httpx: snippets.httpx(request, url, withKey),
    openai:
      snippets.openai(request, urlOf("openai/v1"), withKey, openaiFiles) ||
      `# OpenAI's Images API has no ${request.task} request: use the httpx version.`,
  };
  for (const [kind, text] of Object.entries(texts)) {
    $(`snippet-${kind}`).textContent = text;
  }
  const files = $("snippet-files");
  files.replaceChildren();
  if (sent.length + extra.length > 0) {
    files.append("The files they send, to save beside them: ");
    for (const file of [...sent, ...extra]) {
      const link = document.createElement("a");
      link.href = URL.createObjectURL(file.blob);
      link.download = file.name;
      link.textContent = file.name;
      files.append(link, " ");
    }
  }
  state.last = texts;
  show($("snippets"), true);
}

async function copy(kind) {
  const text = state.last[kind];
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No clipboard API (a page served over plain HTTP beyond localhost): copy the selection.
    const range = document.createRange();
    range.selectNodeContents($(`snippet-${kind}`));
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    document.execCommand("copy");
  }
  $("copied").textContent = `Copied the ${kind} version.`;
}

// --- wiring ---------------------------------------------------------------------------------

function wire() {
  const keyInput = $("api-key");
  keyInput.value = apiKey();
  show($("key-box"), apiKey() !== "");
  keyInput.addEventListener("change", () => {
    setApiKey(keyInput.value.trim());
    loadModels();
  });
  $("task").addEventListener("change", fillModels);
  $("model").addEventListener("change", buildForm);
  fieldsArea.addEventListener("change", (event) => {
    if (event.target.name === "mask_convention") {
      showMaskPreview();
    }
  });
  form.addEventListener("submit", submit);
  $("image-file").addEventListener("change", (event) => {
    const [file] = event.target.files;
    if (file) {
      useImage(file, file.name);
    }
  });
  const drop = $("canvas-area");
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("dragging");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("dragging"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("dragging");
    const [file] = event.dataTransfer.files;
    if (file) {
      useImage(file, file.name);
    }
  });
  for (const radio of form.querySelectorAll("input[name=tool]")) {
    radio.addEventListener("change", () => {
      editor.tool = radio.value;
    });
  }
  $("brush-size").addEventListener("input", (event) => {
    editor.size = Number(event.target.value);
  });
  $("mask-clear").addEventListener("click", () => editor.clear());
  editor.onchange = showMaskPreview;
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", () => copy(button.dataset.copy));
  }
}

async function start() {
  wire();
  const spec = await getJSON("openapi.json");
  state.spec = spec.body;
  await loadModels();
}

start();
