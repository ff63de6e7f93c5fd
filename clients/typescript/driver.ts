// Drives the client @hey-api/openapi-ts generated from openapi/openapi.json against a live gateway.
//
//   node dist/driver.js BASE_URL SPEC
//
// Every operation of the spec is called: GET /v1/models (and ?task=), GET /v1/models/{model_id},
// text-to-image and color-guided with JSON bodies through their SDK functions, and every edit task twice, with a JSON body (base64 images)
// through its SDK function and with a multipart body that uploads real images from tests/data.
// hey-api generates one request media type per operation and takes JSON when a body offers
// several (hey-api/hey-api#2311), so multipart goes through the generated client's `post` with
// the generated `*RequestMultipart` type and the generated form-data serializer. Binary answers
// (Accept: image/png, jpeg, webp) come back as Blobs: the client parses by the answer's type.
// The bodies each task's check had answered are queued again as jobs (submit<Task>Job), every job
// polled to success (getJob), its images fetched by signed URL (getFile), one cancelled (cancelJob).
// A batch (a JSONL file) is submitted (submitBatch; one with a bad line is refused, naming it),
// polled until it completes (getBatch), its result file fetched by signed URL (getFile), and
// another batch cancelled (cancelBatch).
// An interceptor records every answer, and the run fails unless each request media type of each
// operation and each media type of the 200 answers was answered at least once.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { imageSize } from "image-size";

import { client } from "./generated/client.gen.js";
import { formDataBodySerializer } from "./generated/client/index.js";
import * as sdk from "./generated/sdk.gen.js";
import {
  cancelBatch,
  cancelJob,
  getBatch,
  getFile,
  getJob,
  getModel,
  getUsage,
  listModels,
  submitBatch,
  submitTextToImageJob,
} from "./generated/sdk.gen.js";
import type {
  BatchOut,
  ControlRequestMultipart,
  EditRequestMultipart,
  EraseRequestMultipart,
  ImagesResponse,
  JobOut,
  ImageToImageRequestMultipart,
  InpaintRequestMultipart,
  OutpaintRequestMultipart,
  Problem,
  RemoveBackgroundRequestMultipart,
  SearchRecolorRequestMultipart,
  SearchReplaceRequestMultipart,
  StyleGuideRequestMultipart,
  StyleTransferRequestMultipart,
  UpscaleRequestMultipart,
  VariationsRequestMultipart,
  VirtualTryOnRequestMultipart,
} from "./generated/types.gen.js";

const DATA = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "tests", "data");
type Size = readonly [number, number];
const COFFEE: Size = [600, 400];
const CHELSEA: Size = [451, 300];
const ASTRONAUT: Size = [512, 512];
const ROCKET: Size = [640, 427];
const FORMATS: Record<string, string> = { "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp" };

/** What a generated call resolves to (responseStyle "fields"), whatever its operation. */
interface Answer {
  data?: unknown;
  error?: unknown;
  response: Response;
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) {
    throw new Error(message);
  }
}

function bytes(name: string): Buffer {
  return readFileSync(join(DATA, name));
}

/** A test image as a file part, with its name and type as a browser would send them. */
function upload(name: string): File {
  const type = name.endsWith(".jpg") ? "image/jpeg" : "image/png";
  return new File([new Uint8Array(bytes(name))], name, { type });
}

/** A test image in base64, as JSON bodies carry it. */
function b64(name: string): string {
  return bytes(name).toString("base64");
}

function sizeOf(data: Uint8Array, mime: string): Size {
  const found = imageSize(data);
  check(found.type === FORMATS[mime], `${mime} stated, the bytes are ${found.type}`);
  return [found.width, found.height];
}

function sameSize(got: Size, want: Size): boolean {
  return got[0] === want[0] && got[1] === want[1];
}

function isImagesResponse(data: unknown): data is ImagesResponse {
  return typeof data === "object" && data !== null && Array.isArray((data as ImagesResponse).images);
}

