"""The contract in its OpenAPI 3.2 form, made from the one 3.1 document.

OpenAPI 3.1 has no place for a custom verb, so the 3.1 document keeps LOOKUP in each path
item's ``x-additionalOperations``; OpenAPI 3.2 made that ``additionalOperations``. The 3.2 form
is the same document with that one key renamed and the version changed: nothing else differs,
so it never drifts from the document the server validates with.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from mockhub.resources import contract_path

VERSION = "3.2.0"
EXTENSION = "x-additionalOperations"
"""Where the 3.1 contract keeps custom verbs (LOOKUP), read by mockhub's own loader."""
STANDARD = "additionalOperations"
"""Where OpenAPI 3.2 puts operations of other methods than its fixed eight."""


def to_openapi_3_2(document: dict[str, Any]) -> dict[str, Any]:
    """The 3.2 form of a 3.1 contract: ``x-additionalOperations`` become ``additionalOperations``."""
    paths = {path: {(STANDARD if key == EXTENSION else key): value for key, value in item.items()}
             for path, item in document["paths"].items()}
    return {**document, "openapi": VERSION, "paths": paths}


def main(argv: list[str] | None = None) -> None:
    """``python -m mockhub.contract.openapi32 [FILE]``: write the packaged contract's 3.2 form (to standard output
    without FILE), as committed in contracts/openapi-3.2.json."""
    args = sys.argv[1:] if argv is None else argv
    text = json.dumps(to_openapi_3_2(json.loads(contract_path().read_text(encoding="utf-8"))), indent=2,
                      ensure_ascii=False) + "\n"
    if args:
        Path(args[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
