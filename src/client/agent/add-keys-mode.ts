// --add-keys-to-agent / add_keys_to_agent: Teleport's values. Its own module so that the config
// file's schema can name them without loading the agent code.

export const ADD_KEYS_MODES = ['auto', 'no', 'yes', 'only'] as const
export type AddKeysMode = (typeof ADD_KEYS_MODES)[number]