/** A 200 with `n` images of `size` pixels from `model`, each of its stated type. */
function expectImages(answer: Answer, n: number, size: Size, model: string): void {
  const { data, response } = answer;
  check(
    response.status === 200 && isImagesResponse(data),
    `expected 200 with images, got ${response.status}: ${JSON.stringify(answer.error ?? data)}`,
  );
  check(data.model === model, `served by ${data.model}, expected ${model}`);
  check(response.headers.get("served-model") === model, "Served-Model header");
  check(data.images.length === n, `${data.images.length} images, expected ${n}`);
  for (const image of data.images) {
    check(image.finish_reason === "success", `finish_reason ${image.finish_reason}`);
    check(typeof image.b64_json === "string", "no b64_json");
    check(typeof image.mime_type === "string", "no mime_type");
    const got = sizeOf(Buffer.from(image.b64_json, "base64"), image.mime_type);
    check(sameSize(got, size), `image of ${got}, expected ${size}`);
  }
}

/** A 200 whose body is the image itself, parsed by the client as a Blob. */
async function expectBinary(answer: Answer, accept: string, size: Size): Promise<void> {
  const { data, response } = answer;
  check(response.status === 200, `${accept}: ${response.status} ${JSON.stringify(answer.error)}`);
  check(response.headers.get("content-type") === accept, `content-type for ${accept}`);
  check(response.headers.get("finish-reason") === "success", "Finish-Reason header");
  check(data instanceof Blob, `${accept} answer parsed as ${typeof data}, not a Blob`);
  const got = sizeOf(new Uint8Array(await data.arrayBuffer()), accept);
  check(sameSize(got, size), `binary image of ${got}, expected ${size}`);
}

/** POST a multipart body of a generated `*RequestMultipart` type through the generated client. */
async function postMultipart(url: string, body: object, accept = "application/json"): Promise<Answer> {
  const answer = await client.post<Record<number, unknown>, Problem, false>({
    url,
    body,
    ...formDataBodySerializer,
    // fetch writes the multipart Content-Type itself, boundary included
    headers: { "Content-Type": null, Accept: accept },
  });
  const task = url.slice("/v1/images/".length);
  if (url.startsWith("/v1/images/") && answer.response.status === 200 && !FORMS.has(task)) {
    FORMS.set(task, body);
  }
  return answer;
}

function isJob(data: unknown): data is JobOut {
  return typeof data === "object" && data !== null && typeof (data as JobOut).status_url === "string";
}

/** A 202 whose body is the queued job and whose Location is its status URL. */
function expectJob(answer: Answer, task: string): void {
  const { data, response } = answer;
  check(
    response.status === 202 && isJob(data),
    `${task}: expected 202 with the job, got ${response.status}: ${JSON.stringify(answer.error ?? data)}`,
  );
  check(response.headers.get("location") === data.status_url, "Location is the status URL");
  check(data.task === task && data.status !== "failed", `job ${JSON.stringify(data)}`);
  JOBS.push(data);
}

/** The check of `submit<Task>Job`: the bodies the task's own check had answered, queued. */
function submitCheck(task: string, operationId: string): () => Promise<void> {
  return async () => {
    const submit = (sdk as unknown as Record<string, (options: { body: unknown }) => Promise<Answer>>)[
      operationId
    ];
    check(submit !== undefined, `no SDK function ${operationId}`);
    const json = JSON_BODIES.get(task);
    check(json !== undefined, `${task}: its check had no JSON body answered 200`);
    expectJob(await submit({ body: json }), task);
    const form = FORMS.get(task);
    if (form !== undefined) {
      expectJob(await postMultipart(`/v1/jobs/${task}`, form), task);
    }
  };
}

