"""A demonstration Guichet connector written in Python.

It implements the world `plugin` of `guichet:connector@0.1.0`
(wit/connector@0.1.0/types.wit) and is built with componentize-py (see
build.sh). HTTP goes through the contract's own `http` import, which the host
checks against the instance's allow-list; `wasi:http` is never used (the host
refuses it).

Operations:
- `check`: `GET {base_url}/health`, available when the answer is 2xx;
- `transmit`: `POST {base_url}/items` with a JSON body, the idempotency key in
  an `Idempotency-Key` header; the receipt's remote id is the answer's `id`;
- `lookup`: the data source `couleurs`, served from memory, filtered by `q`
  (case- and accent-insensitive substring of the label) or by `id`.
"""

import json
import unicodedata
from typing import List, Optional

from wit_world import exports
from componentize_py_types import Err
from wit_world.imports import config, http, log, types

NAME = "python-demo"
VERSION = "0.1.0"

CONFIG_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "base_url": {
            "type": "string",
            "description": "Adresse de base de l'application de démonstration, par exemple https://demo.example",
        }
    },
    "required": ["base_url"],
    "additionalProperties": False,
}

COULEURS = [
    ("rouge", "Rouge"),
    ("rose", "Rose"),
    ("orange", "Orange"),
    ("jaune", "Jaune"),
    ("vert", "Vert"),
    ("bleu", "Bleu"),
    ("violet", "Violet"),
    ("marron", "Marron"),
    ("noir", "Noir"),
    ("blanc", "Blanc"),
]


def _fold(text: str) -> str:
    """Lowercase without accents, for searching."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _base_url() -> str:
    value = config.get("base_url")
    if value is None or not value.strip():
        raise Err(types.ConnectorError_Configuration("base_url manquant"))
    value = value.strip()
    if not (value.startswith("http://") or value.startswith("https://")):
        raise Err(types.ConnectorError_Configuration(f"base_url invalide : {value}"))
    return value.rstrip("/")


def _http_error_text(error: http.HttpError) -> str:
    if isinstance(error, http.HttpError_Timeout):
        return "délai dépassé"
    if isinstance(error, http.HttpError_TooManyRedirects):
        return "trop de redirections"
    if isinstance(error, http.HttpError_TooLarge):
        return f"réponse trop grande (plus de {error.value} octets)"
    kind = type(error).__name__.removeprefix("HttpError_")
    return f"{kind} : {getattr(error, 'value', '')}"


def _send(method: http.Method, url: str, headers, body: Optional[bytes]) -> http.Response:
    """Sends through the contract's `http` import; maps its errors."""
    try:
        return http.send(http.Request(method=method, url=url, headers=headers, body=body))
    except Err as e:
        error = e.value
        if isinstance(error, http.HttpError_Forbidden):
            raise Err(types.ConnectorError_Configuration(
                f"hôte non autorisé : {error.value}"))
        if isinstance(error, http.HttpError_InvalidUrl):
            raise Err(types.ConnectorError_Configuration(
                f"adresse invalide : {error.value}"))
        raise Err(types.ConnectorError_Unavailable(_http_error_text(error)))


def _field_json(value: types.FieldValue):
    if isinstance(value, types.FieldValue_Choice):
        return {"value": value.value.value, "label": value.value.label}
    if isinstance(value, types.FieldValue_Choices):
        return [{"value": c.value, "label": c.label} for c in value.value]
    if isinstance(value, types.FieldValue_Address):
        return {"label": value.value.label, "latitude": value.value.latitude,
                "longitude": value.value.longitude}
    if isinstance(value, types.FieldValue_Files):
        return [a.filename for a in value.value]
    return value.value


class Connector(exports.Connector):
    def describe(self) -> types.Description:
        return types.Description(
            name=NAME,
            version=VERSION,
            vendor="Guichet (exemple)",
            summary="Connecteur de démonstration écrit en Python.",
            operations=[types.Operation.CHECK, types.Operation.TRANSMIT,
                        types.Operation.LOOKUP],
            config_schema=json.dumps(CONFIG_SCHEMA),
            hosts=["https://demo.example:443"],
            data_sources=[types.DataSource(name="couleurs", label="Couleurs", params=[])],
        )

    def check(self) -> types.Availability:
        url = _base_url() + "/health"
        response = _send(http.Method.GET, url, [("accept", "application/json")], None)
        log.write(log.Level.DEBUG, "check", [("status", str(response.status))])
        if 200 <= response.status < 300:
            return types.Availability(available=True, message="application joignable",
                                      remote_version=None)
        return types.Availability(available=False,
                                  message=f"réponse HTTP {response.status}",
                                  remote_version=None)

    def transmit(self, demande: types.Demande, idempotency_key: str) -> types.Receipt:
        url = _base_url() + "/items"
        body = json.dumps({
            "numero": demande.numero,
            "demarche": demande.demarche,
            "usager": {"prenom": demande.usager.first_name, "nom": demande.usager.last_name,
                       "email": demande.usager.email},
            "champs": {f.id: _field_json(f.value) for f in demande.fields},
        }).encode()
        response = _send(http.Method.POST, url,
                         [("content-type", "application/json"),
                          ("idempotency-key", idempotency_key)], body)
        if response.status >= 500:
            raise Err(types.ConnectorError_Unavailable(f"réponse HTTP {response.status}"))
        if response.status >= 400:
            raise Err(types.ConnectorError_Rejected(
                f"réponse HTTP {response.status} : {bytes(response.body)[:200].decode(errors='replace')}"))
        try:
            answer = json.loads(bytes(response.body))
            remote_id = str(answer["id"])
        except (ValueError, KeyError, TypeError):
            raise Err(types.ConnectorError_Other("réponse sans champ « id »"))
        log.write(log.Level.INFO, "demande transmise", [("remote_id", remote_id)])
        return types.Receipt(remote_id=remote_id, display_id=None)

    def status(self, remote_id: str) -> types.RemoteStatus:
        raise Err(types.ConnectorError_Other("non pris en charge"))

    def lookup_items(self, query: types.LookupQuery) -> List[types.LookupItem]:
        if query.source != "couleurs":
            raise Err(types.ConnectorError_InvalidInput(
                f"source de données inconnue : {query.source}"))
        items = COULEURS
        if query.id is not None:
            items = [c for c in items if c[0] == query.id]
            if not items:
                raise Err(types.ConnectorError_NotFound(query.id))
        if query.q:
            needle = _fold(query.q)
            items = [c for c in items if needle in _fold(c[1])]
        return [types.LookupItem(id=i, text=t, extra=None) for i, t in items]

    def card(self, remote_id: str) -> types.AgentCard:
        raise Err(types.ConnectorError_Other("non pris en charge"))
