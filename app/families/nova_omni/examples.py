"""The spec's request examples for Nova 2 Omni."""

from ...schemas.requests import Task
from ..examples import PNG, Examples, example

EXAMPLES: Examples = {
    Task.EDIT: {
        "default": example(
            "Nova 2 Omni: an instruction, no mask",
            {
                "images": [PNG],
                "prompt": "remove the cup from the table",
                "width": 1200,
                "height": 800,
            },
        ),
    },
}
