"""/playground in headless chromium against `python -m app` and its emulator: generate an image,
copy the request as curl and run it (same seed, same pixels), upload a photo, paint a mask with
the mouse, inpaint, and read the page's own canvas to see that only the painted pixels changed;
a value the model refuses is shown next to its field. The page runs under its CSP with no
console error."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.support.browser import Served, browser_log, console_errors
from tests.support.files import DATA
from tests.support.gateway import pixels

TITAN_ID = "amazon.titan-image-generator-v1"

# The photo on the page's canvas, the mask as the page will send it (its #mask-sent canvas, in
# the request's convention) and which pixels that mask marks, kept in the page for later.
SNAPSHOT = """
const photo = document.getElementById("photo");
const sent = document.getElementById("mask-sent");
const width = photo.width, height = photo.height;
const image = photo.getContext("2d").getImageData(0, 0, width, height).data;
const mask = sent.getContext("2d").getImageData(0, 0, width, height).data;
const inside = new Uint8Array(width * height);
let marked = 0, grey = 0;
for (let i = 0; i < inside.length; i++) {
  const value = mask[i * 4];
  if (value !== 0 && value !== 255) grey++;
  if (value === 0) { inside[i] = 1; marked++; }
}
window.testBefore = {image: new Uint8ClampedArray(image), inside, width, height};
return {width, height, marked, grey, sentWidth: sent.width, sentHeight: sent.height};
"""
# The canvas now against the snapshot: pixels changed outside and inside the mask.
COMPARE = """
const before = window.testBefore;
const photo = document.getElementById("photo");
if (photo.width !== before.width || photo.height !== before.height) {
  return {size: [photo.width, photo.height]};
}
const now = photo.getContext("2d").getImageData(0, 0, before.width, before.height).data;
let outside = 0, inside = 0, insideChanged = 0;
for (let i = 0; i < before.inside.length; i++) {
  let same = true;
  for (let c = 0; c < 4; c++) same = same && now[i * 4 + c] === before.image[i * 4 + c];
  if (before.inside[i]) { inside++; if (!same) insideChanged++; } else if (!same) outside++;
}
return {outsideChanged: outside, inside, insideChanged};
"""


def wait(driver: WebDriver, seconds: float = 60) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, seconds)


def open_playground(page: WebDriver, served: Served) -> None:
    page.get(f"{served.url}/playground")
    wait(page).until(ec.presence_of_element_located((By.CSS_SELECTOR, "body[data-ready]")))


def field(page: WebDriver, name: str) -> WebElement:
    return page.find_element(By.CSS_SELECTOR, f"#fields [name={name}]")


def submit_and_wait(page: WebDriver) -> WebElement:
    """Submit, and the first result's image once the answer is shown."""
    old = page.find_elements(By.CSS_SELECTOR, "#results figure")
    page.find_element(By.ID, "submit").click()
    if old:
        wait(page).until(ec.staleness_of(old[0]))
    return wait(page).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, "#results figure img"))
    )


def data_url_pixels(url: str) -> np.ndarray:
    assert url.startswith("data:image/png;base64,")
    return pixels(url.split(",", 1)[1])


def test_generate_then_the_copied_code_gives_the_same_image(
    page: WebDriver, served: Served, artefacts: Path, tmp_path: Path
) -> None:
    open_playground(page, served)
    # The default task and its default model, from GET /v1/models.
    assert Select(page.find_element(By.ID, "task")).first_selected_option.text == "text-to-image"
    model = Select(page.find_element(By.ID, "model")).first_selected_option
    assert model.get_attribute("value") == "titan"
    assert "(default)" in model.text
    # Titan's sizes, not free numbers.
    sizes = [o.get_attribute("value") for o in Select(field(page, "size")).options]
    assert "1152x768" in sizes
    assert "1000x1000" not in sizes

    field(page, "prompt").send_keys("a lighthouse at dusk, photograph")
    field(page, "seed").send_keys("4242")
    Select(field(page, "size")).select_by_value("512x512")
    image = submit_and_wait(page)
    caption = page.find_element(By.CSS_SELECTOR, "#results figcaption").text
    assert f"seed 4242 · model {TITAN_ID}" in caption
    page.save_screenshot(str(artefacts / "playground-1-generated.png"))
    shown = data_url_pixels(image.get_attribute("src") or "")
    assert shown.shape[:2] == (512, 512)

    command = copied(page, "curl")
    assert command.startswith(f"curl -sS '{served.url}/v1/images/text-to-image'")
    run = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=120, check=True
    )
    answer = json.loads(run.stdout)
    assert [i["seed"] for i in answer["images"]] == [4242]
    np.testing.assert_array_equal(pixels(answer["images"][0]["b64_json"]), shown)

    # The Python versions write the image to a file: the same pixels again.
    for kind, written in (("httpx", "image-0-seed-4242.png"), ("openai", "image-0.png")):
        code = copied(page, kind)
        subprocess.run([sys.executable, "-c", code], cwd=tmp_path, timeout=120, check=True)
        np.testing.assert_array_equal(pixels((tmp_path / written).read_bytes()), shown)
    assert console_errors(page) == []


