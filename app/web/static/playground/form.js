// The form of one task for one model: the fields the model takes (GET /v1/models), each drawn
// from the task's request schema in the spec (types, ranges, choices) and narrowed by the model's
// own limits (its sizes, aspect ratios, ranges). The form does not block a submit: the gateway
// has the last word, and its problem+json is shown next to the fields it names.

/** Fields holding images: the main one is drawn on the canvas, the others are file inputs. */
export const IMAGE_FIELDS = new Set([
  "image",
  "images",
  "mask",
  "init_image",
  "style_image",
  "condition_image",
  "reference_image",
]);
/** The image a task edits, drawn (and masked) on the canvas: the first of these it takes. */
export const CANVAS_FIELDS = ["image", "init_image", "images"];

const FIRST = ["prompt", "search_prompt", "select_prompt", "mask_prompt", "negative_prompt", "n", "seed"];
const TEXT_AREAS = new Set(["prompt", "negative_prompt", "mask_prompt", "search_prompt", "select_prompt"]);
// Limits listing a field's allowed values, by field.
const CHOICES = {
  aspect_ratio: "aspect_ratios",
  output_format: "output_formats",
  style_preset: "style_presets",
  style: "styles",
};

/** The request schema of `task` in `spec`, its `$ref`s to enums resolved. */
export function taskSchema(spec, task) {
  const content = spec.paths[`/v1/images/${task}`].post.requestBody.content;
  return resolve(spec, content["application/json"].schema);
}

function resolve(spec, schema) {
  if (schema && schema.$ref) {
    return resolve(spec, spec.components.schemas[schema.$ref.split("/").pop()]);
  }
  return schema;
}

/** A property as one schema: its one non-null alternative or its enum, with its own keywords. */
function plain(spec, prop) {
  const { anyOf, $ref, ...own } = prop;
  const options = (anyOf || []).filter((option) => option.type !== "null");
  const base = options.length === 1 ? resolve(spec, options[0]) : $ref ? resolve(spec, { $ref }) : {};
  return { ...base, ...own };
}

function modelDefault(limits, name, task) {
  const value = (limits.defaults || {})[name];
  return value !== null && typeof value === "object" && !Array.isArray(value) ? value[task] : value;
}

/**
 * Describe the fields to show: [{name, kind, label, required, min, max, step, choices, ...}].
 * `taken` lists what the model takes for the task; `limits` is its `limits` object.
 */
export function describeFields(spec, task, taken, limits) {
  const schema = taskSchema(spec, task);
  const required = new Set(schema.required || []);
  const canvas = CANVAS_FIELDS.find((name) => taken.includes(name));
  const names = Object.keys(schema.properties).filter(
    (name) => taken.includes(name) && !["model", "mask", canvas].includes(name),
  );
  names.sort((a, b) => rank(a) - rank(b));
  const fields = [];
  const sizes = limits.sizes;
  for (const name of names) {
    if (sizes && (name === "width" || name === "height")) {
      if (name === "width") {
        fields.push({
          name: "size",
          kind: "size",
          label: "size",
          choices: sizes,
          placeholder: defaultSize(limits),
          errorsFor: ["width", "height", "size"],
          description: "The sizes the model makes (width x height).",
        });
      }
      continue;
    }
    const prop = plain(spec, schema.properties[name]);
    const field = {
      name,
      label: name.replaceAll("_", " "),
      required: required.has(name),
      description: prop.description || "",
      errorsFor: [name],
    };
    const fallback = modelDefault(limits, name, task) ?? prop.default;
    field.placeholder = fallback === undefined || fallback === null ? "" : String(fallback);
    const choices = CHOICES[name] && limits[CHOICES[name]];
    if (IMAGE_FIELDS.has(name)) {
      Object.assign(field, { kind: "file", multiple: name === "images" });
    } else if (Array.isArray(choices) && choices.length > 0) {
      Object.assign(field, { kind: "choice", choices });
    } else if (prop.enum) {
      Object.assign(field, { kind: "choice", choices: prop.enum });
    } else if (prop.type === "integer" || prop.type === "number") {
      const range = Array.isArray(limits[name]) && limits[name].length === 2 ? limits[name] : null;
      const rule = (name === "width" || name === "height") && limits.size_rule;
      Object.assign(field, {
        kind: "number",
        min: range ? range[0] : rule ? rule.min_side : prop.minimum,
        max: range ? range[1] : rule ? rule.max_side : prop.maximum,
        step: prop.type === "integer" ? (rule && rule.multiple_of) || 1 : "any",
      });
    } else if (prop.type === "array") {
      Object.assign(field, { kind: "list", placeholder: (prop.examples || [[]])[0].join(", ") });
    } else {
      Object.assign(field, {
        kind: TEXT_AREAS.has(name) ? "text" : "line",
        maxLength: TEXT_AREAS.has(name) ? limits.prompt_max_chars || prop.maxLength : prop.maxLength,
      });
    }
    fields.push(field);
  }
  return fields;
}

