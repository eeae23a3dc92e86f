/**
 * Writes data/corpus.txt: about 200 KB of English-like text generated from a
 * seeded grammar, so the example ships its own training data and needs no
 * download. Run once with `node make-corpus.ts`; the output is committed and
 * the trainer never regenerates it.
 *
 * The grammar is small but has structure at several scales, so a model can
 * keep improving as it sees more context:
 * - spelling of a few hundred words, capitals after full stops, a/an before vowels;
 * - subject-verb agreement (one dog runs, two dogs run) and tense kept within a paragraph;
 * - a paragraph follows one character, so names and pronouns (he/she) recur;
 * - numbers that must agree: counts spelled out match digits, sums add up,
 *   dialogue answers repeat the number asked about, days count upward in a log;
 * - chapter headings that increase, quotation marks that open and close.
 *
 * The same seed always produces the same bytes.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const SEED = 20240611;
const TARGET_BYTES = 200_000;

/** mulberry32: tiny seeded generator; enough for a text grammar. */
function makeRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = makeRandom(SEED);

function pick<T>(items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

function between(low: number, high: number): number {
  return low + Math.floor(random() * (high - low + 1));
}

function chance(probability: number): boolean {
  return random() < probability;
}

interface Person {
  name: string;
  subject: 'he' | 'she';
  object: 'him' | 'her';
  possessive: 'his' | 'her';
}

const WOMEN = ['Anna', 'Martha', 'Clara', 'Edith', 'Rose', 'Alice', 'Helen', 'Grace', 'Ada', 'Lucy', 'Emma', 'Ruth', 'Mary', 'Nora', 'Ivy', 'Jane', 'Ellen', 'Flora'];
const MEN = ['Tom', 'Paul', 'Henry', 'Walter', 'Arthur', 'Samuel', 'Jack', 'Hugo', 'Oliver', 'Frank', 'Peter', 'Simon', 'Owen', 'Felix', 'Leo', 'Victor', 'Albert', 'Ben'];

function person(): Person {
  return chance(0.5)
    ? { name: pick(WOMEN), subject: 'she', object: 'her', possessive: 'her' }
    : { name: pick(MEN), subject: 'he', object: 'him', possessive: 'his' };
}

const TRADES = ['miller', 'baker', 'sailor', 'teacher', 'farmer', 'doctor', 'clerk', 'weaver', 'smith', 'painter', 'fisher', 'carpenter', 'gardener', 'shepherd', 'potter', 'tailor', 'engineer', 'artist', 'inspector', 'orphan'];
const ADJECTIVES = ['old', 'young', 'quiet', 'small', 'tall', 'careful', 'clever', 'tired', 'honest', 'cheerful', 'patient', 'eager', 'stubborn', 'gentle', 'anxious', 'able', 'odd', 'elderly', 'idle', 'upright'];
const PLACES = ['the market', 'the harbor', 'the old mill', 'the village school', 'the north field', 'the river', 'the library', 'the station', 'the bakery', 'the chapel', 'the bridge', 'the orchard', 'the town hall', 'the lighthouse', 'the forest', 'the inn'];
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEATHER = ['cold', 'grey', 'bright', 'windy', 'warm', 'wet', 'still', 'foggy', 'clear', 'stormy'];
const DIRECTIONS = ['north', 'south', 'east', 'west'];

/** Countable things: singular, plural. */
const THINGS: readonly (readonly [string, string])[] = [
  ['apple', 'apples'], ['letter', 'letters'], ['sack of flour', 'sacks of flour'], ['candle', 'candles'],
  ['coin', 'coins'], ['book', 'books'], ['fish', 'fish'], ['egg', 'eggs'], ['basket', 'baskets'],
  ['nail', 'nails'], ['loaf of bread', 'loaves of bread'], ['key', 'keys'], ['box', 'boxes'],
  ['lamp', 'lamps'], ['sheep', 'sheep'], ['chair', 'chairs'], ['map', 'maps'], ['bottle', 'bottles'],
  ['onion', 'onions'], ['umbrella', 'umbrellas'], ['orange', 'oranges'], ['envelope', 'envelopes'],
];

/** Transitive verbs: past tense, present third person, present plural. */
const ACTIONS: readonly (readonly [string, string, string])[] = [
  ['carried', 'carries', 'carry'], ['sold', 'sells', 'sell'], ['bought', 'buys', 'buy'], ['found', 'finds', 'find'],
  ['counted', 'counts', 'count'], ['mended', 'mends', 'mend'], ['painted', 'paints', 'paint'], ['wrapped', 'wraps', 'wrap'],
  ['lost', 'loses', 'lose'], ['cleaned', 'cleans', 'clean'], ['hid', 'hides', 'hide'], ['gathered', 'gathers', 'gather'],
];

/** Animals for present-tense facts: singular, plural, what they do (singular, plural). */
const ANIMALS: readonly (readonly [string, string, string, string])[] = [
  ['dog', 'dogs', 'barks at strangers', 'bark at strangers'],
  ['cat', 'cats', 'sleeps by the fire', 'sleep by the fire'],
  ['horse', 'horses', 'pulls the cart', 'pull the cart'],
  ['goose', 'geese', 'walks to the pond', 'walk to the pond'],
  ['owl', 'owls', 'watches from the barn', 'watch from the barn'],
  ['hen', 'hens', 'lays an egg each morning', 'lay eggs each morning'],
  ['fox', 'foxes', 'waits near the fence', 'wait near the fence'],
  ['crow', 'crows', 'sits on the roof', 'sit on the roof'],
];

const SMALL_NUMBERS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

/** English words for 0..99 ("forty-two"). */
function numberWord(value: number): string {
  if (value < 20) return SMALL_NUMBERS[value] ?? String(value);
  const tens = TENS[Math.floor(value / 10)] ?? '';
  const units = value % 10;
  return units === 0 ? tens : `${tens}-${SMALL_NUMBERS[units]}`;
}

function article(word: string): string {
  // "an honest", but "a young": the sound decides, not only the letter.
  return /^(?:[aeiou]|hon)/.test(word) ? `an ${word}` : `a ${word}`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function count(amount: number, thing: readonly [string, string], asWord: boolean): string {
  const written = asWord ? numberWord(amount) : String(amount);
  return `${written} ${amount === 1 ? thing[0] : thing[1]}`;
}

/** A paragraph that follows one character through a day, in the past tense. */
function story(): string {
  const hero = person();
  const friend = person();
  const trade = pick(TRADES);
  const place = pick(PLACES);
  const sentences: string[] = [];
  sentences.push(`${hero.name} was ${article(`${pick(ADJECTIVES)} ${trade}`)} who lived near ${place}.`);
  if (chance(0.6)) {
    sentences.push(`The morning was ${pick(WEATHER)}, and the wind came from the ${pick(DIRECTIONS)}.`);
  }
  const extra = between(2, 4);
  for (let i = 0; i < extra; i++) {
    const action = pick(ACTIONS);
    const thing = pick(THINGS);
    const amount = between(1, 30);
    switch (between(0, 5)) {
      case 0:
        sentences.push(`Every ${pick(DAYS)}, ${hero.subject} walked to ${pick(PLACES)} and ${action[0]} ${count(amount, thing, true)}.`);
        break;
      case 1:
        sentences.push(`On ${pick(MONTHS)} ${between(1, 28)}, ${hero.name} ${action[0]} ${count(amount, thing, false)} for ${between(2, 90)} coins.`);
        break;
      case 2: {
        const more = between(1, 20);
        const verb = chance(0.5) ? 'found' : 'was given';
        sentences.push(
          `${capitalize(hero.subject)} had ${count(amount, thing, false)}, then ${hero.subject} ${verb} ${more} more, so now ${hero.subject} had ${count(amount + more, thing, false)}.`,
        );
        break;
      }
      case 3:
        sentences.push(
          `"How many ${thing[1]} do you have?" asked ${friend.name}. "I have ${count(amount, thing, true)}," said ${hero.name}.`,
        );
        break;
      case 4:
        sentences.push(`At ${between(5, 11)}:${pick(['00', '15', '30', '45'])} ${hero.subject} met ${friend.name} at ${pick(PLACES)}, and they ${action[0]} ${count(amount, thing, true)} together.`);
        break;
      default:
        sentences.push(`${friend.name} thanked ${hero.object} for ${hero.possessive} help, and ${hero.name} went home before dark.`);
    }
  }
  return sentences.join(' ');
}

/** Present-tense facts that exercise singular/plural agreement. */
function facts(): string {
  const sentences: string[] = [];
  const n = between(2, 4);
  for (let i = 0; i < n; i++) {
    const animal = pick(ANIMALS);
    const amount = between(1, 9);
    if (amount === 1) {
      sentences.push(`The ${animal[0]} ${animal[2]}.`);
    } else {
      sentences.push(`${capitalize(numberWord(amount))} ${animal[1]} ${animal[3]}.`);
    }
  }
  const action = pick(ACTIONS);
  const thing = pick(THINGS);
  sentences.push(chance(0.5)
    ? `The ${pick(TRADES)} ${action[1]} ${thing[1]} on ${pick(DAYS)}s.`
    : `The ${pick(TRADES)}s ${action[2]} ${thing[1]} on ${pick(DAYS)}s.`);
  return sentences.join(' ');
}

/** A ship's log: days count upward, miles and catches vary. */
function logbook(): string {
  const start = between(1, 60);
  const lines: string[] = [`From the log of the ${pick(['Swift', 'Heron', 'Mary Ann', 'North Star', 'Albatross', 'Good Hope'])}:`];
  const days = between(3, 6);
  for (let i = 0; i < days; i++) {
    const fish = between(0, 14);
    lines.push(`Day ${start + i}: ${between(5, 60)} miles, wind from the ${pick(DIRECTIONS)}, ${fish === 1 ? 'one fish' : `${numberWord(fish)} fish`}.`);
  }
  return lines.join('\n');
}

/** Simple sums written out in words and digits. */
function arithmetic(): string {
  const sentences: string[] = [];
  const n = between(2, 3);
  for (let i = 0; i < n; i++) {
    const a = between(1, 40);
    const b = between(1, 40);
    sentences.push(chance(0.5)
      ? `${capitalize(numberWord(a))} and ${numberWord(b)} make ${numberWord(a + b)}.`
      : `${a} plus ${b} is ${a + b}.`);
  }
  return sentences.join(' ');
}

function generate(): string {
  const parts: string[] = [];
  let chapter = 1;
  let size = 0;
  while (size < TARGET_BYTES) {
    if (parts.length === 0 || chance(0.04)) {
      parts.push(`CHAPTER ${chapter}`);
      chapter += 1;
    }
    const roll = random();
    const paragraph = roll < 0.55 ? story() : roll < 0.75 ? facts() : roll < 0.88 ? logbook() : arithmetic();
    parts.push(paragraph);
    size += paragraph.length + 2;
  }
  return `${parts.join('\n\n')}\n`;
}

const text = generate();
if (!/^[\x0a\x20-\x7e]*$/.test(text)) throw new Error('corpus must be printable ASCII');
const dataDirectory = join(import.meta.dirname, 'data');
mkdirSync(dataDirectory, { recursive: true });
writeFileSync(join(dataDirectory, 'corpus.txt'), text);
console.log(`wrote ${text.length} bytes to data/corpus.txt`);
