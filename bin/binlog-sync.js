#!/usr/bin/env node
// Thin launcher: all behaviour lives in the built CLI (dist/cli/main.js).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv);
