import type { ScalarTag } from 'yaml';
import type { VaultedValue } from '../common/vaulted';

// `!vault |` in any YAML an operator writes: the value becomes an opaque vaulted value (the
// ciphertext only), opened on the worker right before a task uses it. `!vault-encrypted` is the
// older spelling ansible-core still reads.

const vaultTag = (tag: string): ScalarTag => ({
  tag,
  resolve(text, onError): VaultedValue | string {
    if (!text.trimStart().startsWith('$ANSIBLE_VAULT')) {
      onError(`${tag}: the value is not an ansible-vault envelope (no $ANSIBLE_VAULT header)`);
      return text;
    }
    return { __ansible_vault: text.trim() + '\n' };
  },
});

export const VAULT_TAGS: ScalarTag[] = [vaultTag('!vault'), vaultTag('!vault-encrypted')];
