import { randomBytes, randomInt } from 'node:crypto';

// Word lists for Neon-looking identifiers such as "br-quiet-river-482913".
const ADJECTIVES = [
  'aged', 'ancient', 'autumn', 'billowing', 'bitter', 'black', 'blue', 'bold', 'broad', 'broken',
  'calm', 'cold', 'cool', 'crimson', 'curly', 'damp', 'dark', 'dawn', 'delicate', 'divine',
  'dry', 'empty', 'falling', 'fancy', 'flat', 'floral', 'fragrant', 'frosty', 'gentle', 'green',
  'hidden', 'holy', 'icy', 'jolly', 'late', 'lingering', 'little', 'lively', 'long', 'lucky',
  'misty', 'morning', 'muddy', 'mute', 'nameless', 'noisy', 'odd', 'old', 'orange', 'patient',
  'plain', 'polished', 'proud', 'purple', 'quiet', 'rapid', 'raspy', 'red', 'restless', 'rough',
  'round', 'royal', 'shiny', 'shrill', 'shy', 'silent', 'small', 'snowy', 'soft', 'solitary',
  'sparkling', 'spring', 'square', 'steep', 'still', 'summer', 'super', 'sweet', 'throbbing', 'tight',
  'tiny', 'twilight', 'wandering', 'weathered', 'white', 'wild', 'winter', 'wispy', 'withered', 'young',
];
const NOUNS = [
  'art', 'band', 'bar', 'base', 'bird', 'block', 'boat', 'bonus', 'bread', 'breeze',
  'brook', 'bush', 'butterfly', 'cake', 'cell', 'cherry', 'cloud', 'credit', 'darkness', 'dawn',
  'dew', 'disk', 'dream', 'dust', 'feather', 'field', 'fire', 'firefly', 'flower', 'fog',
  'forest', 'frog', 'frost', 'glade', 'glitter', 'grass', 'hall', 'hat', 'haze', 'heart',
  'hill', 'king', 'lab', 'lake', 'leaf', 'limit', 'math', 'meadow', 'mode', 'moon',
  'morning', 'mountain', 'mouse', 'mud', 'night', 'paper', 'pine', 'poetry', 'pond', 'queen',
  'rain', 'recipe', 'resonance', 'rice', 'river', 'salad', 'scene', 'sea', 'shadow', 'shape',
  'silence', 'sky', 'smoke', 'snow', 'snowflake', 'sound', 'star', 'sun', 'sunset', 'surf',
  'term', 'thunder', 'tooth', 'tree', 'truth', 'union', 'unit', 'violet', 'voice', 'water',
];

function pick(words: string[]): string {
  return words[randomInt(words.length)];
}

function digits(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String(randomInt(10));
  return s;
}

/** Project id, e.g. "shiny-meadow-12345678". */
export function newProjectId(): string {
  return `${pick(ADJECTIVES)}-${pick(NOUNS)}-${digits(8)}`;
}

/** Branch id, e.g. "br-quiet-river-482913" (neonctl recognises ^br-[a-z0-9]+-[a-z0-9]+-[a-z0-9]+$). */
export function newBranchId(): string {
  return `br-${pick(ADJECTIVES)}-${pick(NOUNS)}-${digits(6)}`;
}

/** Endpoint id, e.g. "ep-cool-darkness-123456". */
export function newEndpointId(): string {
  return `ep-${pick(ADJECTIVES)}-${pick(NOUNS)}-${digits(6)}`;
}

/** Organization id, e.g. "org-morning-bread-81040908". */
export function newOrgId(): string {
  return `org-${pick(ADJECTIVES)}-${pick(NOUNS)}-${digits(8)}`;
}

/** Random lowercase alphanumeric string with `length` characters (log2(36) ≈ 5.17 bits each). */
export function randomAlnum(length: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const out: string[] = [];
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 252 = 7 * 36: reject the tail to keep the distribution uniform.
      if (byte < 252 && out.length < length) out.push(alphabet[byte % 36]);
    }
  }
  return out.join('');
}
