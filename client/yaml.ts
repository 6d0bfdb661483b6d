import {
  parseDocument,
  type Document,
  type DocumentOptions,
  type ParseOptions,
  type SchemaOptions,
} from 'yaml';
import { VAULT_TAGS } from './vault-tag';

// PyYAML's YAML 1.1 booleans. The library's 1.1 schema also reads a bare `y`/`n` as a boolean,
// which PyYAML (and so Ansible) does not: `n: 2` stays a key named "n" there, and here too.
const PYYAML_TRUE = /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/;
const PYYAML_FALSE = /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/;

/**
 * Ansible reads every file an operator writes as YAML 1.1 (PyYAML): `yes`/`no`/`on`/`off` are
 * booleans and an unquoted `0644` is the octal number 420. We read them the same way, with the YAML
 * library's own 1.1 schema, so a playbook means here what it means to ansible-playbook.
 */
export const ANSIBLE_YAML: ParseOptions & DocumentOptions & SchemaOptions = {
  version: '1.1',
  // A mapping or list as a key has no meaning in any file we read; refuse it instead of turning it
  // into text. Scalar keys stay as written (`yes:` is the key "yes"), which JS objects need anyway.
  stringKeys: true,
  customTags: (tags) => [
    ...tags.map((tag) => {
      if (typeof tag !== 'object' || tag.tag !== 'tag:yaml.org,2002:bool' || !tag.test) return tag;
      return { ...tag, test: tag.test.test('yes') ? PYYAML_TRUE : PYYAML_FALSE };
    }),
    ...VAULT_TAGS,
  ],
};

/** Parses a whole file's text; throws the library's error (first line is the message). */
export function parseAnsibleYaml(text: string): unknown {
  const doc = parseAnsibleYamlDocument(text);
  if (doc.errors.length) throw doc.errors[0];
  return doc.toJS(ANSIBLE_YAML);
}

/** The document itself, for callers that point at the line of a key. */
export function parseAnsibleYamlDocument(text: string): Document {
  const doc = parseDocument(text, ANSIBLE_YAML);
  // The library reports a document nested too deeply for its parser as a stack overflow.
  for (const e of doc.errors)
    if (e.code === 'RESOURCE_EXHAUSTION')
      e.message = e.message.replace(/^Maximum call stack size exceeded/, 'nested too deeply');
  return doc;
}
