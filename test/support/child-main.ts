// Child scripts under test/ are started by a test as `node --import tsx <file> <args>`; a broad uvu pattern (`uvu test
// node`) would import them as test files too, with uvu's own arguments (node-child.ts once wrote test/state.json).
// They do their work only when they are the main module.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const isMainModule = (url: string): boolean => !!process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === url;