const JOB_CHECKS: Record<string, () => Promise<void>> = {
  async getJob() {
    check(JOBS.length >= 26, `${JOBS.length} jobs submitted`);
    for (const job of JOBS) {
      const { data, response } = await getJob({ path: { job_id: job.id }, query: { wait: 60 } });
      check(response.status === 200 && data !== undefined, `getJob ${job.id}`);
      check(data.status === "succeeded", `${data.task}: ${JSON.stringify(data)}`);
      check(data.images.length > 0 && data.images.every((image) => image.url), "image URLs");
      check(data.progress === 1 && typeof data.finished_at === "number", "progress, finished_at");
      FINISHED.push(data);
    }
    const missing = await getJob({ path: { job_id: "job_0" } });
    check(missing.response.status === 404 && missing.error !== undefined, "404 problem");
  },

  async getFile() {
    for (const job of FINISHED) {
      for (const image of job.images) {
        const url = new URL(image.url ?? "");
        const name = url.pathname.split("/").pop() ?? "";
        const query = { expires: url.searchParams.get("expires"), signature: url.searchParams.get("signature") };
        const { data, response } = await getFile({ path: { name }, query });
        check(response.status === 200 && data instanceof Blob, `getFile ${name}: ${response.status}`);
        const mime = image.mime_type ?? "image/png";
        check(response.headers.get("content-type") === mime, `${name} is ${mime}`);
        const got = sizeOf(new Uint8Array(await data.arrayBuffer()), mime);
        check(got[0] > 0 && got[1] > 0, `${name} decodes`);
      }
    }
    const url = new URL(FINISHED[0]?.images[0]?.url ?? "");
    const altered = await getFile({
      path: { name: url.pathname.split("/").pop() ?? "" },
      query: { expires: url.searchParams.get("expires"), signature: "0" },
    });
    check(altered.response.status === 403 && altered.error !== undefined, "403 problem");
  },

  async cancelJob() {
    const submitted = await submitTextToImageJob({ body: { prompt: "a lighthouse", width: 512, height: 512 } });
    check(isJob(submitted.data), "submitted");
    const { data, response } = await cancelJob({ path: { job_id: submitted.data.id } });
    check(response.status === 200 && data !== undefined, "cancelJob");
    check(data.status === "cancelled" || data.status === "succeeded", `after cancel: ${data.status}`);
    const missing = await cancelJob({ path: { job_id: "job_0" } });
    check(missing.response.status === 404 && missing.error !== undefined, "404 problem");
  },

  // Last: this run's spend (the calling key's, anonymous here), every row summed in the totals.
  async getUsage() {
    const { data, response } = await getUsage();
    check(response.status === 200 && data !== undefined, "getUsage");
    check(data.key === "anonymous", `usage of ${data.key}`);
    check(data.images > 0 && data.cost_usd > 0, `usage ${JSON.stringify(data)}`);
    const images = data.usage.reduce((sum, row) => sum + row.images, 0);
    const spent = data.usage.reduce((sum, row) => sum + row.cost_usd, 0);
    check(images === data.images, "rows sum to the images");
    check(Math.abs(spent - data.cost_usd) < 1e-6, `rows sum to $${spent}, total $${data.cost_usd}`);
    const after = new Date(Date.parse(data.to) + 86_400_000).toISOString().slice(0, 10);
    const backwards = await getUsage({ query: { from: after, to: data.to } });
    check(backwards.response.status === 422 && backwards.error !== undefined, "422 problem");
  },
};

// Batches: one of three text-to-image lines polled to its end and its result file read; another
// cancelled.
const BATCHES: BatchOut[] = [];

/** `count` text-to-image lines, each with its custom_id, as a JSONL file. */
function kiteLines(count: number, extra: object[] = []): Blob {
  const lines = [...Array(count).keys()].map((i) => ({
    custom_id: `kite-${i}`,
    task: "text-to-image",
    body: { prompt: `a kite, number ${i}`, width: 512, height: 512 },
  }));
  const text = [...lines, ...extra].map((line) => JSON.stringify(line) + "\n").join("");
  return new Blob([text], { type: "application/jsonl" });
}

