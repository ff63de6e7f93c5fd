"""/docs and /redoc in chromium with no network but the gateway: both render from the assets the
gateway serves, under its CSP, and Swagger UI's "Try it out" runs a multipart inpaint from the
form as the spec fills it, the first click answered 200."""

from __future__ import annotations

import json
import re
from pathlib import Path

from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.support.browser import Served, console_errors
from tests.support.files import DATA

# ReDoc's "powered by" logo is an image on its CDN; the CSP blocks it and ReDoc hides it.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def wait(driver: WebDriver, seconds: float = 30) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, seconds)


def form_row(operation: WebElement, name: str) -> WebElement:
    return operation.find_element(By.CSS_SELECTOR, f'tr[data-property-name="{name}"]')


def test_swagger_ui_offline_try_it_out_inpaints_from_the_prefilled_form(
    page: WebDriver, served: Served, artefacts: Path
) -> None:
    page.get(f"{served.url}/docs#/images/inpaint")
    operation = wait(page).until(
        ec.visibility_of_element_located((By.ID, "operations-images-inpaint"))
    )
    wait(page).until(lambda _: operation.find_element(By.CSS_SELECTOR, ".try-out__btn"))
    operation.find_element(By.CSS_SELECTOR, ".try-out__btn").click()
    content_type = operation.find_element(By.CSS_SELECTOR, ".body-param-content-type select")
    Select(content_type).select_by_value("multipart/form-data")
    wait(page).until(lambda _: form_row(operation, "image"))

    # The form as Swagger UI fills it from the spec: the task's default model and an example
    # prompt; every optional field empty (so not sent), none of Swagger's made-up samples.
    filled = {
        row.get_attribute("data-property-name"): _value(row)
        for row in operation.find_elements(By.CSS_SELECTOR, "tr[data-property-name]")
    }
    assert filled.pop("model") == "titan"
    assert filled.pop("prompt") == "stained-glass windows"
    assert set(filled) >= {"steps", "sampler", "grow_mask", "mask_convention", "n", "seed"}
    assert {k: v for k, v in filled.items() if v} == {}

    form_row(operation, "image").find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(
        str(DATA / "coffee.png")
    )
    form_row(operation, "mask").find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(
        str(DATA / "coffee-mask-black-edit.png")
    )
    page.save_screenshot(str(artefacts / "docs-1-try-it-out.png"))
    operation.find_element(By.CSS_SELECTOR, "button.execute").click()
    status = wait(page, 60).until(
        lambda _: operation.find_element(
            By.CSS_SELECTOR, ".live-responses-table .response .response-col_status"
        )
    )
    page.save_screenshot(str(artefacts / "docs-2-answer.png"))
    curl = operation.find_element(By.CSS_SELECTOR, ".curl-command").text
    assert status.text.strip() == "200", curl
    # What was sent: the two files and the two filled fields, nothing else.
    parts = sorted(re.findall(r"-F '([a-z_]+)=", curl))
    assert parts == ["image", "mask", "model", "prompt"], curl
    body = json.loads(operation.find_element(By.CSS_SELECTOR, ".response-col_description pre").text)
    assert body["model"] == "amazon.titan-image-generator-v1"
    assert [image["finish_reason"] for image in body["images"]] == ["success"]
    assert console_errors(page) == []


def _value(row: WebElement) -> str:
    # The value input (not the file input, nor the "Send empty value" box).
    field = row.find_elements(
        By.CSS_SELECTOR, "input:not([type=file]):not([type=checkbox]), select, textarea"
    )
    return (field[0].get_attribute("value") or "") if field else ""


def test_redoc_renders_offline(page: WebDriver, served: Served, artefacts: Path) -> None:
    page.get(f"{served.url}/redoc")
    title = "Replace the masked pixels of an image"
    heading = wait(page).until(
        ec.visibility_of_element_located((By.XPATH, f"//h2[text()='{title}']"))
    )
    assert heading.is_displayed()
    menu = page.find_elements(By.CSS_SELECTOR, ".menu-content li")
    assert len(menu) > 15
    page.save_screenshot(str(artefacts / "redoc.png"))
    errors = console_errors(page)
    assert all(REDOC_LOGO in error for error in errors), errors
