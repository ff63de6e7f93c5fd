// The image being edited and the mask drawn over it. The mask is kept at the image's own size
// on its own canvas (what is painted marks the pixels to generate), shown half transparent over
// the image; it is sent as a PNG in the request's `mask_convention`, as the API takes it.

// A pixel painted at least half way is in the mask: the mask sent is black and white only.
const PAINTED = 128;

/** Pixels of `data` (RGBA) in the mask, as a Uint8Array of 0/1. */
export function maskBits(data) {
  const bits = new Uint8Array(data.length / 4);
  for (let i = 0; i < bits.length; i++) {
    bits[i] = data[i * 4 + 3] >= PAINTED ? 1 : 0;
  }
  return bits;
}

export class MaskEditor {
  constructor(photo, mask) {
    this.photo = photo;
    this.mask = mask;
    this.tool = "brush";
    this.size = 40;
    this.painted = false;
    this.onchange = () => {};
    this._stroke = null;
    mask.addEventListener("pointerdown", (event) => this._down(event));
    mask.addEventListener("pointermove", (event) => this._move(event));
    mask.addEventListener("pointerup", (event) => this._up(event));
    mask.addEventListener("pointercancel", (event) => this._up(event));
  }

  /** Show `bitmap` (an ImageBitmap) and start with an empty mask of its size. */
  load(bitmap) {
    for (const canvas of [this.photo, this.mask]) {
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
    }
    this.photo.getContext("2d", { willReadFrequently: true }).drawImage(bitmap, 0, 0);
    this.clear();
  }

  /** Remove every painted pixel. */
  clear() {
    this.mask.getContext("2d").clearRect(0, 0, this.mask.width, this.mask.height);
    this.painted = false;
    this.onchange();
  }

  /** The mask as a canvas in `convention`: black-is-edit, white-is-edit or alpha-is-edit. */
  render(convention, into = document.createElement("canvas")) {
    const { width, height } = this.mask;
    into.width = width;
    into.height = height;
    const bits = maskBits(this.mask.getContext("2d").getImageData(0, 0, width, height).data);
    const context = into.getContext("2d");
    const out = context.createImageData(width, height);
    for (let i = 0; i < bits.length; i++) {
      const edit = bits[i] === 1;
      let value = 255;
      let alpha = 255;
      if (convention === "alpha-is-edit") {
        alpha = edit ? 0 : 255;
        value = 0;
      } else if (convention === "white-is-edit") {
        value = edit ? 255 : 0;
      } else {
        value = edit ? 0 : 255;
      }
      out.data.set([value, value, value, alpha], i * 4);
    }
    context.putImageData(out, 0, 0);
    return into;
  }

  /** The mask as a PNG Blob in `convention`. */
  toBlob(convention) {
    const canvas = this.render(convention);
    return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  }

  _point(event) {
    const box = this.mask.getBoundingClientRect();
    const scale = this.mask.width / box.width;
    return {
      x: (event.clientX - box.left) * scale,
      y: (event.clientY - box.top) * scale,
      scale,
    };
  }

  _down(event) {
    if (event.button !== 0) {
      return;
    }
    this.mask.setPointerCapture(event.pointerId);
    const point = this._point(event);
    const context = this.mask.getContext("2d", { willReadFrequently: true });
    this._stroke = { start: point, last: point };
    if (this.tool === "rect") {
      this._stroke.before = context.getImageData(0, 0, this.mask.width, this.mask.height);
    } else {
      this._line(point, point);
    }
  }

  _move(event) {
    if (this._stroke === null) {
      return;
    }
    const point = this._point(event);
    if (this.tool === "rect") {
      this._rect(point);
    } else {
      this._line(this._stroke.last, point);
    }
    this._stroke.last = point;
  }

  _up(event) {
    if (this._stroke === null) {
      return;
    }
    this._move(event);
    this._stroke = null;
    this.painted = maskBits(
      this.mask.getContext("2d").getImageData(0, 0, this.mask.width, this.mask.height).data,
    ).includes(1);
    this.onchange();
  }

  _line(from, to) {
    const context = this.mask.getContext("2d");
    context.globalCompositeOperation = this.tool === "eraser" ? "destination-out" : "source-over";
    context.strokeStyle = "rgb(255, 32, 96)";
    context.lineWidth = this.size * from.scale;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.beginPath();
    context.moveTo(from.x, from.y);
    context.lineTo(to.x, to.y);
    context.stroke();
    context.globalCompositeOperation = "source-over";
  }

  _rect(to) {
    const context = this.mask.getContext("2d");
    const from = this._stroke.start;
    context.putImageData(this._stroke.before, 0, 0);
    context.fillStyle = "rgb(255, 32, 96)";
    context.fillRect(
      Math.round(Math.min(from.x, to.x)),
      Math.round(Math.min(from.y, to.y)),
      Math.round(Math.abs(to.x - from.x)),
      Math.round(Math.abs(to.y - from.y)),
    );
  }
}