const BATCH_CHECKS: Record<string, () => Promise<void>> = {
  async submitBatch() {
    const { data, response } = await submitBatch({ body: kiteLines(3) });
    check(response.status === 202 && data !== undefined, `submitBatch: ${response.status}`);
    check(response.headers.get("location") === data.status_url, "Location is the status URL");
    check(data.counts.total === 3, `batch ${JSON.stringify(data)}`);
    BATCHES.push(data);
    const typo = { custom_id: "typo", task: "text-to-imag", body: { prompt: "a kite" } };
    const refused = await submitBatch({ body: kiteLines(1, [typo]) });
    check(refused.response.status === 422 && refused.error !== undefined, "422 problem");
    const reported = (refused.error as unknown as { lines: { line: number; custom_id: string }[] }).lines;
    check(reported.length === 1 && reported[0]?.line === 2 && reported[0]?.custom_id === "typo", "bad line named");
  },

  async getBatch() {
    check(BATCHES.length === 1, "a batch was submitted");
    let done = BATCHES[0] as BatchOut;
    for (let round = 0; round < 5 && done.status !== "completed"; round += 1) {
      const { data, response } = await getBatch({ path: { batch_id: done.id }, query: { wait: 60 } });
      check(response.status === 200 && data !== undefined, `getBatch ${done.id}`);
      done = data;
    }
    check(done.status === "completed" && done.counts.succeeded === 3, `batch ${JSON.stringify(done)}`);
    const url = new URL(done.result_url ?? "");
    const query = { expires: url.searchParams.get("expires"), signature: url.searchParams.get("signature") };
    // The client would parse application/jsonl as one JSON document (its type names json).
    const name = url.pathname.split("/").pop() ?? "";
    const { data, response } = await getFile({ path: { name }, query, parseAs: "blob" });
    check(response.status === 200 && data instanceof Blob, `result file: ${response.status}`);
    check(response.headers.get("content-type") === "application/jsonl", "result file type");
    const rows = (await data.text())
      .split("\n")
      .filter((row) => row)
      .map((row) => JSON.parse(row) as { custom_id: string; status: string; images: { url: string }[] });
    const ids = rows.map((row) => row.custom_id).sort();
    check(JSON.stringify(ids) === JSON.stringify(["kite-0", "kite-1", "kite-2"]), `rows ${ids}`);
    check(rows.every((row) => row.status === "succeeded" && row.images[0]?.url), "rows succeeded with URLs");
    const missing = await getBatch({ path: { batch_id: "batch_0" } });
    check(missing.response.status === 404 && missing.error !== undefined, "404 problem");
  },

  async cancelBatch() {
    const submitted = await submitBatch({ body: kiteLines(2) });
    check(submitted.data !== undefined, "submitted");
    const { data, response } = await cancelBatch({ path: { batch_id: submitted.data.id } });
    check(response.status === 200 && data !== undefined, "cancelBatch");
    // `cancelling` when a worker was recording the last line as the cancel came: it ends it.
    check(["cancelled", "cancelling", "completed"].includes(data.status), `after cancel: ${data.status}`);
    const counts = data.counts;
    check(counts.succeeded + counts.cancelled + counts.failed === 2, `counts ${JSON.stringify(counts)}`);
    const missing = await cancelBatch({ path: { batch_id: "batch_0" } });
    check(missing.response.status === 404 && missing.error !== undefined, "404 problem");
  },
};

const TITAN = "amazon.titan-image-generator-v1";
const PROMPTLESS = new Set([
  "variations",
  "erase",
  "remove-background",
  "upscale",
  "style-transfer",
  "virtual-try-on",
]);
const TASKS = new Set<string>();

// Jobs: the first body each task's check had answered 200 (JSON through its SDK function, and the
// multipart form) is queued again as a job; every job is then polled, its images fetched by their
// signed URLs, and one job cancelled.
const JSON_BODIES = new Map<string, unknown>();
const FORMS = new Map<string, object>();
const JOBS: JobOut[] = [];
const FINISHED: JobOut[] = [];