function rank(name) {
  const at = FIRST.indexOf(name);
  return at === -1 ? FIRST.length : at;
}

function defaultSize(limits) {
  const d = limits.defaults || {};
  return d.width && d.height ? `${d.width}x${d.height}` : "";
}

/** Build the inputs of `fields` into `container`, keeping the values in `kept` (by name). */
export function renderFields(container, fields, kept) {
  container.replaceChildren();
  for (const field of fields) {
    const label = document.createElement("label");
    label.className = `field field-${field.kind}`;
    const title = document.createElement("span");
    title.className = "field-name";
    title.textContent = field.label + (field.required ? " *" : "");
    label.append(title, input(field, kept[field.name]));
    if (field.description) {
      const help = document.createElement("small");
      help.textContent = field.description;
      label.append(help);
    }
    const error = document.createElement("span");
    error.className = "field-error";
    error.dataset.errorFor = field.errorsFor.join(" ");
    label.append(error);
    container.append(label);
  }
}

function input(field, value) {
  let element;
  if (field.kind === "choice" || field.kind === "size") {
    element = document.createElement("select");
    const none = new Option(field.placeholder ? `default (${field.placeholder})` : "default", "");
    element.append(none, ...field.choices.map((choice) => new Option(choice, choice)));
  } else if (field.kind === "file") {
    element = document.createElement("input");
    element.type = "file";
    element.accept = "image/png,image/jpeg,image/webp";
    element.multiple = field.multiple;
  } else if (field.kind === "text") {
    element = document.createElement("textarea");
    element.rows = field.name === "prompt" ? 3 : 2;
  } else {
    element = document.createElement("input");
    element.type = field.kind === "number" ? "number" : "text";
    for (const key of ["min", "max", "step"]) {
      if (field[key] !== undefined && field[key] !== null) {
        element[key] = field[key];
      }
    }
  }
  if (field.maxLength) {
    element.maxLength = field.maxLength;
  }
  if (field.kind !== "choice" && field.kind !== "size" && field.placeholder) {
    element.placeholder = field.placeholder;
  }
  element.name = field.name;
  element.dataset.kind = field.kind;
  if (value !== undefined && field.kind !== "file") {
    element.value = value;
  }
  return element;
}

/** The raw values of the inputs in `container`, by name (to keep them across re-renders). */
export function rawValues(container) {
  const values = {};
  for (const element of container.querySelectorAll("[name]:not([type=file])")) {
    values[element.name] = element.value;
  }
  return values;
}

/**
 * The request fields the form holds: empty inputs left out, numbers as numbers (text that is not
 * a number is sent as typed, for the gateway to name), a size as its width and height.
 */
export function collect(container) {
  const fields = {};
  for (const element of container.querySelectorAll("[name]:not([type=file])")) {
    const value = element.value.trim();
    if (value === "") {
      continue;
    }
    const kind = element.dataset.kind;
    if (kind === "size") {
      const [width, height] = value.split("x").map(Number);
      Object.assign(fields, { width, height });
    } else if (kind === "number") {
      fields[element.name] = Number.isNaN(Number(value)) ? value : Number(value);
    } else if (kind === "list") {
      fields[element.name] = value.split(/[\s,]+/).filter(Boolean);
    } else {
      fields[element.name] = kind === "text" || kind === "line" ? element.value : value;
    }
  }
  return fields;
}
