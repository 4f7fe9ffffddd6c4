#!/usr/bin/env node
// The `postcache` command (cli/postcache.ts, built into dist/lib/cli.js).
import "../dist/lib/cli.js";