/** The SDK function `call` of `task`, keeping the first body answered 200. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function remembered<F extends (options: any) => Promise<{ response: Response }>>(task: string, call: F): F {
  const wrapped = async (options: { body?: unknown }) => {
    const answer = await call(options);
    if (answer.response.status === 200 && !JSON_BODIES.has(task)) {
      JSON_BODIES.set(task, options.body);
    }
    return answer;
  };
  return wrapped as unknown as F;
}

const colorGuided = remembered("color-guided", sdk.colorGuided);
const control = remembered("control", sdk.control);
const edit = remembered("edit", sdk.edit);
const erase = remembered("erase", sdk.erase);
const imageToImage = remembered("image-to-image", sdk.imageToImage);
const inpaint = remembered("inpaint", sdk.inpaint);
const outpaint = remembered("outpaint", sdk.outpaint);
const removeBackground = remembered("remove-background", sdk.removeBackground);
const searchRecolor = remembered("search-recolor", sdk.searchRecolor);
const searchReplace = remembered("search-replace", sdk.searchReplace);
const styleGuide = remembered("style-guide", sdk.styleGuide);
const styleTransfer = remembered("style-transfer", sdk.styleTransfer);
const textToImage = remembered("text-to-image", sdk.textToImage);
const upscale = remembered("upscale", sdk.upscale);
const variations = remembered("variations", sdk.variations);
const virtualTryOn = remembered("virtual-try-on", sdk.virtualTryOn);

const CHECKS: Record<string, () => Promise<void>> = {
  async listModels() {
    const { data, response } = await listModels();
    check(response.status === 200 && data !== undefined, "listModels");
    const ids = new Set(data.models.map((model) => model.id));
    for (const expected of [TITAN, "stability.sd3-5-large-v1:0"]) {
      check(ids.has(expected), `${expected} not listed`);
    }
    const tasks = new Set(data.models.flatMap((model) => model.tasks.map((task) => task.task)));
    check(
      tasks.size === TASKS.size && [...TASKS].every((task) => tasks.has(task)),
      `tasks listed ${[...tasks].sort()}, spec has ${[...TASKS].sort()}`,
    );
    for (const model of data.models) {
      check(model.tasks.length > 0 && model.region !== "", `${model.id} lists no task or region`);
      for (const task of model.tasks) {
        check(task.fields.includes("prompt") || PROMPTLESS.has(task.task), `${model.id} ${task.task}`);
      }
    }
    const upscalers = await listModels({ query: { task: "upscale" } });
    const modes = (upscalers.data?.models ?? []).map((model) => model.selector.mode).sort();
    check(
      JSON.stringify(modes) === JSON.stringify(["conservative", "creative", "fast"]),
      `upscalers by mode: ${modes}`,
    );
  },

  async getModel() {
    const { data, response } = await getModel({ path: { model_id: "sd3.5-large" } });
    check(response.status === 200 && data !== undefined, "getModel");
    check(data.id === "stability.sd3-5-large-v1:0", `getModel gave ${data.id}`);
    const missing = await getModel({ path: { model_id: "titna" } });
    check(
      missing.response.status === 404 &&
        (missing.error?.detail ?? "").includes("did you mean 'titan'?"),
      `404 problem ${JSON.stringify(missing.error)}`,
    );
  },

  async textToImage() {
    const titan = await textToImage({
      body: { model: "titan", prompt: "a lighthouse at dusk", n: 2, width: 1152, height: 768 },
    });
    expectImages(titan, 2, [1152, 768], TITAN);
    const sd35 = await textToImage({
      body: { model: "sd3.5-large", prompt: "a lighthouse", aspect_ratio: "16:9" },
    });
    expectImages(sd35, 1, [1344, 768], "stability.sd3-5-large-v1:0");
    const refused = await textToImage({
      body: { model: "titan", prompt: "x", width: 1000, height: 1000 },
    });
    check(refused.response.status === 422, `expected 422, got ${refused.response.status}`);
    check(
      refused.error?.status === 422 && (refused.error.errors ?? []).length > 0,
      `problem ${JSON.stringify(refused.error)}`,
    );
    for (const accept of ["image/png", "image/jpeg", "image/webp"]) {
      const answer = await textToImage({
        body: { model: "titan", prompt: "a lighthouse", width: 1024, height: 1024, seed: 42 },
        headers: { Accept: accept },
      });
      await expectBinary(answer, accept, [1024, 1024]);
    }
  },

  async colorGuided() {
    const answer = await colorGuided({
      body: { model: "titan-v2", prompt: "a living room", colors: ["#FF8800", "#0044AA"] },
    });
    expectImages(answer, 1, [1024, 1024], "amazon.titan-image-generator-v2:0");
  },

  async inpaint() {
    const form: InpaintRequestMultipart = {
      image: upload("coffee.png"),
      mask: upload("coffee-mask-black-edit.png"),
      model: "titan",
      prompt: "a latte",
      seed: 7,
      cfg_scale: 6.5,
    };
    const seeded = await postMultipart("/v1/images/inpaint", form);
    expectImages(seeded, 1, COFFEE, TITAN);
    check(isImagesResponse(seeded.data) && seeded.data.images[0]?.seed === 7, "seed sent as 7");
    const json = await inpaint({
      body: {
        image: b64("coffee.png"),
        mask: b64("coffee-mask-alpha-edit.png"),
        mask_convention: "alpha-is-edit",
        model: "titan",
        prompt: "a latte",
      },
    });
    expectImages(json, 1, COFFEE, TITAN);
  },

  async outpaint() {
    const model = "stability.stable-outpaint-v1:0";
    const form: OutpaintRequestMultipart = {
      image: upload("chelsea.png"),
      model: "stability-outpaint",
      left: 64,
      right: 36,
      prompt: "a sofa",
    };
    const wider: Size = [CHELSEA[0] + 100, CHELSEA[1]];
    expectImages(await postMultipart("/v1/images/outpaint", form), 1, wider, model);
    const json = await outpaint({
      body: { image: b64("chelsea.png"), model: "stability-outpaint", up: 20, prompt: "a sofa" },
    });
    expectImages(json, 1, [CHELSEA[0], CHELSEA[1] + 20], model);
  },

  async variations() {
    const form: VariationsRequestMultipart = {
      images: [upload("coffee-1216x832.png"), upload("chelsea.png")],
      model: "titan",
      n: 2,
      width: 1152,
      height: 768,
    };
    expectImages(await postMultipart("/v1/images/variations", form), 2, [1152, 768], TITAN);
    const json = await variations({ body: { images: [b64("coffee.png")], model: "titan" } });
    expectImages(json, 1, [1024, 1024], TITAN);
  },

  async edit() {
    const model = "amazon.nova-2-omni-v1:0";
    const form: EditRequestMultipart = {
      images: [upload("chelsea.png"), upload("coffee.png")],
      prompt: "put the cat in the cup",
    };
    expectImages(await postMultipart("/v1/images/edit", form), 1, CHELSEA, model);
    const json = await edit({
      body: { images: [b64("coffee.png")], prompt: "remove the cup", aspect_ratio: "1:1" },
    });
    expectImages(json, 1, [400, 400], model);
  },

  async virtualTryOn() {
    // Nova Canvas: a garment on the upper body (the default mask type) from uploaded files; in
    // JSON, where a mask marks. The answer has the person image's size.
    const model = "amazon.nova-canvas-v1:0";
    const form: VirtualTryOnRequestMultipart = {
      image: upload("astronaut.png"),
      reference_image: upload("chelsea.png"),
      model: "nova-canvas",
    };
    expectImages(await postMultipart("/v1/images/virtual-try-on", form), 1, ASTRONAUT, model);
    const json = await virtualTryOn({
      body: {
        image: b64("coffee.png"),
        reference_image: b64("chelsea.png"),
        mask: b64("coffee-mask-black-edit.png"),
        model: "nova-canvas",
      },
    });
    expectImages(json, 1, COFFEE, model);
  },

  async imageToImage() {
    const form: ImageToImageRequestMultipart = {
      image: upload("rocket.jpg"),
      model: "sd3.5-large",
      prompt: "as a watercolour",
      strength: 0.6,
    };
    const sd35 = await postMultipart("/v1/images/image-to-image", form);
    expectImages(sd35, 1, ROCKET, "stability.sd3-5-large-v1:0");
    const json = await imageToImage({
      body: { image: b64("coffee-1216x832.png"), model: "sdxl", prompt: "a space ship" },
    });
    expectImages(json, 1, [1216, 832], "stability.stable-diffusion-xl-v1");
  },

  async erase() {
    const model = "stability.stable-image-erase-object-v1:0";
    const form: EraseRequestMultipart = {
      image: upload("coffee.png"),
      mask: upload("coffee-mask-white-edit.png"),
      mask_convention: "white-is-edit",
    };
    expectImages(await postMultipart("/v1/images/erase", form), 1, COFFEE, model);
    const json = await erase({
      body: { image: b64("coffee-mask-alpha-edit.png"), mask_convention: "alpha-is-edit" },
    });
    expectImages(json, 1, COFFEE, model);
  },

  async searchReplace() {
    const model = "stability.stable-image-search-replace-v1:0";
    const form: SearchReplaceRequestMultipart = {
      image: upload("coffee.png"),
      search_prompt: "the cup",
      prompt: "a teapot",
    };
    expectImages(await postMultipart("/v1/images/search-replace", form), 1, COFFEE, model);
    const json = await searchReplace({
      body: { image: b64("chelsea.png"), search_prompt: "the cat", prompt: "a dog" },
    });
    expectImages(json, 1, CHELSEA, model);
  },

  async searchRecolor() {
    const model = "stability.stable-image-search-recolor-v1:0";
    const form: SearchRecolorRequestMultipart = {
      image: upload("chelsea.png"),
      select_prompt: "the cat",
      prompt: "a black cat",
    };
    expectImages(await postMultipart("/v1/images/search-recolor", form), 1, CHELSEA, model);
    const json = await searchRecolor({
      body: { image: b64("coffee.png"), select_prompt: "the cup", prompt: "a red cup" },
    });
    expectImages(json, 1, COFFEE, model);
  },

  async removeBackground() {
    const model = "stability.stable-image-remove-background-v1:0";
    const form: RemoveBackgroundRequestMultipart = {
      image: upload("astronaut.png"),
      output_format: "webp",
    };
    expectImages(await postMultipart("/v1/images/remove-background", form), 1, ASTRONAUT, model);
    const json = await removeBackground({ body: { image: b64("rocket.jpg") } });
    expectImages(json, 1, ROCKET, model);
    const png: RemoveBackgroundRequestMultipart = { image: upload("astronaut.png") };
    const answer = await postMultipart("/v1/images/remove-background", png, "image/png");
    await expectBinary(answer, "image/png", ASTRONAUT);
  },

  async upscale() {
    const model = "stability.stable-fast-upscale-v1:0";
    const form: UpscaleRequestMultipart = { image: upload("chelsea.png") };
    const fourfold: Size = [CHELSEA[0] * 4, CHELSEA[1] * 4];
    expectImages(await postMultipart("/v1/images/upscale", form), 1, fourfold, model);
    const json = await upscale({ body: { image: b64("coffee.png"), mode: "fast" } });
    expectImages(json, 1, [COFFEE[0] * 4, COFFEE[1] * 4], model);
  },

  async styleTransfer() {
    const model = "stability.stable-style-transfer-v1:0";
    const form: StyleTransferRequestMultipart = {
      init_image: upload("coffee.png"),
      style_image: upload("astronaut.png"),
      style_strength: 0.8,
    };
    expectImages(await postMultipart("/v1/images/style-transfer", form), 1, COFFEE, model);
    const json = await styleTransfer({
      body: { init_image: b64("chelsea.png"), style_image: b64("rocket.jpg") },
    });
    expectImages(json, 1, CHELSEA, model);
  },

  async styleGuide() {
    const model = "stability.stable-image-style-guide-v1:0";
    const form: StyleGuideRequestMultipart = {
      image: upload("astronaut.png"),
      prompt: "a mountain village",
      aspect_ratio: "3:2",
    };
    expectImages(await postMultipart("/v1/images/style-guide", form), 1, [1216, 832], model);
    const json = await styleGuide({ body: { image: b64("coffee.png"), prompt: "a village" } });
    expectImages(json, 1, [1024, 1024], model);
  },

  async control() {
    const form: ControlRequestMultipart = {
      image: upload("chelsea.png"),
      control: "sketch",
      prompt: "a castle",
    };
    const sketch = await postMultipart("/v1/images/control", form);
    expectImages(sketch, 1, CHELSEA, "stability.stable-image-control-sketch-v1:0");
    const json = await control({
      body: { image: b64("coffee.png"), control: "structure", prompt: "a castle" },
    });
    expectImages(json, 1, COFFEE, "stability.stable-image-control-structure-v1:0");
  },
};

interface Operation {
  operationId: string;
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { content?: Record<string, unknown> }>;
}

interface Spec {
  paths: Record<string, Record<string, Operation>>;
}

function media(header: string | null): string {
  return (header ?? "").split(";")[0]!.trim().toLowerCase();
}

/** Whether `path` is one of the spec's `template` (`/v1/models/{model_id}`). */
function matches(template: string, path: string): boolean {
  const escape = (piece: string) => piece.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
  const pieces = template.split(/\{[^}]+\}/).map(escape);
  return new RegExp(`^${pieces.join(".+")}$`).test(path);
}