def copied(page: WebDriver, kind: str) -> str:
    """Click "Copy as <kind>" and read the clipboard: the text shown for it on the page."""
    page.find_element(By.CSS_SELECTOR, f"[data-copy={kind}]").click()
    wait(page).until(ec.text_to_be_present_in_element((By.ID, "copied"), f"the {kind} version"))
    text: str = page.execute_async_script(
        "navigator.clipboard.readText().then(arguments[0], (e) => arguments[0](String(e)))"
    )
    assert text == page.find_element(By.ID, f"snippet-{kind}").get_attribute("textContent")
    return text


def test_inpaint_a_painted_mask_changes_only_its_pixels(
    page: WebDriver, served: Served, artefacts: Path, tmp_path: Path
) -> None:
    open_playground(page, served)
    Select(page.find_element(By.ID, "task")).select_by_value("inpaint")
    page.find_element(By.ID, "image-file").send_keys(str(DATA / "coffee.png"))
    mask = wait(page).until(
        ec.visibility_of_element_located(
            (By.CSS_SELECTOR, "#stage[data-source='coffee.png'] #mask")
        )
    )
    # A brush stroke, a rectangle and a bite taken out of it with the eraser, by mouse events.
    width, height = mask.size["width"], mask.size["height"]
    strokes = ActionChains(page)
    strokes.move_to_element_with_offset(mask, -width // 4, -height // 5).click_and_hold()
    strokes.move_by_offset(60, 10).move_by_offset(40, 40).release()
    page.find_element(By.CSS_SELECTOR, "input[name=tool][value=rect]").click()
    strokes.move_to_element_with_offset(mask, width // 10, 0).click_and_hold()
    strokes.move_by_offset(90, 70).release()
    strokes.perform()
    page.find_element(By.CSS_SELECTOR, "input[name=tool][value=eraser]").click()
    eraser = ActionChains(page)
    eraser.move_to_element_with_offset(mask, width // 10 + 45, 35).click_and_hold()
    eraser.move_by_offset(0, 1).release().perform()
    wait(page).until(ec.visibility_of_element_located((By.ID, "mask-preview")))
    assert page.find_element(By.ID, "mask-convention-name").text == "black-is-edit"
    before: dict[str, Any] = page.execute_script(SNAPSHOT)
    # The mask sent is the photo's size, pure black (edit) and white (keep).
    assert (before["sentWidth"], before["sentHeight"]) == (before["width"], before["height"])
    assert (before["width"], before["height"]) == (600, 400)
    assert before["grey"] == 0
    assert 2_000 < before["marked"] < 60_000
    page.save_screenshot(str(artefacts / "playground-2-mask.png"))

    field(page, "prompt").send_keys("a bowl of oranges")
    field(page, "seed").send_keys("7")
    submit_and_wait(page)
    caption = page.find_element(By.CSS_SELECTOR, "#results figcaption").text
    assert f"seed 7 · model {TITAN_ID}" in caption
    page.save_screenshot(str(artefacts / "playground-3-inpainted.png"))
    _readme_picture(page, artefacts)
    result = page.find_element(By.CSS_SELECTOR, "#results figure img")
    shown = data_url_pixels(result.get_attribute("src") or "")

    # Download the result and the files the request sent (the photo, its mask, the mask in
    # OpenAI's convention); with them, each copied snippet gives the same image again.
    page.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    links = page.find_elements(By.CSS_SELECTOR, "#results .actions a, #snippet-files a")
    names = [str(link.get_attribute("download")) for link in links]
    assert names == ["inpaint-7.png", "coffee.png", "mask.png", "mask-alpha.png"]
    for link in links:
        link.click()
    wait(page).until(lambda _: all((tmp_path / name).is_file() for name in names))
    assert (tmp_path / "coffee.png").read_bytes() == (DATA / "coffee.png").read_bytes()
    np.testing.assert_array_equal(pixels((tmp_path / "inpaint-7.png").read_bytes()), shown)
    run = subprocess.run(
        ["bash", "-c", copied(page, "curl")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    np.testing.assert_array_equal(pixels(json.loads(run.stdout)["images"][0]["b64_json"]), shown)
    for kind, written in (("httpx", "image-0-seed-7.png"), ("openai", "image-0.png")):
        code = copied(page, kind)
        subprocess.run([sys.executable, "-c", code], cwd=tmp_path, timeout=120, check=True)
        np.testing.assert_array_equal(pixels((tmp_path / written).read_bytes()), shown)

    # "Use as input" draws the result on the page's canvas: compare it with the photo there.
    page.find_element(By.CSS_SELECTOR, "#results .use-as-input").click()
    wait(page).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "#stage[data-source^='inpaint-7']"))
    )
    after: dict[str, Any] = page.execute_script(COMPARE)
    assert after["inside"] == before["marked"]
    assert after["outsideChanged"] == 0, after
    assert after["insideChanged"] > after["inside"] // 2, after
    page.save_screenshot(str(artefacts / "playground-4-result-as-input.png"))
    assert console_errors(page) == []


def test_a_refused_value_is_shown_next_to_its_field(
    page: WebDriver, served: Served, artefacts: Path
) -> None:
    open_playground(page, served)
    field(page, "prompt").send_keys("a red kite")
    # Within the API's seed range, beyond Titan's.
    field(page, "seed").send_keys("4294967295")
    page.find_element(By.ID, "submit").click()
    error = wait(page).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, "#fields [data-error-for~=seed]"))
    )
    assert error.text == f"4294967295 is outside {TITAN_ID}'s range 0-2147483646"
    # Next to it: in the seed field's own label.
    assert error.find_element(By.XPATH, "..").find_element(By.NAME, "seed")
    problem = page.find_element(By.ID, "problem").text
    assert problem.startswith("422 The request is not valid")
    assert page.find_elements(By.CSS_SELECTOR, "#results figure") == []
    page.save_screenshot(str(artefacts / "playground-5-refused.png"))
    # Chromium logs the refused call itself; nothing else.
    refused = f"{served.url}/v1/images/text-to-image - Failed to load resource: the server "
    assert console_errors(page) == [
        f"{refused}responded with a status of 422 (Unprocessable Entity)"
    ]


