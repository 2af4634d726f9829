// Types of ascii-bundle.mjs (plain JavaScript: prepare.mjs runs before anything is compiled), for the tests.
export function asciiText(text: string): { text: string; refused?: undefined } | { refused: string; text?: undefined };
