// A demonstration Guichet connector written in JavaScript.
//
// It implements the world `plugin` of `guichet:connector@0.1.0`
// (wit/connector@0.1.0/types.wit) and is built with ComponentizeJS (see
// build.sh), with `--disable http` so the component does not import wasi:http
// (the host refuses it): HTTP goes through the contract's own `http` import,
// which the host checks against the instance's allow-list.
//
// Conventions of the bindings: enums are kebab-case strings ('get', 'check'),
// variants are `{ tag, val }`, options are `undefined` or the value,
// `list<u8>` is a Uint8Array, tuples are arrays. An export returning
// `result<_, connector-error>` fails by throwing the error variant; an import
// returning `result` throws an Error whose `payload` is the error variant.

import { send } from 'guichet:connector/http@0.1.0';
import { write } from 'guichet:connector/log@0.1.0';
import { get } from 'guichet:connector/config@0.1.0';

const NAME = 'js-demo';
const VERSION = '0.1.0';

const CONFIG_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  properties: {
    base_url: {
      type: 'string',
      description:
        "Adresse de base de l'application de démonstration, par exemple https://demo.example",
    },
  },
  required: ['base_url'],
  additionalProperties: false,
};

const COULEURS = [
  ['rouge', 'Rouge'],
  ['rose', 'Rose'],
  ['orange', 'Orange'],
  ['jaune', 'Jaune'],
  ['vert', 'Vert'],
  ['bleu', 'Bleu'],
  ['violet', 'Violet'],
  ['marron', 'Marron'],
  ['noir', 'Noir'],
  ['blanc', 'Blanc'],
];

const fail = (tag, val) => ({ tag, val });

// StarlingMonkey is built without Unicode normalisation (`'é'.normalize('NFD')`
// leaves the accent), so accents are folded by hand.
const ACCENTS = { à: 'a', â: 'a', ä: 'a', ç: 'c', é: 'e', è: 'e', ê: 'e', ë: 'e', î: 'i', ï: 'i', ô: 'o', ö: 'o', ù: 'u', û: 'u', ü: 'u', ÿ: 'y', œ: 'oe', æ: 'ae' };

/** Lowercase without accents, for searching. */
function fold(text) {
  return text.toLowerCase().replace(/[àâäçéèêëîïôöùûüÿœæ]/g, (c) => ACCENTS[c]);
}

function baseUrl() {
  const value = (get('base_url') ?? '').trim();
  if (!value) throw fail('configuration', 'base_url manquant');
  if (!/^https?:\/\//.test(value)) {
    throw fail('configuration', `base_url invalide : ${value}`);
  }
  return value.replace(/\/+$/, '');
}

function httpErrorText(error) {
  switch (error.tag) {
    case 'timeout':
      return 'délai dépassé';
    case 'too-many-redirects':
      return 'trop de redirections';
    case 'too-large':
      return `réponse trop grande (plus de ${error.val} octets)`;
    default:
      return `${error.tag} : ${error.val ?? ''}`;
  }
}

/** Sends through the contract's `http` import; maps its errors. */
function httpSend(method, url, headers, body) {
  try {
    return send({ method, url, headers, body });
  } catch (e) {
    const error = e && e.payload;
    if (!error || typeof error.tag !== 'string') throw fail('other', String(e));
    if (error.tag === 'forbidden') throw fail('configuration', `hôte non autorisé : ${error.val}`);
    if (error.tag === 'invalid-url') throw fail('configuration', `adresse invalide : ${error.val}`);
    throw fail('unavailable', httpErrorText(error));
  }
}

function fieldJson(value) {
  switch (value.tag) {
    case 'choice':
      return { value: value.val.value, label: value.val.label };
    case 'choices':
      return value.val.map((c) => ({ value: c.value, label: c.label }));
    case 'address':
      return { label: value.val.label, latitude: value.val.latitude, longitude: value.val.longitude };
    case 'files':
      return value.val.map((a) => a.filename);
    default:
      return value.val;
  }
}

export const connector = {
  describe() {
    return {
      name: NAME,
      version: VERSION,
      vendor: 'Guichet (exemple)',
      summary: 'Connecteur de démonstration écrit en JavaScript.',
      operations: ['check', 'transmit', 'lookup'],
      configSchema: JSON.stringify(CONFIG_SCHEMA),
      hosts: ['https://demo.example:443'],
      dataSources: [{ name: 'couleurs', label: 'Couleurs', params: [] }],
    };
  },

  check() {
    const response = httpSend('get', `${baseUrl()}/health`, [['accept', 'application/json']], undefined);
    write('debug', 'check', [['status', String(response.status)]]);
    if (response.status >= 200 && response.status < 300) {
      return { available: true, message: 'application joignable', remoteVersion: undefined };
    }
    return { available: false, message: `réponse HTTP ${response.status}`, remoteVersion: undefined };
  },

  transmit(demande, idempotencyKey) {
    const champs = {};
    for (const f of demande.fields) champs[f.id] = fieldJson(f.value);
    const body = new TextEncoder().encode(
      JSON.stringify({
        numero: demande.numero,
        demarche: demande.demarche,
        usager: {
          prenom: demande.usager.firstName,
          nom: demande.usager.lastName,
          email: demande.usager.email ?? null,
        },
        champs,
      }),
    );
    const response = httpSend(
      'post',
      `${baseUrl()}/items`,
      [
        ['content-type', 'application/json'],
        ['idempotency-key', idempotencyKey],
      ],
      body,
    );
    const text = new TextDecoder().decode(response.body);
    if (response.status >= 500) throw fail('unavailable', `réponse HTTP ${response.status}`);
    if (response.status >= 400) {
      throw fail('rejected', `réponse HTTP ${response.status} : ${text.slice(0, 200)}`);
    }
    let remoteId;
    try {
      remoteId = JSON.parse(text).id;
    } catch {
      remoteId = undefined;
    }
    if (remoteId === undefined || remoteId === null) throw fail('other', 'réponse sans champ « id »');
    write('info', 'demande transmise', [['remote_id', String(remoteId)]]);
    return { remoteId: String(remoteId), displayId: undefined };
  },

  status(_remoteId) {
    throw fail('other', 'non pris en charge');
  },

  lookupItems(query) {
    if (query.source !== 'couleurs') {
      throw fail('invalid-input', `source de données inconnue : ${query.source}`);
    }
    let items = COULEURS;
    if (query.id !== undefined) {
      items = items.filter(([id]) => id === query.id);
      if (items.length === 0) throw fail('not-found', query.id);
    }
    if (query.q) {
      const needle = fold(query.q);
      items = items.filter(([, text]) => fold(text).includes(needle));
    }
    return items.map(([id, text]) => ({ id, text, extra: undefined }));
  },

  card(_remoteId) {
    throw fail('other', 'non pris en charge');
  },
};