def _readme_picture(page: WebDriver, artefacts: Path) -> None:
    """The README's screenshot (docs/img/playground.png): the page after an inpaint, at 3/4 size
    in 64 colours, a few tens of KB."""
    page.execute_script("window.scrollTo(0, 0)")
    shot = Image.open(io.BytesIO(page.get_screenshot_as_png())).convert("RGB")
    small = shot.resize((shot.width * 3 // 4, shot.height * 3 // 4), Image.Resampling.LANCZOS)
    small.quantize(64).save(artefacts / "readme-playground.png", optimize=True)


def test_with_api_keys_the_key_is_asked_for_and_kept_in_the_tab_only(
    browser: WebDriver, artefacts: Path
) -> None:
    key = "playground-test-key-1"
    keys = [{"name": "web", "hash": "sha256:" + hashlib.sha256(key.encode()).hexdigest()}]
    server = Served(GATEWAY_API_KEYS=json.dumps(keys))
    browser_log(browser)
    try:
        browser.get(f"{server.url}/playground")
        box = wait(browser).until(ec.visibility_of_element_located((By.ID, "api-key")))
        wait(browser).until(
            ec.text_to_be_present_in_element((By.ID, "status"), "asks for an API key")
        )
        box.send_keys(key, Keys.TAB)
        wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "body[data-ready]")))
        stored = browser.execute_script(
            "return [Object.values(sessionStorage), localStorage.length, document.cookie]"
        )
        assert stored == [[key], 0, ""]
        field(browser, "prompt").send_keys("a red kite")
        submit_and_wait(browser)
        browser.save_screenshot(str(artefacts / "playground-6-with-key.png"))
        # The snippets read the key from the environment; the page never writes it out.
        curl = browser.find_element(By.ID, "snippet-curl").get_attribute("textContent") or ""
        assert '-H "Authorization: Bearer $GATEWAY_API_KEY"' in curl
        assert key not in browser.page_source
        assert console_errors(browser) == [
            f"{server.url}/v1/models - Failed to load resource: the server responded with a "
            "status of 401 (Unauthorized)"
        ]
    finally:
        browser.execute_script("sessionStorage.clear()")
        server.stop()


def test_an_image_dropped_on_the_page_is_the_one_edited(
    page: WebDriver, served: Served, artefacts: Path
) -> None:
    open_playground(page, served)
    Select(page.find_element(By.ID, "task")).select_by_value("remove-background")
    area = page.find_element(By.ID, "canvas-area")
    # What a browser dispatches when a file is dropped (WebDriver has no file drag and drop).
    page.execute_script(
        """
        const [area, b64, name] = arguments;
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const dropped = new DataTransfer();
        dropped.items.add(new File([bytes], name, {type: "image/png"}));
        area.dispatchEvent(new DragEvent("dragover", {dataTransfer: dropped, bubbles: true}));
        area.dispatchEvent(new DragEvent("drop", {dataTransfer: dropped, bubbles: true}));
        """,
        area,
        base64.b64encode((DATA / "chelsea.png").read_bytes()).decode(),
        "chelsea.png",
    )
    wait(page).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, "#stage[data-source='chelsea.png']"))
    )
    size = page.execute_script(
        "const c = document.getElementById('photo'); return [c.width, c.height]"
    )
    assert size == [451, 300]
    # Remove-background takes no mask: no mask tools.
    assert not page.find_element(By.ID, "mask-tools").is_displayed()
    submit_and_wait(page)
    caption = page.find_element(By.CSS_SELECTOR, "#results figcaption").text
    assert "model stability.stable-image-remove-background-v1:0" in caption
    page.save_screenshot(str(artefacts / "playground-7-dropped.png"))
    assert console_errors(page) == []