/** Each request media type of each operation, and each 200 answer type, not yet answered. */
function missing(spec: Spec, answered: Set<string>): string[] {
  const gaps: string[] = [];
  const answerTypes = new Set<string>();
  const seen = [...answered].map((key) => JSON.parse(key) as [string, string, string, string]);
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      for (const type of Object.keys(operation.requestBody?.content ?? { "": {} })) {
        if (!seen.some(([m, p, t]) => m === method && matches(path, p) && t === type)) {
          gaps.push(`${operation.operationId} with a ${type || "no"} body`);
        }
      }
      for (const type of Object.keys(operation.responses["200"]?.content ?? {})) {
        answerTypes.add(type);
      }
    }
  }
  const answerTypesSeen = new Set(seen.map(([, , , type]) => type));
  for (const type of [...answerTypes].sort()) {
    if (!answerTypesSeen.has(type)) {
      gaps.push(`a 200 answer of type ${type}`);
    }
  }
  return gaps;
}

async function main(): Promise<number> {
  const [baseUrl, specPath] = process.argv.slice(2);
  check(baseUrl !== undefined && specPath !== undefined, "usage: driver.js BASE_URL SPEC");
  const spec = JSON.parse(readFileSync(specPath, "utf8")) as Spec;
  const operations = Object.values(spec.paths).flatMap((item) =>
    Object.values(item).map((operation) => operation.operationId),
  );
  for (const path of Object.keys(spec.paths)) {
    if (path.startsWith("/v1/images/")) {
      TASKS.add(path.slice("/v1/images/".length));
    }
  }
  const submits: Record<string, () => Promise<void>> = {};
  for (const [path, item] of Object.entries(spec.paths)) {
    const submit = item["post"];
    if (path.startsWith("/v1/jobs/") && !path.includes("{") && submit !== undefined) {
      submits[submit.operationId] = submitCheck(path.slice("/v1/jobs/".length), submit.operationId);
    }
  }
  const checks = { ...CHECKS, ...submits, ...JOB_CHECKS, ...BATCH_CHECKS };
  const failures: string[] = [];
  const checked = Object.keys(checks).sort();
  if (JSON.stringify(checked) !== JSON.stringify([...operations].sort())) {
    failures.push(
      `the driver checks ${checked} but the spec has ${operations.sort()}: ` +
        "add a check for each new operation",
    );
  }
  const answered = new Set<string>();
  client.setConfig({ baseUrl });
  client.interceptors.response.use((response, request) => {
    if (response.ok) {
      const url = new URL(request.url);
      const key = [
        request.method.toLowerCase(),
        url.pathname,
        media(request.headers.get("content-type")),
        media(response.headers.get("content-type")),
      ];
      answered.add(JSON.stringify(key));
    }
    return response;
  });
  for (const [operationId, run] of Object.entries(checks)) {
    try {
      await run();
      console.log(`ok   ${operationId}`);
    } catch (error) {
      failures.push(`${operationId}: ${error instanceof Error ? error.stack : String(error)}`);
      console.log(`FAIL ${operationId}`);
    }
  }
  for (const gap of missing(spec, answered)) {
    failures.push(`never exercised: ${gap}`);
  }
  for (const failure of failures) {
    console.error(failure);
  }
  console.log(`typescript client: ${checked.length} operations, ${failures.length} failures`);
  return failures.length > 0 ? 1 : 0;
}

process.exitCode = await main();
