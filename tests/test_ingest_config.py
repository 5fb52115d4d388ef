"""The tenant file's ``custom_fields`` allow-list: the custom ticket fields whose values may be loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.ingest.config import ConfigError
from pipelines.platforms import load_tenants

TENANT = """
tenants:
  - id: acme
    platform: zendesk
    base_url: https://acme.zendesk.com
    credentials: {email_env: ACME_EMAIL, token_env: ACME_TOKEN}
    secret_env: ACME_SECRET
"""


def tenants(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "tenants.yaml"
    path.write_text(TENANT + extra)
    return path


def test_custom_fields_are_an_optional_allow_list_of_field_ids(tmp_path: Path) -> None:
    (plain,) = load_tenants(tenants(tmp_path))
    assert plain.custom_fields == ()
    (listed,) = load_tenants(tenants(tmp_path, "    custom_fields: [360001234567, 360007654321]\n"))
    assert listed.custom_fields == (360001234567, 360007654321)


@pytest.mark.parametrize("value", ["360001", "[subject]", "[-5]", "[true]", "{a: 1}"])
def test_anything_but_a_list_of_field_ids_is_refused_naming_the_field(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match=r"tenant 'acme', field 'custom_fields': must be a list of ticket"):
        load_tenants(tenants(tmp_path, f"    custom_fields: {value}\n"))
